import Foundation
import KappaTestSupport
import ONNX
import Sensitivity
import Testing
@testable import Reference

/// Random small models: seeded chains of shape-preserving layers on a (1, 4, 5, 5) tensor —
/// convolutions, normalizations, activations, residual sums, gates, products and quotients of
/// two branches, pooling, softmax — ending in GlobalAveragePool → Flatten → Gemm. Each must get
/// finite bounds from a finite box, and its float64 values at 200 points must lie inside.
extension IntervalTests {
    static func randomChain(seed: UInt64, length: Int = 7) -> ModelSpec {
        var b = NetworkBuilder(seed: seed)
        var r = TestRandom(seed: seed &* 7919)
        let shape = [1, 4, 5, 5]
        var t = b.input("x", shape: shape)
        func conv(_ x: String) -> String { b.conv(x, outChannels: 4, kernel: [3, 3], pads: [1, 1, 1, 1]) }
        for _ in 0..<length {
            switch r.next() % 14 {
            case 0: t = conv(t)
            case 1: t = b.relu(conv(t))
            case 2: t = b.unary(["Sigmoid", "Tanh", "HardSwish", "Gelu", "Softplus", "Elu", "Mish"][Int(r.next() % 7)], t)
            case 3:
                let values: [[Float]] = [[1.2, 0.7, -0.8, 1], [0.1, 0, -0.2, 0.3], [0, 0.2, -0.1, 0.05], [0.5, 0.7, 0.9, 1.1]]
                let stats = values.map { b.constant(b.fresh("bn"), dims: [4], values: $0) }
                t = b.node("BatchNormalization", [t] + stats, shape: shape)
            case 4: t = b.add(t, conv(t))
            case 5: t = b.node("Mul", [t, b.unary("Sigmoid", conv(t))], shape: shape)
            case 6: t = b.node("Mul", [t, conv(t)], shape: shape)
            case 7:
                let one = b.constant(b.fresh("one"), dims: [], values: [1])
                t = b.node("Div", [t, b.node("Add", [one, b.node("Mul", [t, t], shape: shape)], shape: shape)], shape: shape)
            case 8:
                t = b.node(r.next() % 2 == 0 ? "MaxPool" : "AveragePool", [t], shape: shape,
                           attributes: [("kernel_shape", .ints([3, 3])), ("pads", .ints([1, 1, 1, 1]))])
            case 9: t = b.node("Softmax", [t], shape: shape, attributes: [("axis", .int(1))])
            case 10:
                let gamma = b.constant(b.fresh("g"), dims: [5], values: [1, 0.5, -1, 2, 1]), beta = b.constant(b.fresh("b"), dims: [5], values: [0, 0.1, 0, -0.2, 0.3])
                t = b.node("LayerNormalization", [t, gamma, beta], shape: shape, attributes: [("axis", .int(-1))])
            case 11:
                b.graph.initializers.append(.int64(b.fresh("axes"), dims: [2], values: [2, 3]))
                let mean = b.node("ReduceMean", [t, b.graph.initializers[b.graph.initializers.count - 1].name], shape: [1, 4, 1, 1])
                t = b.node("Sub", [t, mean], shape: shape)
            case 12: t = b.node("Exp", [b.unary("Tanh", t)], shape: shape)
            default:
                let lo = b.constant(b.fresh("lo"), dims: [], values: [-0.5]), hi = b.constant(b.fresh("hi"), dims: [], values: [0.8])
                t = b.node("Clip", [t, lo, hi], shape: shape)
            }
        }
        t = b.flatten(b.node("GlobalAveragePool", [t], shape: [1, 4, 1, 1]))
        b.output(b.gemm(t, outFeatures: 3))
        return b.model(opset: 20)
    }

    @Test("random small models are sound and finite", arguments: Array(UInt64(1)...12))
    func randomModels(_ seed: UInt64) throws {
        let g = try Self.load(Self.randomChain(seed: seed), "chain\(seed)")
        let domain = ["x": IntervalCheck.box([1, 4, 5, 5], seed: seed, centre: 1, widths: [0, 0.05, 0.3])]
        let bounds = try IntervalEvaluator.bounds(graph: g, domain: domain)
        for (t, b) in bounds { #expect(b.isFinite, "seed \(seed): '\(t)' (\(g.producerNode(of: t)?.opType ?? "input")) is unbounded") }
        let report = try IntervalCheck.float64(g, domain, bounds: bounds)
        #expect(report.violations.isEmpty, "seed \(seed): \(report)")
        #expect(report.points == 200)
    }
}
