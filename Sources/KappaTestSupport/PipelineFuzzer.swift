import Foundation
import ONNX

/// A seeded structured fuzzer of the whole pipeline (not only the decoder): it mutates a valid
/// model's attributes (lengths, 0, negative, 2³¹, 2⁶²), graph-input dims, initializer
/// dtypes/dims/ranks and node wiring, writes the mutant, and hands it to a caller-supplied
/// pipeline (`inspect`, `analyze` in both norm modes, a short `validate --synthetic 1`).
/// Every mutant must end in a result or a clear one-line error; a crash ends the process, so a
/// driver run outside the tests (`kappa-bench fuzz`) logs each mutant before running it.
public struct PipelineFuzzer {
    public var rng: SeededRandom

    public init(seed: UInt64) { rng = SeededRandom(seed: seed) }

    /// The seed models: small, valid, and together touching most of the analysis and the engine
    /// (convolutions with groups/dilations/strides, pooling, BN, residual Add, Concat, Gemm,
    /// MatMul, Reshape/Transpose/Flatten, Pad, Resize, Slice, Gather, Split, LRN, gates, Softmax).
    public static func seeds() -> [ModelSpec] {
        var a = NetworkBuilder(seed: 31)
        var t = a.input("x", shape: [1, 3, 8, 8])
        t = a.conv(t, outChannels: 4, kernel: [3, 3], pads: [1, 1, 1, 1])
        let bn = a.node("BatchNormalization", [t, a.constant("g", dims: [4], values: [1, 2, 0.5, 1]),
                                                a.constant("b", dims: [4], values: [0, 0.1, 0, 0]),
                                                a.constant("m", dims: [4], values: [0, 0, 0.1, 0]),
                                                a.constant("v", dims: [4], values: [1, 1, 2, 0.5])], shape: [1, 4, 8, 8])
        let r = a.relu(bn)
        let c2 = a.conv(r, outChannels: 4, kernel: [3, 3], pads: [2, 2, 2, 2], dilations: [2, 2], group: 2)
        t = a.add(r, c2)
        t = a.lrn(t, size: 3)
        t = a.maxPool(t, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1])
        let p = a.pool("AveragePool", t, kernel: [2, 2], strides: [1, 1], pads: [0, 0, 1, 1])
        t = a.concat([t, p], axis: 1)
        t = a.node("Pad", [t, a.graphInt64("pads", [0, 0, 1, 1, 0, 0, 1, 1])], shape: [1, 8, 6, 6], attributes: [("mode", .string("reflect"))])
        t = a.node("Transpose", [t], shape: [1, 8, 6, 6], attributes: [("perm", .ints([0, 1, 3, 2]))])
        t = a.flatten(t)
        t = a.gemm(t, outFeatures: 6)
        let s = a.unary("Sigmoid", t)
        t = a.node("Mul", [t, s], shape: [1, 6])
        t = a.softmax(t)
        a.output(t)

        var b = NetworkBuilder(seed: 32)
        var u = b.input("x", shape: [1, 4, 6])
        let w = b.heWeight("Wm", dims: [6, 5])
        u = b.node("MatMul", [u, w], shape: [1, 4, 5])
        u = b.node("Reshape", [u, b.graphInt64("shape", [1, 20])], shape: [1, 20])
        let parts = b.node("Split", [u, b.graphInt64("split", [8, 12])], shape: [1, 8], attributes: [("axis", .int(1))], outputs: 2)
        b.shapes[parts + "_out1"] = [1, 12]
        u = b.node("Slice", [parts + "_out1", b.graphInt64("st", [0]), b.graphInt64("en", [8]), b.graphInt64("ax", [1])], shape: [1, 8])
        u = b.add(parts, u)
        u = b.node("Gather", [u, b.graphInt64("idx", [0, 2, 2, 5])], shape: [1, 4], attributes: [("axis", .int(1))])
        u = b.node("Unsqueeze", [u, b.graphInt64("uax", [2, 3])], shape: [1, 4, 1, 1])
        u = b.node("Resize", [u, "", b.constant("scales", dims: [4], values: [1, 1, 2, 2])], shape: [1, 4, 2, 2],
                   attributes: [("mode", .string("nearest"))])
        u = b.node("GlobalAveragePool", [u], shape: [1, 4, 1, 1])
        u = b.flatten(u)
        u = b.unary("LeakyRelu", u, attributes: [("alpha", .float(0.1))])
        b.output(u)
        return [a.model(opset: 18), b.model(opset: 18)]
    }

    static let attributeNames = ["kernel_shape", "strides", "dilations", "pads", "group", "axis", "axes", "perm", "auto_pad",
                                 "alpha", "beta", "epsilon", "size", "ceil_mode", "count_include_pad", "transB", "transA", "to",
                                 "mode", "split", "keepdims", "bias", "output_padding"]
    static let extremes: [Int] = [0, 1, -1, 2, 3, -2, 7, 1 << 31, -(1 << 31), 1 << 62, -(1 << 62), Int.max, Int.min]

    mutating func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
    mutating func chance(_ p: Double) -> Bool { rng.uniform() < p }
    mutating func int() -> Int { chance(0.6) ? pick(Self.extremes) : Int(rng.next() % 9) - 2 }

    mutating func attribute() -> AttrSpec {
        switch rng.next() % 6 {
        case 0, 1: return .ints((0..<Int(rng.next() % 6)).map { _ in int() })
        case 2: return .int(int())
        case 3: return .float(pick([0, -1, 1e30, .nan, .infinity, 0.5, 1e-30]))
        case 4: return .string(pick(["", "SAME_UPPER", "VALID", "reflect", "edge", "linear", "cubic", "bogus"]))
        default: return .floats((0..<Int(rng.next() % 4)).map { _ in Float(int()) })
        }
    }

    /// One to three mutations of `spec`.
    public mutating func mutate(_ spec: ModelSpec) -> ModelSpec {
        var m = spec
        guard var g = m.graph else { return m }
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            switch rng.next() % 8 {
            case 0, 1:  // an attribute: changed, added, or removed
                guard !g.nodes.isEmpty else { break }
                let i = Int(rng.next() % UInt64(g.nodes.count))
                var attrs = g.nodes[i].attributes
                if !attrs.isEmpty && chance(0.2) {
                    attrs.remove(at: Int(rng.next() % UInt64(attrs.count)))
                } else {
                    let name = !attrs.isEmpty && chance(0.6) ? attrs[Int(rng.next() % UInt64(attrs.count))].0 : pick(Self.attributeNames)
                    attrs.removeAll { $0.0 == name }
                    attrs.append((name, attribute()))
                }
                g.nodes[i].attributes = attrs
            case 2:  // graph input dims
                guard !g.inputs.isEmpty else { break }
                let i = Int(rng.next() % UInt64(g.inputs.count))
                var dims = g.inputs[i].dims ?? []
                switch rng.next() % 4 {
                case 0 where !dims.isEmpty: dims[Int(rng.next() % UInt64(dims.count))] = .value(Int64(clamping: int()))
                case 1 where !dims.isEmpty: dims[Int(rng.next() % UInt64(dims.count))] = .param(pick(["N", "H", "W", ""]))
                case 2: if !dims.isEmpty { dims.removeLast() }
                default: dims.append(.value(Int64(pick([1, 2, 0, 3]))))
                }
                g.inputs[i].dims = dims
                if chance(0.1) { g.inputs[i].elemType = pick([DataType.int64.rawValue, DataType.double.rawValue, DataType.float16.rawValue, 99]) }
            case 3, 4:  // an initializer's dtype, dims or rank (the raw bytes kept or rewritten)
                guard !g.initializers.isEmpty else { break }
                let i = Int(rng.next() % UInt64(g.initializers.count))
                var t = g.initializers[i]
                switch rng.next() % 5 {
                case 0: t.dataType = pick([DataType.int64, .int32, .float16, .double, .uint8, .int8, .bool, .string, .bfloat16]).rawValue
                case 1:  // a dtype change that keeps the element count consistent: rewrite the data
                    let count = Int(t.dims.reduce(1, *))
                    let dt = pick([DataType.int64, .float16, .double, .uint8, .int8, .int32])
                    t.dataType = dt.rawValue
                    t.data = .raw(Array(repeating: 1, count: max(0, min(count, 1 << 16)) * (dt.byteSize ?? 1)))
                case 2 where !t.dims.isEmpty:
                    let d = Int(rng.next() % UInt64(t.dims.count))
                    t.dims[d] = Int64(clamping: int())
                case 3: t.dims = t.dims.count > 1 ? Array(t.dims.dropLast()) : t.dims + [1]
                default: t.dims = t.dims.reversed()
                }
                g.initializers[i] = t
            case 5:  // rewire an input
                guard !g.nodes.isEmpty else { break }
                let names = g.inputs.map(\.name) + g.initializers.map(\.name) + g.nodes.flatMap(\.outputs) + ["", "nowhere"]
                let i = Int(rng.next() % UInt64(g.nodes.count))
                if g.nodes[i].inputs.isEmpty || chance(0.2) {
                    g.nodes[i].inputs.append(pick(names))
                } else {
                    g.nodes[i].inputs[Int(rng.next() % UInt64(g.nodes[i].inputs.count))] = pick(names)
                }
            case 6:  // drop an input or an output
                guard !g.nodes.isEmpty else { break }
                let i = Int(rng.next() % UInt64(g.nodes.count))
                if !g.nodes[i].inputs.isEmpty { g.nodes[i].inputs.removeLast() }
            default:  // the op type or the domain
                guard !g.nodes.isEmpty else { break }
                let i = Int(rng.next() % UInt64(g.nodes.count))
                if chance(0.8) {
                    g.nodes[i].op = pick(["Conv", "MaxPool", "AveragePool", "Gemm", "MatMul", "Add", "Mul", "Div", "Concat",
                                          "Reshape", "Transpose", "Softmax", "LogSoftmax", "Pad", "Resize", "Slice", "Gather",
                                          "Split", "LRN", "BatchNormalization", "Relu", "Clip", "Flatten", "Squeeze", "ReduceMean",
                                          "GlobalMaxPool", "ConvTranspose", "Sum", "Cast", "Identity", "Sigmoid", "HardSwish"])
                } else {
                    g.nodes[i].domain = pick(["", "com.example", "ai.onnx"])
                }
            }
        }
        m.graph = g
        return m
    }
}

extension NetworkBuilder {
    /// An INT64 initializer (shape arguments), returning its name.
    public mutating func graphInt64(_ name: String, _ values: [Int64]) -> String {
        let n = fresh(name)
        graph.initializers.append(.int64(n, dims: [values.count], values: values))
        shapes[n] = [values.count]
        return n
    }
}
