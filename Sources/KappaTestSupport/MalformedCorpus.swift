import ONNX

/// One committed malformed model: its file name in `Tests/ONNXTests/Malformed/`, the bytes
/// it must contain, and the error loading it must give (the `ONNXError` case name and text
/// fragments that name the offending tensor, node or field).
public struct MalformedCase: Sendable, CustomStringConvertible {
    public var file: String
    public var bytes: [UInt8]
    public var error: String
    public var fragments: [String]
    public var description: String { file }
}

/// The malformed-model corpus of DESIGN.md §4, generated here and committed as small files
/// so that other tools (the CLI tests, fuzzers, other ONNX readers) can use them too. The
/// ONNXTests check the committed files against this generator (re-record them with
/// `KAPPA_RECORD=1 swift test --filter ONNXTests`).
public enum MalformedCorpus {
    /// Data files the external-data cases point at (not models).
    public static let dataFiles: [(file: String, bytes: [UInt8])] = [
        ("small.bin", Array([Float(1), 2, 3, 4].withUnsafeBytes { Array($0) })),
    ]

    public static var cases: [MalformedCase] {
        func c(_ file: String, _ bytes: [UInt8], _ error: String, _ fragments: [String]) -> MalformedCase {
            MalformedCase(file: file, bytes: bytes, error: error, fragments: fragments)
        }
        func spec(_ s: ModelSpec) -> [UInt8] { ONNXWriter.serialize(s) }
        let valid = spec(tiny())
        return [
            c("empty.onnx", [], "notProtobuf", ["empty"]),
            c("text.onnx", Array("this is not an ONNX model\n".utf8), "notProtobuf", ["wire type", "field 14"]),
            c("random.onnx", randomBytes(seed: 7, count: 64), "notProtobuf", []),
            c("truncated.onnx", Array(valid.prefix(valid.count * 2 / 3)), "notProtobuf", ["field", "claims"]),
            c("truncated_varint.onnx", [0x08, 0x80], "notProtobuf", ["truncated varint"]),
            c("wire_type_invalid.onnx", Wire.varint(99 << 3 | 7) + [0x00], "notProtobuf", ["wire type 7", "field 99"]),
            c("wire_type_mismatch.onnx", [0x0A, 0x01, 0x08] + Array(valid.dropFirst(2)), "notProtobuf",
              ["ModelProto.ir_version", "wire type 2"]),
            c("no_graph.onnx", spec(ModelSpec(graph: nil)), "noGraph", ["graph"]),
            c("raw_data_size.onnx", spec(tiny(weight: TensorSpec(name: "conv1.weight", dataType: 1, dims: [2, 3], data: .raw(Array(repeating: 0, count: 20))))),
              "dataSizeMismatch", ["conv1.weight", "raw_data", "24"]),
            c("float_data_count.onnx", spec(tiny(weight: TensorSpec(name: "fc.weight", dataType: 1, dims: [2, 3], data: .floatData([1, 2, 3])))),
              "dataSizeMismatch", ["fc.weight", "float_data"]),
            c("negative_dims.onnx", spec(tiny(weight: TensorSpec(name: "fc.bias", dataType: 1, dims: [3, -2], data: .raw([])))),
              "badDims", ["fc.bias", "negative"]),
            c("absurd_dims.onnx", spec(tiny(weight: TensorSpec(name: "huge", dataType: 1, dims: [1 << 40, 1 << 40], data: .raw([])))),
              "badDims", ["huge", "elements"]),
            c("absurd_dims_zero.onnx", spec(tiny(weight: TensorSpec(name: "sneaky", dataType: 1, dims: [0, 1 << 62, 4], data: .raw([])))),
              "badDims", ["sneaky"]),
            c("unknown_dtype.onnx", spec(tiny(weight: TensorSpec(name: "w", dataType: 99, dims: [1], data: .raw([0, 0, 0, 0])))),
              "unknownDataType", ["'w'", "99"]),
            c("cycle.onnx", spec(graph(nodes: [
                NodeSpec("Add", name: "loop_a", inputs: ["x", "b"], outputs: ["a"]),
                NodeSpec("Relu", name: "loop_b", inputs: ["a"], outputs: ["b"]),
            ])), "cycle", ["loop_a", "loop_b"]),
            c("undefined_input.onnx", spec(graph(nodes: [NodeSpec("Add", name: "add1", inputs: ["x", "ghost"], outputs: ["y"])])),
              "undefinedInput", ["add1", "ghost"]),
            c("duplicate_initializer.onnx", spec(graph(nodes: [], initializers: [.float("w", dims: [1], values: [1]), .float("w", dims: [1], values: [2])])),
              "duplicateName", ["'w'", "initializer"]),
            c("duplicate_output.onnx", spec(graph(nodes: [
                NodeSpec("Relu", name: "r1", inputs: ["x"], outputs: ["y"]),
                NodeSpec("Relu", name: "r2", inputs: ["x"], outputs: ["y"]),
            ])), "duplicateName", ["'y'", "r2"]),
            c("external_missing.onnx", spec(tiny(weight: external("w_missing", .external(location: "missing.bin", offset: nil, length: nil)))),
              "externalData", ["w_missing", "missing.bin", "does not exist"]),
            c("external_absolute.onnx", spec(tiny(weight: external("w_abs", .external(location: "/etc/passwd", offset: nil, length: nil)))),
              "externalData", ["w_abs", "/etc/passwd", "absolute"]),
            c("external_dotdot.onnx", spec(tiny(weight: external("w_up", .external(location: "../Malformed/small.bin", offset: nil, length: nil)))),
              "externalData", ["w_up", "'..'"]),
            c("external_offset.onnx", spec(tiny(weight: external("w_off", .external(location: "small.bin", offset: 64, length: 16)))),
              "externalData", ["w_off", "offset 64", "16 bytes"]),
            c("external_length.onnx", spec(tiny(weight: external("w_len", .external(location: "small.bin", offset: 0, length: 12)))),
              "externalData", ["w_len", "length 12", "16 bytes"]),
            c("nesting_too_deep.onnx", nestedModel(graphs: 34), "nestingTooDeep", ["101 levels", "\(ModelLoader.maxNesting)"]),
            c("constant_no_value.onnx", spec(graph(nodes: [NodeSpec("Constant", name: "const0", inputs: [], outputs: ["c"])])),
              "badAttribute", ["const0", "'value'"]),
            c("tensor_attr_empty.onnx", spec(graph(nodes: [
                NodeSpec("Constant", name: "const_t", inputs: [], outputs: ["c"], attributes: [("value", .empty(type: 4))]),
            ])), "badAttribute", ["const_t", "'value'", "TENSOR"]),
            c("graph_attr_empty.onnx", spec(graph(nodes: [
                NodeSpec("If", name: "branch", inputs: ["x"], outputs: ["y"], attributes: [("then_branch", .empty(type: 5))]),
            ])), "badAttribute", ["branch", "then_branch", "GRAPH"]),
            // Attributes the analysis indexes and multiplies (DESIGN.md §4; found by the pipeline
            // fuzzer and the semantics issue): refused before any shape is known.
            c("conv_dilations_short.onnx", spec(conv([("dilations", .ints([1]))])), "badAttribute",
              ["conv_d", "dilations", "1 values for 2 spatial axes"]),
            c("conv_dilations_huge.onnx", spec(conv([("dilations", .ints([1 << 62, 1 << 62]))])), "badAttribute",
              ["conv_d", "dilations", "outside 1...1048576"]),
            c("conv_group_zero.onnx", spec(conv([("group", .int(0))])), "badAttribute", ["conv_d", "group"]),
            c("pool_strides_mismatch.onnx", spec(ModelSpec(graph: GraphSpec(name: "t", nodes: [
                NodeSpec("MaxPool", name: "pool_s", inputs: ["x"], outputs: ["y"],
                         attributes: [("kernel_shape", .ints([2, 2])), ("strides", .ints([2, 2, 2]))]),
            ], inputs: [ValueInfoSpec("x", elemType: DataType.float.rawValue, dims: [1, 1, .param("H"), .param("W")])], outputs: []))),
              "badAttribute", ["pool_s", "strides", "3 values for 2 spatial axes"]),
            c("transpose_perm_repeat.onnx", spec(graph(nodes: [
                NodeSpec("Transpose", name: "tp", inputs: ["x"], outputs: ["y"], attributes: [("perm", .ints([0, 0]))]),
            ])), "badAttribute", ["tp", "perm", "not a permutation"]),
            c("string_weight.onnx", spec(tiny(weight: TensorSpec(name: "w_str", dataType: DataType.string.rawValue, dims: [4], data: .none))),
              "badNode", ["'m'", "w_str", "STRING", "Mul"]),
            c("conv_bias_int.onnx", spec(conv([], bias: .int64("b_int", dims: [2], values: [1, 2]))), "badNode",
              ["conv_d", "b_int", "INT64", "floating-point"]),
        ]
    }

    /// A Conv on an input of symbolic spatial extent (shape inference cannot check it).
    static func conv(_ attributes: [(String, AttrSpec)], bias: TensorSpec? = nil) -> ModelSpec {
        let w = TensorSpec.float("w_c", dims: [2, 1, 3, 3], values: Array(repeating: 0.1, count: 18))
        return ModelSpec(graph: GraphSpec(name: "t", nodes: [
            NodeSpec("Conv", name: "conv_d", inputs: ["x", "w_c"] + (bias.map { [$0.name] } ?? []), outputs: ["y"],
                     attributes: [("kernel_shape", .ints([3, 3]))] + attributes),
        ], initializers: [w] + (bias.map { [$0] } ?? []),
           inputs: [ValueInfoSpec("x", elemType: DataType.float.rawValue, dims: [1, 1, .param("H"), .param("W")])], outputs: []))
    }

    /// A valid two-node model: x → Mul(w) → Relu, `weight` as its initializer `w` slot.
    public static func tiny(weight: TensorSpec = .float("w", dims: [4], values: [1, 2, 3, 4])) -> ModelSpec {
        ModelSpec(graph: GraphSpec(name: "t", nodes: [
            NodeSpec("Mul", name: "m", inputs: ["x", weight.name], outputs: ["h"]),
            NodeSpec("Relu", name: "r", inputs: ["h"], outputs: ["y"]),
        ], initializers: [weight], inputs: [ValueInfoSpec("x", shape: [4])], outputs: [ValueInfoSpec("y", shape: [4])]))
    }

    static func graph(nodes: [NodeSpec], initializers: [TensorSpec] = []) -> ModelSpec {
        ModelSpec(graph: GraphSpec(name: "t", nodes: nodes, initializers: initializers,
                                   inputs: [ValueInfoSpec("x", shape: [4])], outputs: []))
    }

    static func external(_ name: String, _ data: TensorData) -> TensorSpec {
        TensorSpec(name: name, dataType: DataType.float.rawValue, dims: [4], data: data)
    }

    static func randomBytes(seed: UInt64, count: Int) -> [UInt8] {
        var r = SeededRandom(seed: seed)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: r.next()) }
    }

    /// A ModelProto whose graph holds a node whose attribute holds a graph … `graphs`
    /// graphs deep, written by hand on the wire (field tags and lengths only) so the file
    /// stays a few hundred bytes. Message depth of the innermost graph: 3·graphs − 1
    /// (model 1, graph 2, node 3, attribute 4, graph 5, …); 34 graphs reach 101.
    public static func nestedModel(graphs: Int) -> [UInt8] {
        var inner: [UInt8] = []  // the innermost graph's contents: empty
        for _ in 0..<max(graphs - 1, 0) {
            // graph → node (field 1) → attribute (field 5) → g (field 6) → the graph inside
            inner = Wire.field(1, Wire.field(5, Wire.field(6, inner)))
        }
        return Wire.varintField(1, 8) + Wire.field(7, inner) + Wire.field(8, Wire.varintField(2, 17))
    }
}

/// Minimal protobuf wire encoding for hand-built messages.
public enum Wire {
    public static func varint(_ v: UInt64) -> [UInt8] {
        var v = v
        var out: [UInt8] = []
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
        return out
    }

    /// A length-delimited field (wire type 2).
    public static func field(_ number: UInt64, _ payload: [UInt8]) -> [UInt8] {
        varint(number << 3 | 2) + varint(UInt64(payload.count)) + payload
    }

    /// A varint field (wire type 0).
    public static func varintField(_ number: UInt64, _ value: UInt64) -> [UInt8] {
        varint(number << 3) + varint(value)
    }
}
