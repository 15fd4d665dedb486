import Foundation
import KappaTestSupport
import Linalg
import ONNX
import Sensitivity
import Testing

/// DESIGN.md §1.9: folding and positive diagonal rescaling. References: LAPACK on the dense
/// scaled matrices (closed forms), and central differences of the float64 `TinyEvaluator`.
struct RescalingTests {
    /// conv(3×3) → ReLU → conv(3×3) → MaxPool → conv(1×1) → flatten → Gemm, with conv1's
    /// output channel 0 multiplied by c and channel 1 by 1/c and conv2's input channels by the
    /// inverse (the same function for every c > 0).
    static func imbalanced(c: Float) -> ModelSpec {
        var b = NetworkBuilder(seed: 5)
        var rng = SeededRandom(seed: 77)
        let x = b.input("x", shape: [1, 2, 6, 6])
        var w1 = rng.gaussians(4 * 2 * 9, scale: 0.4)
        var w2 = rng.gaussians(4 * 4 * 9, scale: 0.3)
        var b1 = rng.gaussians(4, scale: 0.1)
        for k in 0..<18 { w1[k] *= c; w1[18 + k] /= c }
        b1[0] *= c; b1[1] /= c
        for o in 0..<4 { for k in 0..<9 { w2[(o * 4 + 0) * 9 + k] /= c; w2[(o * 4 + 1) * 9 + k] *= c } }
        let attrs: [(String, AttrSpec)] = [("kernel_shape", .ints([3, 3])), ("pads", .ints([1, 1, 1, 1]))]
        var t = b.node("Conv", [x, b.constant("w1", dims: [4, 2, 3, 3], values: w1), b.constant("b1", dims: [4], values: b1)],
                       shape: [1, 4, 6, 6], attributes: attrs)
        t = b.relu(t)
        t = b.node("Conv", [t, b.constant("w2", dims: [4, 4, 3, 3], values: w2)], shape: [1, 4, 6, 6], attributes: attrs)
        t = b.maxPool(t, kernel: [2, 2], strides: [2, 2])
        t = b.conv(t, outChannels: 3, kernel: [1, 1])
        t = b.flatten(t)
        t = b.gemm(t, outFeatures: 5)
        b.output(t)
        return b.model()
    }

    @Test func optimisedBoundIsInvariantToRescalingAcrossReLU() throws {
        var plain: [Double] = [], optimised: [Double] = []
        for c: Float in [1, 10, 1000] {
            let r = try analyze(Self.imbalanced(c: c))
            let t = try #require(r.network.tightening)
            plain.append(r.network.eq7.operator)
            optimised.append(t.rescaled.operator)
            #expect(t.rescaled.operator <= r.network.eq7.operator * (1 + 1e-12))
        }
        // Today's product grows like c² (σ(W1) ∝ c, σ(W2) ∝ c once c dominates).
        #expect(plain[2] / plain[1] > 0.5 * 1e4, "\(plain)")
        // The optimised bound does not depend on c: within 0.5 % (the search stops after a
        // bounded number of steps, from starting points that differ by the float32 rounding of
        // the weights; measured 127.22 / 127.25 / 127.25, plain 157 / 8.5e3 / 8.4e7).
        for v in optimised { #expect(relClose(v, optimised[0], 5e-3), "\(optimised)") }
        #expect(optimised[0] <= plain[0] * (1 + 1e-12))
    }

    /// 1×1 convolutions with orthogonal 4 × 4 weights (scaled Hadamard matrices): σ(D·H) = max d,
    /// σ(H′·D⁻¹) = 1/min d, so no D beats D = I and the bound must equal today's.
    @Test func identityIsOptimalForOrthogonalLayers() throws {
        var b = NetworkBuilder(seed: 3)
        let h: [Float] = [1, 1, 1, 1, 1, -1, 1, -1, 1, 1, -1, -1, 1, -1, -1, 1].map { $0 * 0.5 * 1.7 }
        let h2: [Float] = [1, -1, 1, 1, 1, 1, -1, 1, 1, 1, 1, -1, -1, 1, 1, 1].map { $0 * 0.5 * 0.6 }  // rows orthogonal
        let attrs: [(String, AttrSpec)] = [("kernel_shape", .ints([1, 1]))]
        var t = b.input("x", shape: [1, 4, 3, 3])
        t = b.node("Conv", [t, b.constant("h1", dims: [4, 4, 1, 1], values: h)], shape: [1, 4, 3, 3], attributes: attrs)
        t = b.relu(t)
        t = b.node("Conv", [t, b.constant("h2", dims: [4, 4, 1, 1], values: h2)], shape: [1, 4, 3, 3], attributes: attrs)
        b.output(t)
        let r = try analyze(b.model())
        let t2 = try #require(r.network.tightening)
        // 1e-6: the weights are float32 (0.85 and 0.3 are not exact), and the search's own norms
        // are float32 iterations; the kept point's norms are exact (LAPACK on the scaled copy).
        #expect(relClose(r.network.eq7.operator, 1.7 * 0.6, 1e-6))
        #expect(relClose(t2.rescaled.operator, r.network.eq7.operator, 1e-6), "\(t2.rescaled) vs \(r.network.eq7)")
        #expect(t2.rescaled.operator >= 1.7 * 0.6 * (1 - 1e-6))  // no D can beat the orthogonal chain
    }

    /// conv(1×1) → BN → ReLU → conv(1×1): folding gives σ(diag|s|·W1)·σ(W2) (LAPACK on the
    /// dense matrices), not max|s|·σ(W1)·σ(W2).
    @Test func batchNormFoldsIntoThePrecedingConvolution() throws {
        var b = NetworkBuilder(seed: 9)
        var rng = SeededRandom(seed: 12)
        let w1 = rng.gaussians(5 * 3, scale: 0.5), w2 = rng.gaussians(2 * 5, scale: 0.5)
        let gamma: [Float] = [3, -0.2, 0.5, 1.5, -4], variance: [Float] = [1, 0.5, 2, 0.1, 1.3]
        let attrs: [(String, AttrSpec)] = [("kernel_shape", .ints([1, 1]))]
        var t = b.input("x", shape: [1, 3, 2, 2])
        t = b.node("Conv", [t, b.constant("w1", dims: [5, 3, 1, 1], values: w1)], shape: [1, 5, 2, 2], attributes: attrs)
        t = b.node("BatchNormalization", [t, b.constant("g", dims: [5], values: gamma), b.constant("be", dims: [5], values: [0, 0.1, 0, 0, 0.2]),
                                          b.constant("mu", dims: [5], values: [0.1, 0, 0, 0.3, 0]), b.constant("var", dims: [5], values: variance)],
                   shape: [1, 5, 2, 2], attributes: [("epsilon", .float(1e-5))])
        t = b.relu(t)
        t = b.node("Conv", [t, b.constant("w2", dims: [2, 5, 1, 1], values: w2)], shape: [1, 2, 2, 2], attributes: attrs)
        b.output(t)
        let r = try analyze(b.model())
        let tt = try #require(r.network.tightening)
        let s = (0..<5).map { Double(gamma[$0]) / (Double(variance[$0]) + 1e-5).squareRoot() }
        let sw1 = (0..<15).map { abs(s[$0 / 3]) * Double(w1[$0]) }
        let expected = try SpectralNormRef.largest(sw1, rows: 5, cols: 3) * SpectralNormRef.largest(w2.map(Double.init), rows: 2, cols: 5)
        let plain = try SpectralNormRef.largest(w1.map(Double.init), rows: 5, cols: 3) * s.map(abs).max()!
            * SpectralNormRef.largest(w2.map(Double.init), rows: 2, cols: 5)
        #expect(relClose(r.network.eq7.operator, plain, 1e-6))
        #expect(relClose(tt.folded.operator, expected, 1e-6), "folded \(tt.folded.operator) vs \(expected)")
        #expect(tt.folded.operator < plain)
        #expect(tt.rescaled.operator <= tt.folded.operator * (1 + 1e-12))
        #expect(tt.foldedChannels == 5)
    }

    /// Random small CNNs with BatchNormalization, residual blocks and a concat: the folded and
    /// rescaled bounds dominate ‖J(x)‖₂ (central differences of the float64 evaluator).
    static func randomCNN(seed: UInt64) -> ModelSpec {
        var b = NetworkBuilder(seed: seed)
        var rng = SeededRandom(seed: seed &* 31 &+ 7)
        func bn(_ t: String, _ c: Int) -> String {
            let g = rng.gaussians(c, scale: 2), v = rng.gaussians(c, scale: 1).map { $0 * $0 + 0.05 }
            return b.node("BatchNormalization", [t, b.constant(b.fresh("g"), dims: [c], values: g),
                                                 b.constant(b.fresh("be"), dims: [c], values: rng.gaussians(c, scale: 0.1)),
                                                 b.constant(b.fresh("mu"), dims: [c], values: rng.gaussians(c, scale: 0.1)),
                                                 b.constant(b.fresh("var"), dims: [c], values: v)], shape: b.shapes[t])
        }
        let x = b.input("x", shape: [1, 2, 5, 5])
        var t = b.relu(bn(b.conv(x, outChannels: 4, kernel: [3, 3], pads: [1, 1, 1, 1], bias: false), 4))
        // Residual block: t + BN(conv(ReLU(BN(conv(t))))).
        var r = b.relu(bn(b.conv(t, outChannels: 4, kernel: [3, 3], pads: [1, 1, 1, 1]), 4))
        r = bn(b.conv(r, outChannels: 4, kernel: [3, 3], pads: [1, 1, 1, 1]), 4)
        t = b.relu(b.add(t, r))
        // Concat of two branches along channels, then a per-channel Mul and a pool.
        let p1 = b.relu(b.conv(t, outChannels: 3, kernel: [1, 1]))
        let p2 = b.maxPool(b.conv(t, outChannels: 2, kernel: [3, 3], pads: [1, 1, 1, 1]), kernel: [3, 3], strides: [1, 1], pads: [1, 1, 1, 1])
        t = b.concat([p1, p2], axis: 1)
        let scale = b.constant("cs", dims: [1, 5, 1, 1], values: rng.gaussians(5, scale: 3))
        t = b.node("Mul", [t, scale], shape: b.shapes[t])
        t = b.pool("AveragePool", t, kernel: [2, 2], strides: [1, 1])
        t = b.relu(t)
        t = b.flatten(t)
        t = b.gemm(t, outFeatures: 3)
        b.output(t)
        return b.model()
    }

    /// A tf2onnx-style layout: convolutions in NCHW, then Transpose to NHWC and Reshape to
    /// (1, H·W·C) before MatMul layers, a Keras BatchNorm written as Mul/Add on the features,
    /// PRelu with per-channel slopes. The channel follows its elements through the Transpose
    /// and the channel-last flatten; the bounds still dominate ‖J‖ and rescaling helps.
    static func channelLast(seed: UInt64) -> ModelSpec {
        var b = NetworkBuilder(seed: seed)
        var rng = SeededRandom(seed: seed &+ 5)
        let x = b.input("x", shape: [1, 2, 4, 4])
        var t = b.conv(x, outChannels: 3, kernel: [3, 3], pads: [1, 1, 1, 1])
        t = b.node("PRelu", [t, b.constant("slope", dims: [3, 1, 1], values: [0.1, 0.3, 0.05])], shape: b.shapes[t])
        t = b.conv(t, outChannels: 4, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1])
        t = b.relu(t)
        t = b.node("Transpose", [t], shape: [1, 2, 2, 4], attributes: [("perm", .ints([0, 2, 3, 1]))])
        b.graph.initializers.append(.int64("shape", dims: [2], values: [1, 16]))
        t = b.node("Reshape", [t, "shape"], shape: [1, 16])
        t = b.node("MatMul", [t, b.constant("m1", dims: [16, 6], values: rng.gaussians(96, scale: 0.5))], shape: [1, 6])
        t = b.relu(t)
        t = b.node("Mul", [t, b.constant("bn_s", dims: [6], values: rng.gaussians(6, scale: 4))], shape: [1, 6])
        t = b.node("Add", [t, b.constant("bn_b", dims: [6], values: rng.gaussians(6, scale: 0.1))], shape: [1, 6])
        t = b.node("MatMul", [t, b.constant("m2", dims: [6, 3], values: rng.gaussians(18, scale: 0.5))], shape: [1, 3])
        b.output(t)
        return b.model()
    }

    @Test(arguments: [UInt64(4), 5])
    func channelLastLayoutsRescaleSoundly(seed: UInt64) throws {
        let g = try loadGraph(Self.channelLast(seed: seed))
        let r = try SensitivityAnalysis.run(g, options: .init(norm: .matrix, spectral: .init(exact: true), threads: 2))
        let t = try #require(r.network.tightening)
        #expect(t.foldedChannels == 6)
        // Free scaling groups: conv1's 3 channels (through PRelu), conv2's 4 (through ReLU,
        // Transpose and the channel-last Reshape into MatMul), m1's 6 (tied to the Mul's 6).
        #expect(t.freeScalings == 13)
        #expect(t.folded.operator < r.network.eq7.operator)
        #expect(t.rescaled.operator <= t.folded.operator * (1 + 1e-12))
        let ev = TinyEvaluator(g: g)
        var rng = SeededRandom(seed: seed &+ 2000)
        var worst = 0.0
        for _ in 0..<4 {
            let x = rng.gaussians(32, scale: 1.5).map(Double.init)
            worst = max(worst, try ev.jacobianNorm(at: x, output: r.network.output.tensor))
        }
        #expect(worst > 0)
        #expect(worst <= t.rescaled.operator * (1 + 1e-6), "‖J‖ = \(worst) > rescaled bound \(t.rescaled.operator)")
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func foldedAndRescaledBoundsDominateFiniteDifferenceJacobians(seed: UInt64) throws {
        let g = try loadGraph(Self.randomCNN(seed: seed))
        for norm in NormMode.allCases {
            let r = try SensitivityAnalysis.run(g, options: .init(norm: norm, spectral: .init(exact: true), threads: 2))
            let t = try #require(r.network.tightening)
            #expect(t.rescaled.operator <= t.folded.operator * (1 + 1e-12))
            #expect(t.rescaled.operator <= r.network.eq7.operator * (1 + 1e-12))
            #expect(t.folded.operator < r.network.eq7.operator, "BN folding must help here: \(t.folded) vs \(r.network.eq7)")
            let ev = TinyEvaluator(g: g)
            let n = try #require(g.shapes["x"]).reduce(1, *)
            var rng = SeededRandom(seed: seed &+ 1000)
            var worst = 0.0
            for _ in 0..<4 {
                let x = rng.gaussians(n, scale: 1.5).map(Double.init)
                worst = max(worst, try ev.jacobianNorm(at: x, output: r.network.output.tensor))
            }
            #expect(worst > 0)
            #expect(worst <= t.rescaled.operator * (1 + 1e-6), "‖J‖ = \(worst) > rescaled bound \(t.rescaled.operator) (\(norm))")
            #expect(worst <= t.folded.operator * (1 + 1e-6))
        }
    }
}
