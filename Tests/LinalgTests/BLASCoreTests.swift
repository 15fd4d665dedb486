import Foundation
import Testing
@testable import Linalg

/// `BLAS.core` in the test process itself (which links the same start-up selection as the CLI):
/// OpenBLAS names its kernels, and a replaced Prescott fallback is reported as such.
struct BLASCoreInProcessTests {
    @Test func coreIsNamedAndAReplacementIsConsistent() {
        let core = BLAS.core
        #expect(core.name != "unknown", "OpenBLAS did not name its kernels")
        if let replaced = core.replaced {
            #expect(replaced == "Prescott")
            #expect(core.name.lowercased() != "prescott")
            #expect(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil)
        }
        if ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] != nil { #expect(core.replaced == nil) }
    }
}
