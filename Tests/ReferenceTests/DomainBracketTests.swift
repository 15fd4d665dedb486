import Foundation
import KappaTestSupport
import Linalg
import ONNX
import Sensitivity
import Testing
@testable import Reference

/// The bracket [ℓ, L] on a declared input domain (DESIGN.md §1.8), on small models of every
/// domain rule: a squeeze-excitation gate (Mul of variables), one-head attention (MatMul of
/// variables, Softmax mid-graph, LayerNormalization), a LayerNorm MLP, a Div by a positive
/// variable, and a hand-written softmax (Exp, ReduceSum, Div of variables).
/// Soundness: L ≥ ‖J(x)‖₂ at 100 seeded points of the box, J by central differences of the
/// float64 reference evaluator and ‖·‖₂ by LAPACK (dgesdd); ℓ ≤ L. Closed forms where the two
/// ends meet: a linear layer, and a ReLU layer on a domain where every unit is active.
struct DomainBracketTests {
    static func load(_ spec: ModelSpec, _ name: String) throws -> ModelGraph { try IntervalTests.load(spec, name) }

    static func seBlock(sigmoid: Bool) -> ModelSpec {
        var b = NetworkBuilder(seed: 31)
        let x = b.input("x", shape: [1, 4, 3, 3])
        var g = b.node("GlobalAveragePool", [x], shape: [1, 4, 1, 1])
        g = b.relu(b.conv(g, outChannels: 2, kernel: [1, 1]))
        g = b.conv(g, outChannels: 4, kernel: [1, 1])
        g = sigmoid ? b.unary("Sigmoid", g) : b.unary("HardSigmoid", g, attributes: [("alpha", .float(1.0 / 6)), ("beta", .float(0.5))])
        b.output(b.node("Mul", [x, g], shape: [1, 4, 3, 3]))
        return b.model()
    }

    static func layerNormMLP() -> ModelSpec {
        var b = NetworkBuilder(seed: 32)
        var t = b.input("x", shape: [1, 6])
        t = b.gemm(t, outFeatures: 8)
        let gamma = b.constant("gamma", dims: [8], values: (0..<8).map { 0.8 + Float($0) * 0.07 })
        let beta = b.constant("beta", dims: [8], values: (0..<8).map { Float($0) * 0.02 - 0.05 })
        t = b.node("LayerNormalization", [t, gamma, beta], shape: [1, 8], attributes: [("axis", .int(-1))])
        t = b.gemm(b.relu(t), outFeatures: 3)
        b.output(t)
        return b.model()
    }

    /// y = (W₁x) / (softplus(W₂x) + 0.5): the denominator is ≥ 0.5 on any domain.
    static func divByPositive() -> ModelSpec {
        var b = NetworkBuilder(seed: 33)
        let x = b.input("x", shape: [1, 5])
        let num = b.gemm(x, outFeatures: 4)
        let den = b.node("Add", [b.unary("Softplus", b.gemm(x, outFeatures: 4)), b.constant("half", dims: [], values: [0.5])], shape: [1, 4])
        b.output(b.node("Div", [num, den], shape: [1, 4]))
        return b.model()
    }

    /// exp(Wx) / Σ exp(Wx): Softmax written out (Exp, ReduceSum, Div of two variables).
    static func manualSoftmax() -> ModelSpec {
        var b = NetworkBuilder(seed: 34)
        let x = b.input("x", shape: [1, 4])
        let e = b.unary("Exp", b.gemm(x, outFeatures: 5))
        let axes = b.constant("axes", dims: [1], values: [1])
        _ = axes
        let s = b.node("ReduceSum", [e], shape: [1, 1], attributes: [("axes", .ints([1])), ("keepdims", .int(1))])
        b.output(b.node("Div", [e, s], shape: [1, 5]))
        return b.model(opset: 12)
    }

    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var spec: @Sendable () -> ModelSpec
        var shape: [Int]
        var range: ClosedRange<Float>
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "SE block (HardSigmoid gate)", spec: { seBlock(sigmoid: false) }, shape: [1, 4, 3, 3], range: -1...1),
        Case(name: "SE block (Sigmoid gate)", spec: { seBlock(sigmoid: true) }, shape: [1, 4, 3, 3], range: 0...1),
        Case(name: "one-head attention + LayerNorm", spec: { IntervalTests.attention(seq: 3, d: 4) }, shape: [1, 3, 4], range: -1...1),
        Case(name: "LayerNorm MLP", spec: layerNormMLP, shape: [1, 6], range: -1...1),
        Case(name: "Div by a positive variable", spec: divByPositive, shape: [1, 5], range: -2...2),
        Case(name: "softmax written out", spec: manualSoftmax, shape: [1, 4], range: -1...1),
    ]

    /// ‖J(x)‖₂ of the float64 evaluator at `x`, J by central differences (h = 1e-6·(1 + |x|)).
    static func jacobianNorm(_ model: Float64Model, input: String, output: String, at x: [Double], shape: [Int]) throws -> Double {
        func f(_ v: [Double]) throws -> [Double] {
            guard let y = try model.run([input: Float64Model.T(v: v, s: shape)])[output] else { throw Float64Model.Unsupported(op: "no output") }
            return y.v
        }
        let m = try f(x).count
        var jac = [Double](repeating: 0, count: m * x.count)  // row-major m × n
        for j in 0..<x.count {
            let h = 1e-6 * (1 + abs(x[j]))
            var xp = x, xm = x
            xp[j] += h
            xm[j] -= h
            let (yp, ym) = (try f(xp), try f(xm))
            for i in 0..<m { jac[i * x.count + j] = (yp[i] - ym[i]) / (2 * h) }
        }
        return try SpectralNorm.singularValues(jac, rows: m, cols: x.count).first ?? 0
    }

    static func bracket(_ g: ModelGraph, box: TensorBounds, budget: Double = 3) throws -> AnalysisResult {
        let domain = InputDomain(bounds: ["x": box], sources: ["x": .declared], descriptions: ["x (test box)"])
        return try DomainAnalysis.run(g, options: AnalysisOptions(norm: .operator, spectral: SpectralOptions(exact: true), threads: 1),
                                      domain: domain, empirical: false, lower: LowerBound.Options(budget: budget, seed: 3))
    }

    @Test(arguments: cases)
    func upperBoundsEveryJacobianAndLowerStaysBelow(_ c: Case) throws {
        let g = try Self.load(c.spec(), c.name.replacingOccurrences(of: " ", with: "_"))
        let box = TensorBounds(shape: c.shape, lo: c.range.lowerBound, hi: c.range.upperBound)
        let r = try Self.bracket(g, box: box)
        let L = r.network.eq7.operator
        #expect(L.isFinite && L > 0, "\(c.name): L = \(L), findings \(r.findings.map(\.message))")
        let bracket = try #require(r.bracket)
        let lower = try #require(bracket.lower)
        #expect(lower.value > 0 && lower.value <= L, "\(c.name): ℓ = \(lower.value), L = \(L)")
        #expect(!r.findings.contains { $0.rule == .boundViolated })
        let model = Float64Model(g: g)
        let output = r.network.output.tensor
        var rng = TestRandom(seed: 77)
        var worst = 0.0
        let n = c.shape.reduce(1, *)
        for _ in 0..<100 {
            let x = (0..<n).map { _ in rng.uniform(Double(c.range.lowerBound), Double(c.range.upperBound)) }
            worst = max(worst, try Self.jacobianNorm(model, input: "x", output: output, at: x, shape: c.shape))
        }
        #expect(worst <= L * (1 + 1e-6), "\(c.name): max ‖J‖ \(worst) above the sound bound \(L)")
        // ℓ is certified: at the point the search reports, the float64 Jacobian is at least ℓ
        // (up to the float32 reverse pass and the finite differences).
        let search = try LowerBound.search(engine: try Engine(graph: g, output: output, input: "x"), lo: box.lo, hi: box.hi, feeds: [:],
                                           options: LowerBound.Options(budget: 1, seed: 5))
        #expect(search.x.count == n && zip(search.x, zip(box.lo, box.hi)).allSatisfy { $0 >= $1.0 && $0 <= $1.1 })
        let atPoint = try Self.jacobianNorm(model, input: "x", output: output, at: search.x.map(Double.init), shape: c.shape)
        #expect(atPoint >= search.value * (1 - 1e-3), "\(c.name): ℓ = \(search.value) but ‖J‖ = \(atPoint) at its point")
        #expect(worst > 0)
        print("bracket \(c.name): ℓ = \(lower.value), max FD ‖J‖ at 100 points = \(worst), L = \(L), L/ℓ = \(L / lower.value)")
    }

    @Test func endsMeetOnALinearLayer() throws {
        var b = NetworkBuilder(seed: 35)
        b.output(b.gemm(b.input("x", shape: [1, 7]), outFeatures: 5))
        let g = try Self.load(b.model(), "linear")
        let r = try Self.bracket(g, box: TensorBounds(shape: [1, 7], lo: 0, hi: 1))
        let L = r.network.eq7.operator, l = try #require(r.bracket?.lower?.value)
        // ℓ is certified up to the float32 rounding of its reverse pass (the 1e-5 that
        // DomainAnalysis allows before calling it KAPPA005); L is the float64 σ.
        #expect(l <= L * (1 + 1e-5) && l >= L * (1 - 1e-4), "ℓ \(l) and L \(L) should meet on a linear map")
    }

    @Test func endsMeetOnAnAllActiveReluLayer() throws {
        // W > 0 and b > 0 on x ∈ [0, 1]: every pre-activation is positive, ReLU is the identity
        // there, J = W everywhere and L = σ(W).
        var b = NetworkBuilder(seed: 36)
        let x = b.input("x", shape: [1, 6])
        var rng = SeededRandom(seed: 9)
        let w = b.constant("W", dims: [4, 6], values: rng.gaussians(24, scale: 1).map { abs($0) + 0.1 })
        let bias = b.constant("B", dims: [4], values: [0.1, 0.2, 0.3, 0.4])
        let y = b.node("Gemm", [x, w, bias], shape: [1, 4], attributes: [("transB", .int(1))])
        b.output(b.relu(y))
        let g = try Self.load(b.model(), "active_relu")
        let r = try Self.bracket(g, box: TensorBounds(shape: [1, 6], lo: 0, hi: 1))
        let L = r.network.eq7.operator, l = try #require(r.bracket?.lower?.value)
        // Up to ℓ's float32 rounding, as above (it came out 3.5e-8 above L with the SkylakeX kernels).
        #expect(l <= L * (1 + 1e-5) && l >= L * (1 - 1e-4), "ℓ \(l) and L \(L) should meet where every unit is active")
    }

    /// A divisor whose interval contains 0: without a domain the Div is KAPPA006 (a domain
    /// might bound it); on a declared domain where the divisor still reaches 0 it is KAPPA003,
    /// "unbounded on the declared input domain", not a request to declare one.
    @Test func divisorReachingZeroOnTheDomainIsNamedAsSuch() throws {
        var b = NetworkBuilder(seed: 37)
        let x = b.input("x", shape: [1, 3])
        b.output(b.node("Div", [b.gemm(x, outFeatures: 2), b.gemm(x, outFeatures: 2)], shape: [1, 2]))
        let g = try Self.load(b.model(), "div_zero")
        let plain = try SensitivityAnalysis.run(g, options: AnalysisOptions(norm: .operator, threads: 1))
        #expect(plain.findings.map(\.rule) == [.needsDomain], "\(plain.findings)")
        let r = try Self.bracket(g, box: TensorBounds(shape: [1, 3], lo: -1, hi: 1), budget: 0)
        #expect(r.network.eq7.operator == .infinity)
        #expect(r.findings.map(\.rule) == [.unboundedOp], "\(r.findings)")
        #expect(r.findings.first?.message.contains("on the declared input domain") == true)
        #expect(r.findings.first?.message.contains("declare one") == false)
    }
}
