import Foundation
import KappaTestSupport
import ONNX
import Sensitivity
import Testing
@testable import Reference

/// Whole models from a finite box: every tensor gets finite bounds, and the float64 values at
/// 200 points of the box lie inside them.
extension IntervalTests {
    static func load(_ spec: ModelSpec, _ name: String) throws -> ModelGraph {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kappa-intervals-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(name + ".onnx").path
        try ONNXWriter.write(spec, to: path)
        return try ModelGraph(model: try ModelLoader.load(path: path))
    }

    /// Conv → BatchNormalization → Relu → MaxPool → Conv (stride 2) → Relu → Flatten → Gemm → Softmax.
    static func cnn() -> ModelSpec {
        var b = NetworkBuilder(seed: 21)
        var t = b.input("x", shape: [1, 3, 12, 12])
        t = b.conv(t, outChannels: 6, kernel: [3, 3], pads: [1, 1, 1, 1])
        // γ, β, mean, variance (positive).
        let gamma: [Float] = [1.2, 0.8, -0.9, 1, 0.6, 1.4], beta: [Float] = [0.1, -0.2, 0, 0.3, -0.1, 0.05]
        let mean: [Float] = [0.05, -0.1, 0.2, 0, 0.1, -0.05], variance: [Float] = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
        let bn = [b.constant("bn_scale", dims: [6], values: gamma), b.constant("bn_bias", dims: [6], values: beta),
                  b.constant("bn_mean", dims: [6], values: mean), b.constant("bn_var", dims: [6], values: variance)]
        t = b.node("BatchNormalization", [t] + bn, shape: b.shapes[t])
        t = b.relu(t)
        t = b.maxPool(t, kernel: [2, 2], strides: [2, 2])
        t = b.relu(b.conv(t, outChannels: 8, kernel: [3, 3], strides: [2, 2]))
        t = b.gemm(b.flatten(t), outFeatures: 10)
        b.output(b.softmax(t))
        return b.model()
    }

    /// Squeeze-and-excitation: GlobalAveragePool → Conv 1×1 → Relu → Conv 1×1 → HardSigmoid → Mul.
    static func seBlock() -> ModelSpec {
        var b = NetworkBuilder(seed: 22)
        let x = b.input("x", shape: [1, 8, 6, 6])
        var g = b.node("GlobalAveragePool", [x], shape: [1, 8, 1, 1])
        g = b.relu(b.conv(g, outChannels: 2, kernel: [1, 1]))
        g = b.conv(g, outChannels: 8, kernel: [1, 1])
        g = b.unary("HardSigmoid", g, attributes: [("alpha", .float(1.0 / 6)), ("beta", .float(0.5))])
        b.output(b.node("Mul", [x, g], shape: [1, 8, 6, 6]))
        return b.model()
    }

    /// One attention head with a residual and LayerNormalization.
    static func attention(seq: Int = 4, d: Int = 8) -> ModelSpec {
        var b = NetworkBuilder(seed: 23)
        let x = b.input("x", shape: [1, seq, d])
        let proj = (0..<4).map { b.heWeight("W\($0)", dims: [d, d]) }
        let q = b.node("MatMul", [x, proj[0]], shape: [1, seq, d]), k = b.node("MatMul", [x, proj[1]], shape: [1, seq, d])
        let v = b.node("MatMul", [x, proj[2]], shape: [1, seq, d])
        let kt = b.node("Transpose", [k], shape: [1, d, seq], attributes: [("perm", .ints([0, 2, 1]))])
        var s = b.node("MatMul", [q, kt], shape: [1, seq, seq])
        s = b.node("Mul", [s, b.constant("scale", dims: [], values: [1 / Float(d).squareRoot()])], shape: [1, seq, seq])
        let p = b.node("Softmax", [s], shape: [1, seq, seq], attributes: [("axis", .int(-1))])
        let a = b.node("MatMul", [b.node("MatMul", [p, v], shape: [1, seq, d]), proj[3]], shape: [1, seq, d])
        let r = b.node("Add", [x, a], shape: [1, seq, d])
        let gamma = b.constant("gamma", dims: [d], values: (0..<d).map { 1 + Float($0) * 0.05 })
        let beta = b.constant("beta", dims: [d], values: (0..<d).map { Float($0) * 0.01 - 0.02 })
        b.output(b.node("LayerNormalization", [r, gamma, beta], shape: [1, seq, d], attributes: [("axis", .int(-1))]))
        return b.model()
    }

    static let models: [(String, @Sendable () -> ModelSpec, [Int], ClosedRange<Float>)] = [
        ("CNN", cnn, [1, 3, 12, 12], 0...1), ("SE block", seBlock, [1, 8, 6, 6], -1...1), ("attention", { attention() }, [1, 4, 8], -1...1),
    ]

    @Test("whole models get finite, sound bounds from a finite box", arguments: [0, 1, 2])
    func models(_ which: Int) throws {
        let (name, spec, shape, range) = Self.models[which]
        let g = try Self.load(spec(), name)
        for (label, box) in [("full box", TensorBounds(shape: shape, lo: range.lowerBound, hi: range.upperBound)),
                             ("narrow box", IntervalCheck.box(shape, seed: 4, centre: 0.5, widths: [0.01]))] {
            let domain = ["x": box]
            let bounds = try IntervalEvaluator.bounds(graph: g, domain: domain)
            let out = try #require(g.graph.outputs.first?.name)
            #expect(bounds[out]?.isFinite == true, "\(name), \(label): the output is unbounded")
            for (t, b) in bounds { #expect(b.isFinite, "\(name), \(label): '\(t)' is unbounded") }
            let report = try IntervalCheck.float64(g, domain, bounds: bounds)
            #expect(report.violations.isEmpty, "\(name), \(label): \(report)")
            #expect(report.checked > 200 * 100)
        }
    }

    static let opCases = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("OpCases")

    @Test("an If on an int64 input (silero-vad style): both branches, finite and sound")
    func ifWithIntegerInput() throws {
        let path = Self.opCases.appendingPathComponent("family_if_weights_sr_input/model.onnx").path
        let g = try ModelGraph(model: try ModelLoader.load(path: path))
        let x = try #require(g.inputs.first { $0.name == "x" })
        let domain = [x.name: TensorBounds(shape: [1, 16], lo: -1, hi: 1)]
        let bounds = try IntervalEvaluator.bounds(graph: g, domain: domain)
        // sr has no domain: its type's range; the condition is then undecided and the merge is
        // the union of the two branches.
        #expect(bounds["sr"].map { $0.lo[0] <= -9e18 && $0.hi[0] >= 9e18 } == true)
        for o in g.graph.outputs { #expect(bounds[o.name]?.isFinite == true, "\(o.name) is unbounded") }
        let report = try IntervalCheck.float64(g, domain, bounds: bounds.filter { $0.key != "sr" },
                                               extraFeeds: [["sr": [16000]], ["sr": [8000]]])
        #expect(report.violations.isEmpty, "\(report)")
        #expect(report.points == 400)
        // A point for sr decides the condition: the taken branch only, inside the union.
        let decided = try IntervalEvaluator.bounds(graph: g, domain: domain.merging(["sr": TensorBounds(shape: [], lo: 16000, hi: 16000)]) { a, _ in a })
        for o in g.graph.outputs {
            let (u, t) = (try #require(bounds[o.name]), try #require(decided[o.name]))
            #expect(zip(t.lo, u.lo).allSatisfy { $0 >= $1 } && zip(t.hi, u.hi).allSatisfy { $0 <= $1 })
        }
    }
}
