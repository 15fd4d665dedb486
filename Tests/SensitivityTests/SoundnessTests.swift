import Foundation
import KappaTestSupport
import ONNX
import Sensitivity
import Testing

/// Soundness: on small random models covering every op family of the table, the operator
/// mode Eq. 7 bound is ≥ ‖J(x)‖₂ measured by central finite differences at random points
/// (a Lipschitz bound must dominate every local Jacobian norm).
struct SoundnessTests {
    static func cnn() -> ModelSpec {
        var b = NetworkBuilder(seed: 21)
        var t = b.input("x", shape: [1, 2, 6, 6])
        t = b.conv(t, outChannels: 4, kernel: [3, 3], pads: [1, 1, 1, 1])
        let gm = b.constant("bn_g", dims: [4], values: [1.5, -0.7, 2.0, 0.3])
        let bt = b.constant("bn_b", dims: [4], values: [0.1, 0, -0.2, 0.3])
        let mn = b.constant("bn_m", dims: [4], values: [0.0, 0.5, -0.1, 0.2])
        let vr = b.constant("bn_v", dims: [4], values: [0.5, 1.2, 0.8, 2.0])
        t = b.node("BatchNormalization", [t, gm, bt, mn, vr], shape: b.shapes[t])
        t = b.relu(t)
        t = b.lrn(t, size: 3, alpha: 0.5, beta: 0.75, bias: 1)
        t = b.maxPool(t, kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1])
        t = b.conv(t, outChannels: 4, kernel: [3, 3], strides: [2, 2], group: 2)
        t = b.pool("AveragePool", t, kernel: [2, 2], strides: [1, 1], pads: [1, 1, 0, 0])
        let s = b.unary("Sigmoid", t)
        t = b.node("Mul", [t, s], shape: b.shapes[t])  // SiLU
        t = b.node("GlobalAveragePool", [t], shape: [1, 4, 1, 1])
        t = b.flatten(t)
        t = b.gemm(t, outFeatures: 3)
        b.output(t)
        return b.model()
    }

    static func residual() -> ModelSpec {
        var b = NetworkBuilder(seed: 22)
        let x = b.input("x", shape: [1, 2, 4, 4])
        var a = b.conv(x, outChannels: 2, kernel: [3, 3], pads: [1, 1, 1, 1])
        a = b.unary("LeakyRelu", a, attributes: [("alpha", .float(1.3))])
        var t = b.add(x, a)  // residual
        // HardSwish as exporters write it: t · Clip(t + 3, 0, 6) / 6
        let three = b.constant("three", dims: [], values: [3]), zero = b.constant("zero", dims: [], values: [0])
        let six = b.constant("six", dims: [], values: [6])
        let c = b.node("Clip", [b.node("Add", [t, three], shape: b.shapes[t]), zero, six], shape: b.shapes[t])
        t = b.node("Div", [b.node("Mul", [t, c], shape: b.shapes[t]), six], shape: b.shapes[t])
        let side = b.unary("Tanh", b.conv(x, outChannels: 2, kernel: [1, 1]))
        t = b.concat([t, side], axis: 1)
        let scale = b.constant("chan_scale", dims: [1, 4, 1, 1], values: [0.5, -2, 1.5, 0.25])
        t = b.node("Mul", [t, scale], shape: b.shapes[t])
        let shift = b.constant("shift", dims: [1], values: [0.3])
        t = b.node("Sub", [t, shift], shape: b.shapes[t])
        let sc = b.constant("scales", dims: [4], values: [1, 1, 2, 2])
        let roi = b.constant("roi", dims: [0], values: [])
        t = b.node("Resize", [t, roi, sc], shape: [1, 4, 8, 8], attributes: [("mode", .string("nearest"))])
        t = b.unary("HardSigmoid", t)
        t = b.flatten(t)
        let w = b.heWeight("mm_w", dims: [256, 3])
        t = b.node("MatMul", [t, w], shape: [1, 3])
        t = b.unary("Softplus", b.unary("HardSwish", t))
        b.output(t)
        return b.model()
    }

    @Test(arguments: ["cnn", "residual"])
    func boundDominatesFiniteDifferenceJacobian(model: String) throws {
        let spec = model == "cnn" ? Self.cnn() : Self.residual()
        let g = try loadGraph(spec)
        let r = try SensitivityAnalysis.run(g, options: .init(norm: .operator, spectral: .init(exact: true), threads: 2))
        #expect(r.findings.isEmpty, "\(r.findings)")
        let bound = r.network.eq7.operator
        #expect(bound.isFinite && bound > 0)
        let ev = TinyEvaluator(g: g)
        let n = try #require(g.shapes["x"]).reduce(1, *)
        var rng = SeededRandom(seed: 99)
        var worst = 0.0
        for _ in 0..<4 {
            let x = rng.gaussians(n, scale: 1.5).map(Double.init)
            worst = max(worst, try ev.jacobianNorm(at: x, output: r.network.output.tensor))
        }
        #expect(worst > 0)
        #expect(worst <= bound * (1 + 1e-6), "‖J‖ = \(worst) > bound \(bound)")
        // The matrix-mode value is the paper's estimator: never above the sound one.
        #expect(r.network.eq7.matrix <= bound * (1 + 1e-12))
    }
}
