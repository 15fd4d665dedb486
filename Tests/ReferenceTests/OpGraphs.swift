import Foundation
import ONNX
@testable import Reference

/// One-node models built in memory (no file), for op-level tests.
struct OpCase: CustomStringConvertible, Sendable {
    var label: String
    var op: String
    /// Computed inputs: name and shape. Values come from `values` or a seeded generator.
    var inputs: [(String, [Int])]
    /// Constant inputs (weights, axes, indices), by name; "" in `order` marks an omitted input.
    var constants: [Tensor] = []
    /// The node's input names in order (default: inputs, then constants).
    var order: [String]? = nil
    var attributes: [String: Attribute] = [:]
    var outputs: [String] = ["y"]
    var opset = 17
    /// The output a test differentiates (default: the first).
    var checked: String? = nil
    /// The op's domain ("" or "com.microsoft").
    var domain = ""
    var opsets: [String: Int] { domain.isEmpty ? ["": opset] : ["": opset, domain: 1] }
    /// How to draw input values (kinks are kept at a distance from the FD step).
    var values: ValueKind = .normal

    enum ValueKind: Sendable {
        /// Uniform in ±[0.1, 1.5] (away from 0, the kink of ReLU-like ops).
        case normal
        /// Distinct values 0.1 apart, shuffled (max pooling, ReduceMax: no ties within h).
        case distinct
        /// Uniform in [0.5, 1.5] (denominators).
        case positive
    }

    var description: String { label }

    func graph(output: String? = nil) throws -> ModelGraph {
        let names = order ?? (inputs.map(\.0) + constants.map(\.name))
        let node = Node(name: "n0", opType: op, domain: domain, inputs: names, outputs: outputs, attributes: attributes)
        let g = Graph(name: label, nodes: [node], initializers: constants,
                      inputs: inputs.map { ValueInfo(name: $0.0, elementType: .float, shape: $0.1.map { .value($0) }) },
                      outputs: outputs.filter { !$0.isEmpty }.map { ValueInfo(name: $0, elementType: .float, shape: nil) })
        return try ModelGraph(model: Model(path: "\(label).onnx", irVersion: 8, producerName: "tests",
                                           producerVersion: "1", opsets: opsets, graph: g))
    }

    /// Seeded input values of the kind requested.
    func feeds(seed: UInt64 = 7) -> [String: Value] {
        var rng = TestRandom(seed: seed)
        var out: [String: Value] = [:]
        for (name, shape) in inputs {
            let n = shape.reduce(1, *)
            var data = [Float](repeating: 0, count: n)
            switch values {
            case .normal:
                for i in 0..<n { data[i] = Float(rng.uniform(0.1, 1.5)) * (rng.uniform(0, 1) < 0.5 ? -1 : 1) }
            case .positive:
                for i in 0..<n { data[i] = Float(rng.uniform(0.5, 1.5)) }
            case .distinct:
                var perm = Array(0..<n)
                for i in stride(from: n - 1, to: 0, by: -1) { perm.swapAt(i, Int(rng.next() % UInt64(i + 1))) }
                for i in 0..<n { data[i] = Float(perm[i]) * 0.1 - Float(n) * 0.05 }
            }
            out[name] = Value(shape: shape, data: data)
        }
        return out
    }
}

/// SplitMix64, so the tests need nothing from the code under test.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func uniform(_ lo: Double, _ hi: Double) -> Double {
        lo + (hi - lo) * Double(next() >> 11) / Double(1 << 53)
    }
    mutating func floats(_ n: Int, _ lo: Double = -1, _ hi: Double = 1) -> [Float] {
        (0..<n).map { _ in Float(uniform(lo, hi)) }
    }
    /// Standard normal (Box–Muller).
    mutating func gaussian() -> Double {
        let u = max(uniform(0, 1), 1e-300), v = uniform(0, 1)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * v)
    }
}

func floats(_ name: String, _ dims: [Int], _ values: [Float]) -> Tensor { Tensor(name: name, dims: dims, floats: values) }
func ints(_ name: String, _ values: [Int64]) -> Tensor { Tensor(name: name, dims: [values.count], int64s: values) }
func seeded(_ name: String, _ dims: [Int], seed: UInt64, lo: Double = -1, hi: Double = 1) -> Tensor {
    var r = TestRandom(seed: seed)
    return Tensor(name: name, dims: dims, floats: r.floats(dims.reduce(1, *), lo, hi))
}
