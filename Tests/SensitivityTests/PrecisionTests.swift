import Sensitivity
import Testing

/// DESIGN.md §1.5 and the paper's Table I.
@Test(arguments: [(101.78, 2.01, 8), (651.06, 2.81, 11), (12.00, 1.08, 5)])
func tableOneExamples(kappa: Double, digits: Double, bits: Int) {
    let p = Precision(kappa: kappa)
    #expect(abs((p.digits ?? -1) - digits) < 0.005)
    #expect(p.bits == bits)
}

@Test func precisionEdgeCases() {
    #expect(Precision(kappa: .infinity).bits == nil)
    #expect(Precision(kappa: .infinity).digits == nil)
    #expect(Precision(kappa: 0.5).bits == 1)
    #expect(Precision(kappa: 0.5).digits == 0)
    // An exact power of two: ⌈log2 8⌉ + 1 = 4.
    #expect(Precision(kappa: 8).bits == 4)
}
