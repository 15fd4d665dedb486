import Foundation
import KappaTestSupport
import ONNX
import Sensitivity
import Testing

/// Table constants (DESIGN.md §1.2) against Jacobian norms measured by finite differences.
struct LipschitzConstantTests {
    /// One-node model x → op → y, with the node's L from the analysis.
    func single(_ op: String, shape: [Int], outShape: [Int]? = nil, attributes: [(String, AttrSpec)]) throws -> (ModelGraph, Double, String) {
        var b = NetworkBuilder(seed: 1)
        let x = b.input("x", shape: shape)
        let y = b.node(op, [x], shape: outShape ?? shape, attributes: attributes)
        b.output(y)
        let g = try loadGraph(b.model())
        let r = try SensitivityAnalysis.run(g, options: .init(threads: 1))
        return (g, r.network.eq7.operator, y)
    }

    @Test func lrnConstantMatchesAlexNetAndDominatesJacobian() throws {
        #expect(abs(LipschitzTable.lrnConstant(size: 5, beta: 0.75, bias: 1) - 1.908) < 1e-3)
        let attrs: [(String, AttrSpec)] = [("size", .int(3)), ("alpha", .float(1)), ("beta", .float(0.75)), ("bias", .float(1))]
        let (g, l, y) = try single("LRN", shape: [1, 4, 1, 1], attributes: attrs)
        #expect(abs(l - LipschitzTable.lrnConstant(size: 3, beta: 0.75, bias: 1)) < 1e-12)
        let ev = TinyEvaluator(g: g)
        var rng = SeededRandom(seed: 5)
        var worst = 0.0
        // Scales around the worst case D = k(β+1)/β, i.e. (α/n)Σx² ≈ 1.33.
        for scale in [0.3, 1.0, 1.4, 2.0, 4.0] {
            for _ in 0..<20 {
                worst = max(worst, try ev.jacobianNorm(at: rng.gaussians(4, scale: scale).map(Double.init), output: y))
            }
        }
        #expect(worst > 0.5)
        #expect(worst <= l, "LRN ‖J‖ \(worst) > \(l)")
    }

    @Test(arguments: [
        ([3, 3], [1, 1], [1, 1, 1, 1]),  // overlapping, padded: c = 9
        ([3, 3], [2, 2], [0, 0, 0, 0]),  // AlexNet-style: c = 4
        ([2, 2], [2, 2], [0, 0, 0, 0]),  // no overlap: c = 1
    ])
    func maxPoolIsRootCAndTight(kernel: [Int], strides: [Int], pads: [Int]) throws {
        let (h, w) = (7, 7)
        let oh = (h + pads[0] + pads[2] - kernel[0]) / strides[0] + 1, ow = (w + pads[1] + pads[3] - kernel[1]) / strides[1] + 1
        let (g, l, y) = try single("MaxPool", shape: [1, 1, h, w], outShape: [1, 1, oh, ow],
                                   attributes: [("kernel_shape", .ints(kernel)), ("strides", .ints(strides)), ("pads", .ints(pads))])
        let ev = TinyEvaluator(g: g)
        // A spike in the middle is the max of every window containing it: ‖J‖ = √c exactly.
        var x = (0..<(h * w)).map { Double($0 % 5) * 0.01 }
        x[4 * w + 4] = 10
        let spike = try ev.jacobianNorm(at: x, output: y)
        #expect(abs(spike - l) < 1e-6 * l, "spike ‖J‖ \(spike) vs √c \(l)")
        var rng = SeededRandom(seed: 8)
        for _ in 0..<5 {
            #expect(try ev.jacobianNorm(at: rng.gaussians(h * w).map(Double.init), output: y) <= l + 1e-6)
        }
    }

    @Test(arguments: [0, 1])
    func averagePoolDominatesJacobian(includePad: Int) throws {
        let (g, l, y) = try single("AveragePool", shape: [1, 1, 5, 5], outShape: [1, 1, 5, 5],
                                   attributes: [("kernel_shape", .ints([3, 3])), ("strides", .ints([1, 1])),
                                                ("pads", .ints([1, 1, 1, 1])), ("count_include_pad", .int(includePad))])
        let measured = try TinyEvaluator(g: g).jacobianNorm(at: (0..<25).map { Double($0) }, output: y)
        #expect(measured <= l + 1e-9)
        #expect(measured >= 0.5 * l)  // not absurdly loose
    }

    @Test func globalAveragePoolIsOneOverRootHW() throws {
        let (_, l, _) = try single("GlobalAveragePool", shape: [1, 3, 4, 4], outShape: [1, 3, 1, 1], attributes: [])
        #expect(abs(l - 0.25) < 1e-12)
    }

    @Test(arguments: [
        ("Relu", [(String, AttrSpec)](), 1.0), ("Sigmoid", [], 0.25), ("Tanh", [], 1.0),
        ("LeakyRelu", [("alpha", .float(2))], 2.0), ("Elu", [("alpha", .float(0.5))], 1.0),
        ("HardSigmoid", [("alpha", .float(0.2))], 0.2), ("HardSwish", [], 1.5), ("Gelu", [], 1.129),
    ])
    func activationConstants(op: String, attributes: [(String, AttrSpec)], expected: Double) throws {
        let (_, l, _) = try single(op, shape: [1, 4], attributes: attributes)
        #expect(abs(l - expected) < 1e-6)
    }

    @Test func gatePatterns() throws {
        func gated(_ build: (inout NetworkBuilder, String) -> String) throws -> AnalysisResult {
            var b = NetworkBuilder(seed: 2)
            let x = b.input("x", shape: [1, 4])
            b.output(build(&b, x))
            return try analyze(b.model())
        }
        // SiLU: x · Sigmoid(x).
        let silu = try gated { b, x in b.node("Mul", [x, b.unary("Sigmoid", x)], shape: [1, 4]) }
        #expect(abs(silu.network.eq7.operator - LipschitzTable.siluConstant) < 1e-12)
        // HardSwish: x · HardSigmoid(x) (PyTorch exports α = 1/6).
        let hs = try gated { b, x in
            b.node("Mul", [b.unary("HardSigmoid", x, attributes: [("alpha", .float(1.0 / 6))]), x], shape: [1, 4])
        }
        #expect(abs(hs.network.eq7.operator - 1.5) < 1e-6)
        // x · Relu(x) = x² for x > 0: unbounded, with the reason.
        let sq = try gated { b, x in b.node("Mul", [x, b.relu(x)], shape: [1, 4]) }
        #expect(sq.network.eq7.operator == .infinity)
        #expect(sq.findings.first?.rule == .needsDomain)
    }
}
