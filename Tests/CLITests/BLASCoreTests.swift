import Foundation
import Testing

/// OpenBLAS kernel selection (Sources/CBLASCore/BLASCore.c): a DYNAMIC_ARCH OpenBLAS that does not
/// know the CPU falls back to its SSE3 "Prescott" kernels; Kappa then installs the AVX-512 or AVX2
/// kernels the CPU runs, never overriding OPENBLAS_CORETYPE, and the norms do not depend on it.
/// The CPU's abilities come independently from the kernel's /proc/cpuinfo flags.
struct BLASCoreTests {
    /// The cores OpenBLAS announces with OPENBLAS_VERBOSE=2, one "Core: X" line per initialisation.
    static func cores(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").compactMap { $0.hasPrefix("Core: ") ? String($0.dropFirst(6)) : nil }
    }

    /// The first processor's flags in /proc/cpuinfo (nil off Linux).
    static var cpuFlags: Set<String>? {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }),
              let colon = line.firstIndex(of: ":") else { return nil }
        return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
    }

    @Test func anExplicitCoreTypeIsObeyed() throws {
        let dir = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (code, _, err) = try CLITests.run(["inspect", "tiny.onnx"], in: dir,
                                              environment: ["OPENBLAS_CORETYPE": "Prescott", "OPENBLAS_VERBOSE": "2"])
        #expect(code == 0)
        #expect(Self.cores(err) == ["Prescott"], "stderr: \(err)")
    }

    @Test func thePrescottFallbackIsReplacedWhenTheCPUDoesBetter() throws {
        let dir = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (code, _, err) = try CLITests.run(["inspect", "tiny.onnx"], in: dir,
                                              environment: ["OPENBLAS_CORETYPE": nil, "OPENBLAS_VERBOSE": "2"])
        #expect(code == 0)
        let cores = Self.cores(err)
        let flags = Self.cpuFlags ?? []
        let avx512 = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains)
        let avx2 = flags.contains("avx2") && flags.contains("fma")
        if cores.first?.lowercased() == "prescott" && (avx512 || avx2) {
            #expect(cores.count == 2, "stderr: \(err)")
            #expect(cores.last == (avx512 ? "SkylakeX" : "Haswell"), "stderr: \(err)")
        } else {
            // OpenBLAS knew the CPU (or it cannot do better): its choice stands, initialised once.
            #expect(cores.count <= 1, "stderr: \(err)")
        }
    }

    /// Every number of `analyze --norm operator` agrees between the Prescott kernels and the ones
    /// Kappa selects: 1e-5 relative (the Lanczos tolerance is 1e-6; the kernels differ only in
    /// summation order).
    @Test func normsDoNotDependOnTheKernels() throws {
        let dir = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        func numbers(_ core: String?) throws -> [String: Double] {
            let (code, out, err) = try CLITests.run(["analyze", "tiny.onnx", "--norm", "operator", "--exact", "--format", "json"],
                                                    in: dir, environment: ["OPENBLAS_CORETYPE": core])
            #expect(code == 0, "stderr: \(err)")
            var found: [String: Double] = [:]
            func walk(_ v: Any, _ path: String) {
                if let d = v as? [String: Any] { for (k, x) in d { walk(x, path + "/" + k) } }
                else if let a = v as? [Any] { for (i, x) in a.enumerated() { walk(x, path + "/\(i)") } }
                else if let n = v as? NSNumber { found[path] = n.doubleValue }
            }
            walk(try JSONSerialization.jsonObject(with: Data(out.utf8)), "")
            return found
        }
        let prescott = try numbers("Prescott"), chosen = try numbers(nil)
        #expect(prescott.count > 20)
        #expect(Set(prescott.keys) == Set(chosen.keys))
        let sigmas = prescott.keys.filter { $0.contains("sigma") || $0.contains("eq7") || $0.contains("lipschitz") }
        #expect(sigmas.count >= 8)
        for key in sigmas {
            let a = prescott[key] ?? .nan, b = chosen[key] ?? .nan
            #expect(abs(a - b) <= 1e-5 * max(abs(a), abs(b)), "\(key): Prescott \(a), selected \(b)")
        }
    }
}
