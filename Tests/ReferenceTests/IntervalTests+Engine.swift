import Foundation
import ONNX
import Sensitivity
import Testing
@testable import Reference

/// Data movement and max pooling through the engine's own kernels: the engine computes them
/// exactly, so its values must lie in the bounds with no slack. ConvTranspose against the
/// engine with the engine's proven rounding as slack.
extension IntervalTests {
    static let movement: [Case] = [
        Case(op: OpCase(label: "Slice steps", op: "Slice", inputs: [("x", [4, 6])],
                        constants: [ints("s", [3, 1]), ints("e", [0, 6]), ints("a", [0, 1]), ints("t", [-1, 2])])),
        Case(op: OpCase(label: "Pad constant value", op: "Pad", inputs: [("x", [2, 3])], constants: [ints("p", [1, 0, 0, 2]), floats("v", [], [7])])),
        Case(op: OpCase(label: "Pad reflect", op: "Pad", inputs: [("x", [2, 4])], constants: [ints("p", [0, 2, 0, 1])],
                        attributes: ["mode": .string("reflect")])),
        Case(op: OpCase(label: "Split", op: "Split", inputs: [("x", [2, 5])], constants: [ints("n", [2, 3])],
                        attributes: ["axis": .int(1)], outputs: ["y0", "y1"], opset: 13)),
        Case(op: OpCase(label: "Squeeze", op: "Squeeze", inputs: [("x", [2, 1, 3])], constants: [ints("a", [1])], opset: 13)),
        Case(op: OpCase(label: "Unsqueeze", op: "Unsqueeze", inputs: [("x", [2, 3])], constants: [ints("a", [0, 3])], opset: 13)),
        Case(op: OpCase(label: "Reshape", op: "Reshape", inputs: [("x", [2, 6])], constants: [ints("s", [3, -1])])),
        Case(op: OpCase(label: "Resize nearest ×2", op: "Resize", inputs: [("x", [1, 1, 2, 3])],
                        constants: [floats("roi", [0], []), floats("sc", [4], [1, 1, 2, 2])])),
        Case(op: OpCase(label: "MaxPool dilations", op: "MaxPool", inputs: [("x", [1, 2, 6, 6])],
                        attributes: ["kernel_shape": .ints([2, 2]), "dilations": .ints([2, 2])])),
        Case(op: OpCase(label: "Dropout", op: "Dropout", inputs: [("x", [2, 3])], opset: 13)),
    ]

    @Test("data movement through the engine's kernels is sound and exact", arguments: movement)
    func movementSound(_ c: Case) throws {
        let g = try c.op.graph()
        let domain = c.domain()
        let bounds = try IntervalEvaluator.bounds(graph: g, domain: domain)
        for o in c.op.outputs {
            let b = try #require(bounds[o])
            #expect(b.isFinite)
        }
        let report = try IntervalCheck.engine(g, domain, bounds: bounds.filter { c.op.outputs.contains($0.key) },
                                              output: c.op.outputs[0], input: c.op.inputs[0].0)
        #expect(report.violations.isEmpty, "\(report)")
        // Moving points moves points: a point box gives point bounds.
        var point = domain
        for (k, b) in point { point[k] = TensorBounds(shape: b.shape, lo: b.lo, hi: b.lo) }
        let exact = try IntervalEvaluator.bounds(graph: g, domain: point)
        #expect(exact[c.op.outputs[0]].map { $0.lo == $0.hi } == true)
    }

    @Test("ConvTranspose is sound against the engine with its proven rounding as slack")
    func convTranspose() throws {
        let weight = Self.w("w", [2, 3, 3, 2], 31)
        let op = OpCase(label: "ConvTranspose", op: "ConvTranspose", inputs: [("x", [1, 2, 3, 4])], constants: [weight, Self.w("b", [3], 32)],
                        attributes: ["strides": .ints([2, 1]), "pads": .ints([1, 0, 0, 1]), "output_padding": .ints([1, 0])])
        let g = try op.graph()
        let domain = ["x": Box.mixed.bounds([1, 2, 3, 4], seed: 5)]
        let bounds = try IntervalEvaluator.bounds(graph: g, domain: domain)
        let y = try #require(bounds["y"])
        #expect(y.isFinite)
        // |fl(Wx + b) − (Wx + b)| ≤ γ_{K+1}·(|W|·|x| + |b|) ≤ 2γ_{K+1}·fl(|W|·|x| + |b|), K = C·Πk.
        let absolute = OpCase(label: "abs", op: "ConvTranspose", inputs: op.inputs,
                              constants: [Tensor(name: "w", dims: weight.dims, floats: weight.floats().map(abs)),
                                          Tensor(name: "b", dims: [3], floats: Self.w("b", [3], 32).floats().map(abs))],
                              attributes: op.attributes)
        let absEngine = try Engine(graph: try absolute.graph(), output: "y", input: "x")
        let g2 = 2 * Outward.gamma(2 * 6 + 1)
        let report = try IntervalCheck.engine(g, domain, bounds: ["y": y], output: "y", input: "x") { _, i, trace in
            let x = trace.values["x"]?.data.map(abs) ?? []
            let magnitude = (try? absEngine.forward(Value(shape: [1, 2, 3, 4], data: x)).result.data[i]) ?? .infinity
            return g2 * Double(magnitude)
        }
        #expect(report.violations.isEmpty, "\(report)")
        #expect(report.checked > 1000)
    }

    /// One linear layer: centre and radius are its exact range (the vertices' hull) up to the
    /// rounding margins.
    @Test("a linear layer's bounds are its exact range within 0.1 %")
    func linearTightness() throws {
        for (label, op) in [("Gemm", OpCase(label: "Gemm", op: "Gemm", inputs: [("x", [2, 16])], constants: [Self.w("w", [8, 16], 41), Self.w("c", [8], 42)],
                                            attributes: ["transB": .int(1)])),
                            ("Conv", OpCase(label: "Conv", op: "Conv", inputs: [("x", [1, 3, 6, 6])], constants: [Self.w("w", [4, 3, 3, 3], 43)],
                                            attributes: ["pads": .ints([1, 1, 1, 1])]))] {
            let g = try op.graph()
            let x = Box.mixed.bounds(op.inputs[0].1, seed: 9)
            let y = try #require(try IntervalEvaluator.bounds(graph: g, domain: ["x": x])["y"])
            // Exact range in float64: f(c) ± |W|·r, by the float64 reference on the centre and on |W|, r.
            let c = x.lo.indices.map { (Double(x.lo[$0]) + Double(x.hi[$0])) / 2 }, r = x.lo.indices.map { (Double(x.hi[$0]) - Double(x.lo[$0])) / 2 }
            let centre = try #require(try Float64Model(g: g).run(["x": .init(v: c, s: x.shape)])["y"])
            var absolute = op
            absolute.constants = op.constants.prefix(1).map { Tensor(name: $0.name, dims: $0.dims, floats: $0.floats().map(abs)) }
            absolute.order = [op.inputs[0].0, op.constants[0].name]
            let radius = try #require(try Float64Model(g: try absolute.graph()).run(["x": .init(v: r, s: x.shape)])["y"])
            for i in 0..<y.count {
                let (lo, hi) = (centre.v[i] - radius.v[i], centre.v[i] + radius.v[i])
                #expect(Double(y.lo[i]) <= lo && Double(y.hi[i]) >= hi, "\(label)[\(i)] misses the exact range")
                #expect(Double(y.hi[i]) - Double(y.lo[i]) <= (hi - lo) * 1.001 + 1e-6, "\(label)[\(i)] is \((Double(y.hi[i]) - Double(y.lo[i])) / (hi - lo))× the exact width")
            }
        }
    }
}
