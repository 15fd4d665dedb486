import Foundation
import ONNX
import Sensitivity
import Testing
@testable import Reference

/// The interval evaluator (DESIGN.md §1.8): soundness first. Every value a model takes at 200
/// seeded points of the box (and at the box's corners when it has at most 10 elements) must
/// lie inside the bounds — compared with a float64 evaluation of the ONNX definitions
/// (`Float64Model`, slack 10⁻¹² for its own rounding), or with the float32 engine where that is
/// exact (data movement, no slack) or where its rounding is bounded (ConvTranspose, slack =
/// 2γ_K·|W|·|x| computed by the engine itself).
struct IntervalTests {
    enum Box: Sendable {
        case mixed, positive, negative, open, wide, small
        func bounds(_ shape: [Int], seed: UInt64) -> TensorBounds {
            switch self {
            case .mixed: return IntervalCheck.box(shape, seed: seed)
            case .positive: return IntervalCheck.box(shape, seed: seed, centre: 2, widths: [0, 0.1, 0.5], lo: 0.25)
            case .negative: return IntervalCheck.box(shape, seed: seed, centre: 2, widths: [0, 0.1, 0.5], hi: -0.25)
            case .open: return IntervalCheck.box(shape, seed: seed, centre: 0.8, widths: [0, 0.05, 0.2], lo: -0.95, hi: 0.95)
            case .wide: return IntervalCheck.box(shape, seed: seed, centre: 4, widths: [0, 1, 3, 6])
            case .small: return IntervalCheck.box(shape, seed: seed, centre: 1, widths: [0, 0.01, 0.1])
            }
        }
    }

    struct Case: CustomStringConvertible, Sendable {
        var op: OpCase
        var boxes: [Box] = []
        /// Whether every output bound must be finite.
        var finite = true
        var description: String { op.label }

        func domain(seed: UInt64 = 3) -> [String: TensorBounds] {
            var d: [String: TensorBounds] = [:]
            for (k, (name, shape)) in op.inputs.enumerated() {
                d[name] = (k < boxes.count ? boxes[k] : .mixed).bounds(shape, seed: seed + UInt64(k) * 101)
            }
            return d
        }
    }

    static func unary(_ op: String, _ box: Box = .mixed, attributes: [String: Attribute] = [:], opset: Int = 17, finite: Bool = true) -> Case {
        Case(op: OpCase(label: op + (attributes.isEmpty ? "" : " \(attributes.keys.sorted())") + " \(box)", op: op,
                        inputs: [("x", [3, 8])], attributes: attributes, opset: opset), boxes: [box], finite: finite)
    }

    static let elementwise: [Case] = [
        unary("Relu"), unary("LeakyRelu", attributes: ["alpha": .float(0.1)]), unary("LeakyRelu", attributes: ["alpha": .float(-0.5)]),
        unary("Elu"), unary("Elu", attributes: ["alpha": .float(-0.7)]), unary("Selu"), unary("Celu", attributes: ["alpha": .float(0.5)]),
        unary("ThresholdedRelu", .wide, attributes: ["alpha": .float(-0.5)]), unary("Shrink", .wide, attributes: ["lambd": .float(1), "bias": .float(0.3)]),
        unary("Sigmoid", .wide), unary("HardSigmoid"), unary("HardSigmoid", attributes: ["alpha": .float(-0.3), "beta": .float(0.2)]),
        unary("HardSwish", .wide), unary("Tanh", .wide), unary("Softplus", .wide), unary("Softsign", .wide), unary("Neg"), unary("Abs"),
        unary("Sign"), unary("Floor", .wide), unary("Ceil", .wide), unary("Round", .wide), unary("Exp", .wide), unary("Erf"),
        unary("Atan", .wide), unary("Sinh"), unary("Asinh", .wide), unary("Cosh"), unary("Atanh", .open),
        unary("Log", .positive), unary("Log", .mixed, finite: false), unary("Sqrt", .positive), unary("Reciprocal", .positive),
        unary("Reciprocal", .negative), unary("Sin", .wide), unary("Cos", .wide), unary("Sin", .small), unary("Cos", .small),
        unary("Gelu", .mixed, opset: 20), unary("Gelu", .small, opset: 20), unary("Gelu", .mixed, attributes: ["approximate": .string("tanh")], opset: 20),
        unary("Mish", .wide, opset: 18), unary("Clip", attributes: ["min": .float(-0.5), "max": .float(1)], opset: 6),
        Case(op: OpCase(label: "Clip inputs", op: "Clip", inputs: [("x", [3, 8]), ("lo", []), ("hi", [])], opset: 13),
             boxes: [.mixed, .negative, .positive]),
    ]

    static func binary(_ op: String, _ a: [Int] = [2, 3, 4], _ b: [Int] = [3, 1], boxes: [Box] = [.mixed, .mixed], finite: Bool = true,
                       attributes: [String: Attribute] = [:], label: String = "") -> Case {
        Case(op: OpCase(label: "\(op) \(a)·\(b) \(label)", op: op, inputs: [("a", a), ("b", b)], attributes: attributes), boxes: boxes, finite: finite)
    }

    static let broadcasting: [Case] = [
        binary("Add"), binary("Sub"), binary("Mul"), binary("Div", boxes: [.mixed, .positive]), binary("Div", boxes: [.wide, .negative]),
        binary("Div", boxes: [.mixed, .mixed], finite: false), binary("Max", [3, 4], [4]), binary("Min", [3, 4], [1, 4]),
        binary("Pow", [3, 4], [4], boxes: [.positive, .mixed]), binary("PRelu", [2, 3, 4], [3, 1], boxes: [.wide, .mixed]),
        binary("Less", [3, 4], [4]), binary("Greater"), binary("LessOrEqual"), binary("GreaterOrEqual"), binary("Equal", boxes: [.small, .small]),
        binary("Mod", [3, 4], [4], boxes: [.wide, .positive], attributes: ["fmod": .int(1)]),
        binary("Mod", [3, 4], [4], boxes: [.wide, .negative], attributes: ["fmod": .int(0)], label: "fmod 0"),
        Case(op: OpCase(label: "Mul x·x", op: "Mul", inputs: [("x", [3, 5])], order: ["x", "x"])),
        Case(op: OpCase(label: "Sum of 3", op: "Sum", inputs: [("a", [2, 3]), ("b", [3]), ("c", [2, 1])])),
        Case(op: OpCase(label: "Mean of 3", op: "Mean", inputs: [("a", [2, 3]), ("b", [3]), ("c", [2, 1])])),
        Case(op: OpCase(label: "Max of 3", op: "Max", inputs: [("a", [2, 3]), ("b", [3]), ("c", [2, 1])])),
        Case(op: OpCase(label: "Where", op: "Where", inputs: [("p", [2, 3]), ("q", [3])], constants: [Tensor(name: "c", dims: [2, 1], bools: [true, false])],
                        order: ["c", "p", "q"])),
        Case(op: OpCase(label: "Pow x² (constant)", op: "Pow", inputs: [("x", [4, 5])], constants: [floats("e", [], [2])])),
        Case(op: OpCase(label: "Pow x³ (constant)", op: "Pow", inputs: [("x", [4, 5])], constants: [floats("e", [], [3])]), boxes: [.wide]),
        Case(op: OpCase(label: "Pow x⁻¹ (constant)", op: "Pow", inputs: [("x", [4, 5])], constants: [floats("e", [], [-1])]), boxes: [.negative]),
        Case(op: OpCase(label: "Pow x^-2 (constant)", op: "Pow", inputs: [("x", [4, 5])], constants: [floats("e", [], [-2])]), boxes: [.positive]),
        Case(op: OpCase(label: "Pow x^0.5 (constant)", op: "Pow", inputs: [("x", [4, 5])], constants: [floats("e", [], [0.5])]), boxes: [.positive]),
        Case(op: OpCase(label: "Pow x^-1.5 (constant)", op: "Pow", inputs: [("x", [4, 5])], constants: [floats("e", [], [-1.5])]), boxes: [.positive]),
    ]

    @Test("elementwise ops are sound", arguments: elementwise + broadcasting)
    func elementwiseSound(_ c: Case) throws {
        try checkFloat64(c)
    }

    /// Evaluates the case's bounds and checks them against the float64 reference.
    func checkFloat64(_ c: Case, count: Int = 200) throws {
        let g = try c.op.graph()
        let domain = c.domain()
        let bounds = try IntervalEvaluator.bounds(graph: g, domain: domain)
        for o in c.op.outputs where !o.isEmpty {
            let b = try #require(bounds[o], "no bounds for \(o)")
            if c.finite { #expect(b.isFinite, "\(c.op.label): \(o) has an infinite bound") }
        }
        let report = try IntervalCheck.float64(g, domain, bounds: bounds.filter { !domain.keys.contains($0.key) }, count: count)
        #expect(report.violations.isEmpty, "\(c.op.label): \(report)")
        #expect(report.checked >= report.points)
    }
}
