import Foundation
import KappaTestSupport
import ONNX
import Sensitivity
import Testing
@testable import Reference

/// What the evaluator promises besides soundness: `needed`, domain overrides, inputs without
/// a domain, no guesses for unknown ops, infinite bounds flowing through, and refusals.
extension IntervalTests {
    @Test("needed keeps only the requested tensors, with the same bounds")
    func neededTensors() throws {
        let g = try Self.load(Self.cnn(), "cnn")
        let domain = ["x": TensorBounds(shape: [1, 3, 12, 12], lo: 0, hi: 1)]
        let all = try IntervalEvaluator.bounds(graph: g, domain: domain)
        let out = try #require(g.graph.outputs.first?.name)
        let weight = try #require(g.constants.keys.sorted().first)
        let some = try IntervalEvaluator.bounds(graph: g, domain: domain, needed: [out, weight])
        #expect(Set(some.keys) == [out, weight])
        #expect(some[out] == all[out])
        #expect(some[weight].map { $0.lo == $0.hi } == true)
        #expect(all.count >= 10)
    }

    @Test("a domain entry for an internal tensor overrides its producer")
    func internalOverride() throws {
        let g = try Self.load(Self.seBlock(), "se")
        let mul = try #require(g.graph.nodes.first { $0.opType == "Mul" })
        let gate = mul.inputs[1]
        let x = TensorBounds(shape: [1, 8, 6, 6], lo: -1, hi: 2)
        let b = try IntervalEvaluator.bounds(graph: g, domain: ["x": x, gate: TensorBounds(shape: [1, 8, 1, 1], lo: 0.5, hi: 0.5)])
        let y = try #require(b[mul.outputs[0]])
        #expect(y.lo.allSatisfy { $0 == -0.5 } && y.hi.allSatisfy { $0 == 1 })
    }

    @Test("integer inputs without a domain get their type's range; a lookup gets the table's column hulls")
    func integerInputs() throws {
        let table = Tensor(name: "table", dims: [5, 3], floats: (0..<15).map { Float($0 % 7) - 3 })
        let node = Node(name: "lookup", opType: "Gather", inputs: ["table", "ids"], outputs: ["e"])
        let graph = Graph(name: "embedding", nodes: [node], initializers: [table],
                          inputs: [ValueInfo(name: "ids", elementType: .int64, shape: [.value(2)])],
                          outputs: [ValueInfo(name: "e", elementType: .float, shape: nil)])
        let g = try ModelGraph(model: Model(path: "embedding.onnx", irVersion: 8, producerName: "tests", producerVersion: "1",
                                            opsets: ["": 17], graph: graph))
        let b = try IntervalEvaluator.bounds(graph: g, domain: [:])
        #expect(b["ids"].map { $0.lo[0] == -0x1p63 && $0.hi[0] >= 0x1p63 } == true)
        let e = try #require(b["e"])
        #expect(e.shape == [2, 3])
        let values = table.floats()
        for col in 0..<3 {
            let column = (0..<5).map { values[$0 * 3 + col] }
            #expect(e.lo[col] == column.min() && e.hi[col] == column.max() && e.lo[3 + col] == column.min())
        }
        // Known ids: exact rows.
        let exact = try IntervalEvaluator.bounds(graph: g, domain: ["ids": TensorBounds(shape: [2], lo: [4, 1], hi: [4, 1])])
        #expect(exact["e"]?.lo == [Float](values[12..<15]) + values[3..<6])
    }

    @Test("an op without a rule is unbounded, and so is everything it feeds: no guesses")
    func unknownOps() throws {
        let g = try Self.load(SmallModels.withUnsupported(), "unsupported")
        let b = try IntervalEvaluator.bounds(graph: g, domain: ["x": TensorBounds(shape: [1, 4], lo: -1, hi: 1)])
        let custom = try #require(g.graph.nodes.first { $0.domain == "com.example" })
        let first = try #require(g.graph.nodes.first { $0.opType == "Gemm" })
        #expect(b[first.outputs[0]]?.isFinite == true)
        for n in g.graph.nodes where n.opType != "Gemm" || n.name != first.name {
            for o in n.outputs { #expect(b[o].map { !$0.isFinite } ?? true, "'\(o)' downstream of \(custom.name) is finite") }
        }
    }

    @Test("−∞ in an additive mask flows through Softmax: masked entries are exactly 0")
    func infiniteMask() throws {
        let mask = Tensor(name: "mask", dims: [1, 4], floats: [0, 0, -.infinity, 0])
        let nodes = [Node(name: "add", opType: "Add", inputs: ["x", "mask"], outputs: ["s"]),
                     Node(name: "softmax", opType: "Softmax", inputs: ["s"], outputs: ["p"], attributes: ["axis": .int(-1)])]
        let graph = Graph(name: "masked", nodes: nodes, initializers: [mask],
                          inputs: [ValueInfo(name: "x", elementType: .float, shape: [.value(2), .value(4)])],
                          outputs: [ValueInfo(name: "p", elementType: .float, shape: nil)])
        let g0 = try ModelGraph(model: Model(path: "masked.onnx", irVersion: 8, producerName: "tests", producerVersion: "1", opsets: ["": 17], graph: graph))
        let domain = ["x": Box.mixed.bounds([2, 4], seed: 8)]
        let b = try IntervalEvaluator.bounds(graph: g0, domain: domain)
        let p = try #require(b["p"])
        #expect(p.lo[2] == 0 && p.hi[2] == 0 && p.lo[6] == 0 && p.hi[6] == 0, "\(p) from \(String(describing: b["s"]))")
        #expect(p.lo.allSatisfy { $0 >= 0 } && p.hi.allSatisfy { $0 <= 1 })
        let report = try IntervalCheck.float64(g0, domain, bounds: ["p": p])
        #expect(report.violations.isEmpty, "\(report)")
    }

    @Test("refusals: a tensor beyond the engine's limit, bounds of the wrong shape or inverted")
    func refusals() throws {
        let huge = Graph(name: "huge", nodes: [Node(name: "relu", opType: "Relu", inputs: ["x"], outputs: ["y"])], initializers: [],
                         inputs: [ValueInfo(name: "x", elementType: .float, shape: [.value(2), .value(1 << 30)])],
                         outputs: [ValueInfo(name: "y", elementType: .float, shape: nil)])
        let g = try ModelGraph(model: Model(path: "huge.onnx", irVersion: 8, producerName: "tests", producerVersion: "1", opsets: ["": 17], graph: huge))
        #expect(throws: ReferenceError.tooLarge(tensor: "x", elements: 1 << 31)) { try IntervalEvaluator.bounds(graph: g, domain: [:]) }
        let small = try OpCase(label: "relu", op: "Relu", inputs: [("x", [2, 3])]).graph()
        #expect(throws: ReferenceError.self) { try IntervalEvaluator.bounds(graph: small, domain: ["x": TensorBounds(shape: [3, 2], lo: 0, hi: 1)]) }
        #expect(throws: ReferenceError.self) { try IntervalEvaluator.bounds(graph: small, domain: ["x": TensorBounds(shape: [2, 3], lo: 1, hi: 0)]) }
        #expect(throws: ReferenceError.self) { try IntervalEvaluator.bounds(graph: small, domain: ["x": TensorBounds(shape: [2, 3], lo: [0], hi: [1])]) }
    }

    @Test("directed rounding lands on the requested side")
    func directedRounding() {
        var r = TestRandom(seed: 77)
        for _ in 0..<2000 {
            let a = Double(Float(r.uniform(-1e3, 1e3))), b = r.uniform(-1, 1) * pow(10, r.uniform(-8, 8))
            // Float80 (64-bit significand) holds a + b and a/3·3 exactly enough to decide the side.
            let sum = Float80(a) + Float80(b)
            #expect(Float80(Outward.addDown(a, b)) <= sum && Float80(Outward.addUp(a, b)) >= sum)
            #expect(Float80(Outward.divDown(a, 3)) * 3 <= Float80(a) && Float80(Outward.divUp(a, 3)) * 3 >= Float80(a))
            let d = a * 1.000000123
            #expect(Double(Outward.floatDown(d)) <= d && Double(Outward.floatUp(d)) >= d)
            #expect(Outward.sqrtDown(abs(a)) * Outward.sqrtDown(abs(a)) <= abs(a) * (1 + 1e-15))
        }
        // Exact results stay exact; overflow keeps a sound side.
        #expect(Outward.addDown(0.5, 0.25) == 0.75 && Outward.mulUp(3, 0.5) == 1.5 && Outward.floatDown(0.75) == 0.75)
        #expect(Outward.floatDown(1e300) == .greatestFiniteMagnitude && Outward.floatUp(-1e300) == -.greatestFiniteMagnitude && Outward.floatUp(.nan) == .infinity)
        #expect(Outward.mulDown(0, .infinity) == 0)
        #expect(Outward.floatBounds(Int64(1 << 40) + 1) == (Float(1 << 40), Float(1 << 40).nextUp))
    }
}
