import Foundation
import KappaTestSupport
import ONNX
import Sensitivity
import Testing

/// The rules of modern exports' ops (issue 10 item 8): each constant ≥ the finite-difference
/// Jacobian norm of the float64 evaluator at seeded points (tolerance 1e-6 relative for the
/// differences), and the rules that must not be finite say why.
struct VocabularyTests {
    struct Case: Sendable, CustomStringConvertible {
        var label: String
        var op: String
        var shape: [Int]
        var outShape: [Int]
        var attributes: [(String, AttrSpec)] = []
        /// Extra constant inputs after x: (name, dims, values), "" for an omitted slot.
        var constants: [(String, [Int], [Float])] = []
        /// The expected L (closed form), checked to 1e-9.
        var expected: Double
        var scale: Double = 2
        var description: String { label }
    }

    static let cases: [Case] = [
        Case(label: "Erf", op: "Erf", shape: [1, 6], outShape: [1, 6], expected: LipschitzTable.erfConstant, scale: 0.3),
        Case(label: "Mish", op: "Mish", shape: [1, 6], outShape: [1, 6], expected: LipschitzTable.mishConstant),
        Case(label: "Celu", op: "Celu", shape: [1, 6], outShape: [1, 6], attributes: [("alpha", .float(0.5))], expected: 1),
        Case(label: "Sin", op: "Sin", shape: [1, 6], outShape: [1, 6], expected: 1),
        Case(label: "PRelu slope 2.5", op: "PRelu", shape: [1, 3, 2, 2], outShape: [1, 3, 2, 2],
             constants: [("slope", [3, 1, 1], [0.1, 2.5, -0.5])], expected: 2.5),
        Case(label: "Softmax 1/2", op: "Softmax", shape: [1, 5], outShape: [1, 5], attributes: [("axis", .int(1))], expected: 0.5),
        Case(label: "LogSoftmax √K", op: "LogSoftmax", shape: [1, 5], outShape: [1, 5], attributes: [("axis", .int(1))],
             expected: 5.0.squareRoot(), scale: 6),
        Case(label: "ReduceLogSumExp", op: "ReduceLogSumExp", shape: [1, 3, 4], outShape: [1, 3, 1],
             attributes: [("axes", .ints([2])), ("keepdims", .int(1))], expected: 1),
        Case(label: "CumSum K = 5", op: "CumSum", shape: [1, 5], outShape: [1, 5], constants: [("axis", [], [1])],
             expected: 1 / (2 * sin(Double.pi / 22)) * (1 + 1e-12)),
        Case(label: "CumSum exclusive K = 4", op: "CumSum", shape: [1, 4], outShape: [1, 4], attributes: [("exclusive", .int(1))],
             constants: [("axis", [], [1])], expected: 1 / (2 * sin(Double.pi / 14)) * (1 + 1e-12)),
        Case(label: "Expand [1,3] → [4,3]", op: "Expand", shape: [1, 3], outShape: [4, 3], constants: [("shape", [2], [4, 3])], expected: 2),
        Case(label: "Tile ×(2, 3)", op: "Tile", shape: [1, 2], outShape: [2, 6], constants: [("repeats", [2], [2, 3])], expected: 6.0.squareRoot()),
        Case(label: "GatherElements repeats", op: "GatherElements", shape: [2, 3], outShape: [2, 3], attributes: [("axis", .int(1))],
             constants: [("idx", [2, 3], [0, 0, 0, 2, 1, 2])], expected: 3.0.squareRoot()),
        Case(label: "TopK values", op: "TopK", shape: [1, 6], outShape: [1, 3], attributes: [("axis", .int(1))],
             constants: [("k", [1], [3])], expected: 1),
    ]

    func build(_ c: Case) throws -> (ModelGraph, String) {
        var b = NetworkBuilder(seed: 1)
        let x = b.input("x", shape: c.shape)
        var inputs = [x]
        for (name, dims, values) in c.constants {
            if ["shape", "repeats", "idx", "k", "axis"].contains(name) {
                inputs.append(b.graphInt64(name, values.map { Int64($0) }))
                if name == "idx" { b.graph.initializers[b.graph.initializers.count - 1].dims = dims.map { Int64($0) } }
                if name == "axis" { b.graph.initializers[b.graph.initializers.count - 1].dims = [] }
            } else {
                inputs.append(b.constant(name, dims: dims, values: values))
            }
        }
        let y = b.node(c.op, inputs, shape: c.outShape, attributes: c.attributes, outputs: c.op == "TopK" ? 2 : 1)
        b.output(y)
        return (try loadGraph(b.model(opset: 17)), y)
    }

    @Test(arguments: cases)
    func boundDominatesFiniteDifferences(_ c: Case) throws {
        let (g, y) = try build(c)
        let r = try SensitivityAnalysis.run(g, options: .init(output: y, threads: 1))
        let bound = r.network.eq7.operator
        #expect(abs(bound - c.expected) <= 1e-9 * c.expected, "\(c.label): L = \(bound), expected \(c.expected)")
        let ev = TinyEvaluator(g: g)
        var rng = SeededRandom(seed: 77)
        let n = c.shape.reduce(1, *)
        var worst = 0.0
        for _ in 0..<100 {
            let x = rng.gaussians(n, scale: c.scale).map(Double.init)
            worst = max(worst, try ev.jacobianNorm(at: x, output: y))
        }
        #expect(worst <= bound * (1 + 1e-6), "\(c.label): ‖J‖ = \(worst) > L = \(bound)")
        #expect(worst > 0.3 * bound, "\(c.label): the points probe the bound (‖J‖ = \(worst), L = \(bound))")
    }

    /// The Erf form of GELU exporters write, x·(erf(x/√2) + 1)·0.5: the gate rule gives
    /// 2·|s|·sup GELU' before the ×0.5, so the whole is ≤ 1.1290 (tight).
    @Test func erfGeluPattern() throws {
        var b = NetworkBuilder(seed: 1)
        let x = b.input("x", shape: [1, 8])
        let d = b.node("Div", [x, b.constant("sqrt2", dims: [], values: [1.4142135])], shape: [1, 8])
        let e = b.unary("Erf", d)
        let a = b.node("Add", [e, b.constant("one", dims: [], values: [1])], shape: [1, 8])
        let m = b.node("Mul", [x, a], shape: [1, 8])
        let y = b.node("Mul", [m, b.constant("half", dims: [], values: [0.5])], shape: [1, 8])
        b.output(y)
        let g = try loadGraph(b.model())
        let r = try SensitivityAnalysis.run(g, options: .init(threads: 1))
        #expect(r.findings.isEmpty, "\(r.findings)")
        let bound = r.network.eq7.operator
        #expect(bound <= 1.1291 && bound >= 1.1289, "\(bound)")
        let ev = TinyEvaluator(g: g)
        var rng = SeededRandom(seed: 3)
        var worst = 0.0
        for _ in 0..<100 { worst = max(worst, try ev.jacobianNorm(at: rng.gaussians(8, scale: 2).map(Double.init), output: y)) }
        #expect(worst <= bound * (1 + 1e-6))
    }

    /// Discontinuities are named, never silently 1; input-independent comparisons carry no gain.
    @Test func discontinuitiesAreNamed() throws {
        var b = NetworkBuilder(seed: 1)
        let x = b.input("x", shape: [1, 4])
        let c = b.node("Greater", [x, b.constant("zero", dims: [], values: [0])], shape: [1, 4])
        let y = b.node("Where", [c, x, b.constant("z", dims: [1, 4], values: [0, 0, 0, 0])], shape: [1, 4])
        b.output(y)
        let r = try SensitivityAnalysis.run(try loadGraph(b.model()), options: .init(threads: 1))
        #expect(r.network.eq7.operator == .infinity)
        #expect(r.findings.contains { $0.rule == .unboundedOp && $0.message.contains("discontinuity") })
    }

    /// Rounding ops are Eq. 8 rounding points with an identity part (the quantizer model).
    @Test func roundingIsARoundingPoint() throws {
        var b = NetworkBuilder(seed: 1)
        let x = b.input("x", shape: [1, 4])
        let f = b.unary("Floor", x)
        let y = b.gemm(f, outFeatures: 3)
        b.output(y)
        let r = try SensitivityAnalysis.run(try loadGraph(b.model()), options: .init(threads: 1))
        #expect(r.network.roundingPoints == 1)  // the Floor output: the Floor's rounding point and the Gemm's input
        #expect(r.network.eq7.operator.isFinite)
        #expect(r.nodes.contains { $0.op == "Floor" && ($0.reason ?? "").contains("rounding point") })
    }
}
