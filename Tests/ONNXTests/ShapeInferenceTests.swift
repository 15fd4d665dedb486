import KappaTestSupport
import ONNX
import Testing

/// One node applied to inputs of known shapes, and the output shapes it must get.
struct ShapeCase: Sendable, CustomTestStringConvertible {
    var label: String
    var inputs: [(String, [Int])]
    var initializers: [TensorSpec] = []
    var node: NodeSpec
    var expected: [[Int]]
    var opset: Int64 = 17
    var testDescription: String { label }
}

func zeros(_ name: String, _ dims: [Int]) -> TensorSpec {
    .float(name, dims: dims, values: Array(repeating: 0, count: dims.reduce(1, *)))
}

func conv(_ attrs: [(String, AttrSpec)]) -> NodeSpec {
    NodeSpec("Conv", name: "conv", inputs: ["x", "w"], outputs: ["y"], attributes: attrs)
}

let x32: [(String, [Int])] = [("x", [1, 3, 32, 32])]
let w3 = [zeros("w", [8, 3, 3, 3])]

let shapeCases: [ShapeCase] = [
    // Conv: out = ⌊(in + pads − ((k − 1)·d + 1)) / s⌋ + 1
    ShapeCase(label: "Conv default", inputs: x32, initializers: w3, node: conv([]), expected: [[1, 8, 30, 30]]),
    ShapeCase(label: "Conv pads 1", inputs: x32, initializers: w3, node: conv([("pads", .ints([1, 1, 1, 1]))]), expected: [[1, 8, 32, 32]]),
    ShapeCase(label: "Conv stride 2 pads 1", inputs: x32, initializers: w3,
              node: conv([("strides", .ints([2, 2])), ("pads", .ints([1, 1, 1, 1]))]), expected: [[1, 8, 16, 16]]),
    ShapeCase(label: "Conv asymmetric pads and strides", inputs: x32, initializers: w3,
              node: conv([("strides", .ints([1, 3])), ("pads", .ints([0, 2, 1, 0]))]), expected: [[1, 8, 31, 11]]),
    ShapeCase(label: "Conv dilation 2", inputs: x32, initializers: w3, node: conv([("dilations", .ints([2, 2]))]), expected: [[1, 8, 28, 28]]),
    ShapeCase(label: "Conv group 2", inputs: [("x", [1, 4, 10, 10])], initializers: [zeros("w", [6, 2, 3, 3])],
              node: conv([("group", .int(2))]), expected: [[1, 6, 8, 8]]),
    ShapeCase(label: "Conv depthwise", inputs: [("x", [2, 5, 9, 9])], initializers: [zeros("w", [5, 1, 3, 3])],
              node: conv([("group", .int(5)), ("strides", .ints([2, 2]))]), expected: [[2, 5, 4, 4]]),
    ShapeCase(label: "Conv auto_pad SAME_UPPER stride 2", inputs: [("x", [1, 3, 33, 32])], initializers: w3,
              node: conv([("auto_pad", .string("SAME_UPPER")), ("strides", .ints([2, 2]))]), expected: [[1, 8, 17, 16]]),
    ShapeCase(label: "Conv auto_pad SAME_LOWER", inputs: x32, initializers: [zeros("w", [8, 3, 4, 4])],
              node: conv([("auto_pad", .string("SAME_LOWER"))]), expected: [[1, 8, 32, 32]]),
    ShapeCase(label: "Conv auto_pad VALID stride 2", inputs: x32, initializers: w3,
              node: conv([("auto_pad", .string("VALID")), ("strides", .ints([2, 2]))]), expected: [[1, 8, 15, 15]]),
    ShapeCase(label: "Conv 1-D", inputs: [("x", [1, 3, 20])], initializers: [zeros("w", [4, 3, 5])],
              node: conv([("strides", .ints([3]))]), expected: [[1, 4, 6]]),
    ShapeCase(label: "Conv 3-D", inputs: [("x", [1, 2, 8, 8, 8])], initializers: [zeros("w", [4, 2, 3, 3, 3])],
              node: conv([("pads", .ints([1, 1, 1, 1, 1, 1]))]), expected: [[1, 4, 8, 8, 8]]),
    ShapeCase(label: "ConvTranspose stride 2", inputs: [("x", [1, 8, 7, 7])], initializers: [zeros("w", [8, 4, 3, 3])],
              node: NodeSpec("ConvTranspose", name: "ct", inputs: ["x", "w"], outputs: ["y"],
                             attributes: [("strides", .ints([2, 2])), ("pads", .ints([1, 1, 1, 1])), ("output_padding", .ints([1, 1]))]),
              expected: [[1, 4, 14, 14]]),
    // Pools, floor and ceil mode.
    ShapeCase(label: "MaxPool 3/2 floor", inputs: x32,
              node: NodeSpec("MaxPool", inputs: ["x"], outputs: ["y"], attributes: [("kernel_shape", .ints([3, 3])), ("strides", .ints([2, 2]))]),
              expected: [[1, 3, 15, 15]]),
    ShapeCase(label: "MaxPool 3/2 ceil_mode", inputs: x32,
              node: NodeSpec("MaxPool", inputs: ["x"], outputs: ["y"],
                             attributes: [("kernel_shape", .ints([3, 3])), ("strides", .ints([2, 2])), ("ceil_mode", .int(1))]),
              expected: [[1, 3, 16, 16]]),
    ShapeCase(label: "MaxPool ceil_mode drops a window starting in the end padding", inputs: [("x", [1, 1, 2, 2])],
              node: NodeSpec("MaxPool", inputs: ["x"], outputs: ["y"],
                             attributes: [("kernel_shape", .ints([1, 1])), ("strides", .ints([2, 2])), ("pads", .ints([1, 1, 1, 1])), ("ceil_mode", .int(1))]),
              expected: [[1, 1, 2, 2]]),
    ShapeCase(label: "AveragePool ceil_mode with pads", inputs: [("x", [1, 3, 7, 7])],
              node: NodeSpec("AveragePool", inputs: ["x"], outputs: ["y"],
                             attributes: [("kernel_shape", .ints([2, 2])), ("strides", .ints([2, 2])), ("ceil_mode", .int(1))]),
              expected: [[1, 3, 4, 4]]),
    ShapeCase(label: "MaxPool with indices output", inputs: x32,
              node: NodeSpec("MaxPool", inputs: ["x"], outputs: ["y", "idx"], attributes: [("kernel_shape", .ints([2, 2])), ("strides", .ints([2, 2]))]),
              expected: [[1, 3, 16, 16], [1, 3, 16, 16]]),
    ShapeCase(label: "GlobalAveragePool", inputs: x32, node: NodeSpec("GlobalAveragePool", inputs: ["x"], outputs: ["y"]), expected: [[1, 3, 1, 1]]),
    // Gemm and MatMul.
    ShapeCase(label: "Gemm transB", inputs: [("x", [4, 3])], initializers: [zeros("w", [5, 3])],
              node: NodeSpec("Gemm", inputs: ["x", "w"], outputs: ["y"], attributes: [("transB", .int(1))]), expected: [[4, 5]]),
    ShapeCase(label: "Gemm transA", inputs: [("x", [3, 4])], initializers: [zeros("w", [3, 5])],
              node: NodeSpec("Gemm", inputs: ["x", "w"], outputs: ["y"], attributes: [("transA", .int(1))]), expected: [[4, 5]]),
    ShapeCase(label: "Gemm transA transB", inputs: [("x", [3, 4])], initializers: [zeros("w", [5, 3])],
              node: NodeSpec("Gemm", inputs: ["x", "w"], outputs: ["y"], attributes: [("transA", .int(1)), ("transB", .int(1))]), expected: [[4, 5]]),
    ShapeCase(label: "MatMul batch broadcasting", inputs: [("x", [2, 1, 4, 3])], initializers: [zeros("w", [5, 3, 6])],
              node: NodeSpec("MatMul", inputs: ["x", "w"], outputs: ["y"]), expected: [[2, 5, 4, 6]]),
    ShapeCase(label: "MatMul vector × matrix", inputs: [("x", [3])], initializers: [zeros("w", [3, 4])],
              node: NodeSpec("MatMul", inputs: ["x", "w"], outputs: ["y"]), expected: [[4]]),
    ShapeCase(label: "MatMul batch × vector", inputs: [("x", [2, 3, 4])], initializers: [zeros("w", [4])],
              node: NodeSpec("MatMul", inputs: ["x", "w"], outputs: ["y"]), expected: [[2, 3]]),
    // Layout ops.
    ShapeCase(label: "Concat axis 1", inputs: [("x", [1, 2, 4]), ("z", [1, 3, 4])],
              node: NodeSpec("Concat", inputs: ["x", "z"], outputs: ["y"], attributes: [("axis", .int(1))]), expected: [[1, 5, 4]]),
    ShapeCase(label: "Concat negative axis", inputs: [("x", [1, 2, 4]), ("z", [1, 2, 1])],
              node: NodeSpec("Concat", inputs: ["x", "z"], outputs: ["y"], attributes: [("axis", .int(-1))]), expected: [[1, 2, 5]]),
    ShapeCase(label: "Split equal", inputs: [("x", [1, 6, 4])],
              node: NodeSpec("Split", inputs: ["x"], outputs: ["a", "b", "c"], attributes: [("axis", .int(1))]),
              expected: [[1, 2, 4], [1, 2, 4], [1, 2, 4]]),
    ShapeCase(label: "Split sizes input", inputs: [("x", [1, 6, 4])], initializers: [.int64("sizes", dims: [2], values: [1, 5])],
              node: NodeSpec("Split", inputs: ["x", "sizes"], outputs: ["a", "b"], attributes: [("axis", .int(1))]),
              expected: [[1, 1, 4], [1, 5, 4]]),
    ShapeCase(label: "Split uneven (opset 18)", inputs: [("x", [7, 2])],
              node: NodeSpec("Split", inputs: ["x"], outputs: ["a", "b", "c"], attributes: [("num_outputs", .int(3))]),
              expected: [[3, 2], [3, 2], [1, 2]], opset: 18),
    ShapeCase(label: "Flatten axis 2", inputs: [("x", [2, 3, 4, 5])],
              node: NodeSpec("Flatten", inputs: ["x"], outputs: ["y"], attributes: [("axis", .int(2))]), expected: [[6, 20]]),
    ShapeCase(label: "Flatten axis 0", inputs: [("x", [2, 3, 4, 5])],
              node: NodeSpec("Flatten", inputs: ["x"], outputs: ["y"], attributes: [("axis", .int(0))]), expected: [[1, 120]]),
    ShapeCase(label: "Reshape 0 and -1", inputs: [("x", [2, 3, 4])], initializers: [.int64("s", dims: [2], values: [0, -1])],
              node: NodeSpec("Reshape", inputs: ["x", "s"], outputs: ["y"]), expected: [[2, 12]]),
    ShapeCase(label: "Reshape -1 first", inputs: [("x", [2, 3, 4])], initializers: [.int64("s", dims: [2], values: [-1, 4])],
              node: NodeSpec("Reshape", inputs: ["x", "s"], outputs: ["y"]), expected: [[6, 4]]),
    ShapeCase(label: "Transpose NCHW → NHWC", inputs: [("x", [1, 3, 8, 5])],
              node: NodeSpec("Transpose", inputs: ["x"], outputs: ["y"], attributes: [("perm", .ints([0, 2, 3, 1]))]), expected: [[1, 8, 5, 3]]),
    ShapeCase(label: "Pad (pads input)", inputs: [("x", [1, 3, 4, 4])], initializers: [.int64("p", dims: [8], values: [0, 0, 1, 2, 0, 0, 3, 4])],
              node: NodeSpec("Pad", inputs: ["x", "p"], outputs: ["y"]), expected: [[1, 3, 8, 10]]),
    ShapeCase(label: "Pad (opset 2 attribute)", inputs: [("x", [1, 3, 4, 4])],
              node: NodeSpec("Pad", inputs: ["x"], outputs: ["y"], attributes: [("pads", .ints([0, 0, 1, 1, 0, 0, 1, 1]))]),
              expected: [[1, 3, 6, 6]], opset: 2),
    ShapeCase(label: "Slice step 2 to INT64_MAX", inputs: [("x", [1, 3, 10, 10])],
              initializers: [.int64("st", dims: [1], values: [1]), .int64("en", dims: [1], values: [.max]),
                             .int64("ax", dims: [1], values: [2]), .int64("sp", dims: [1], values: [2])],
              node: NodeSpec("Slice", inputs: ["x", "st", "en", "ax", "sp"], outputs: ["y"]), expected: [[1, 3, 5, 10]]),
    ShapeCase(label: "Slice reversed", inputs: [("x", [4, 10])],
              initializers: [.int64("st", dims: [1], values: [-1]), .int64("en", dims: [1], values: [.min]),
                             .int64("ax", dims: [1], values: [-1]), .int64("sp", dims: [1], values: [-3])],
              node: NodeSpec("Slice", inputs: ["x", "st", "en", "ax", "sp"], outputs: ["y"]), expected: [[4, 4]]),
    ShapeCase(label: "Resize scales", inputs: [("x", [1, 3, 8, 8])], initializers: [.float("sc", dims: [4], values: [1, 1, 2, 2.5])],
              node: NodeSpec("Resize", inputs: ["x", "", "sc"], outputs: ["y"]), expected: [[1, 3, 16, 20]]),
    ShapeCase(label: "Resize sizes", inputs: [("x", [1, 3, 8, 8])], initializers: [.int64("sz", dims: [4], values: [1, 3, 5, 7])],
              node: NodeSpec("Resize", inputs: ["x", "", "", "sz"], outputs: ["y"]), expected: [[1, 3, 5, 7]]),
]

@Suite("Shape inference")
struct ShapeInferenceTests {
    @Test("output shapes", arguments: shapeCases)
    func shapes(_ c: ShapeCase) throws {
        let spec = model(nodes: [c.node], initializers: c.initializers,
                         inputs: c.inputs.map { ValueInfoSpec($0.0, shape: $0.1) }, opset: c.opset)
        let g = try prepared(spec)
        #expect(c.node.outputs.map { g.shapes[$0] } == c.expected.map { Optional($0) })
    }

    @Test("SAME_UPPER puts the extra pad at the end, SAME_LOWER at the start")
    func samePadsSplit() throws {
        let node = Node(name: "c", opType: "Conv", inputs: [], outputs: [], attributes: ["auto_pad": .string("SAME_UPPER")])
        let upper = try WindowGeometry.resolve(node: node, input: [7], kernel: [4], path: "m")
        #expect(upper.output == [7])
        #expect(upper.padsBegin == [1] && upper.padsEnd == [2])
        var lowerNode = node
        lowerNode.attributes["auto_pad"] = .string("SAME_LOWER")
        let lower = try WindowGeometry.resolve(node: lowerNode, input: [7], kernel: [4], path: "m")
        #expect(lower.padsBegin == [2] && lower.padsEnd == [1])
    }

    @Test("NHWC input with a Transpose in front (as tf2onnx writes it)")
    func nhwc() throws {
        var b = NetworkBuilder(seed: 4)
        let x = b.input("input_1", shape: [1, 32, 32, 3])
        let t = b.node("Transpose", [x], shape: [1, 3, 32, 32], attributes: [("perm", .ints([0, 3, 1, 2]))])
        var y = b.relu(b.conv(t, outChannels: 16, kernel: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1]))
        y = b.node("Transpose", [y], shape: [1, 16, 16, 16], attributes: [("perm", .ints([0, 2, 3, 1]))])
        b.output(y)
        let g = try prepared(b.model())
        #expect(g.shapes[t] == [1, 3, 32, 32])
        #expect(g.shapes[y] == [1, 16, 16, 16])
        let convNode = try #require(g.graph.nodes.first { $0.opType == "Conv" })
        #expect(g.shapes[convNode.outputs[0]] == [1, 16, 16, 16])
    }

    @Test("elementwise ops broadcast; unknown ops leave outputs unshaped")
    func elementwiseAndUnknown() throws {
        let g = try prepared(model(nodes: [
            NodeSpec("Add", name: "add", inputs: ["x", "b"], outputs: ["y"]),
            NodeSpec("FancyOp", name: "fancy", domain: "com.example", inputs: ["y"], outputs: ["z"]),
        ], initializers: [zeros("b", [3, 1, 1])], inputs: [ValueInfoSpec("x", shape: [2, 1, 4, 5])]))
        #expect(g.shapes["y"] == [2, 3, 4, 5])
        #expect(g.shapes["z"] == nil)
    }

    struct Inconsistent: Sendable, CustomTestStringConvertible {
        var label: String
        var spec: ModelSpec
        var kind: String
        var fragments: [String]
        var testDescription: String { label }
    }

    static let inconsistent: [Inconsistent] = [
        Inconsistent(label: "Conv channel mismatch", spec: model(nodes: [conv([])], initializers: [zeros("w", [8, 4, 3, 3])],
                                                                 inputs: [ValueInfoSpec("x", shape: [1, 3, 8, 8])]),
                     kind: "badNode", fragments: ["conv", "channels"]),
        Inconsistent(label: "Conv kernel larger than input", spec: model(nodes: [conv([])], initializers: [zeros("w", [8, 3, 9, 9])],
                                                                         inputs: [ValueInfoSpec("x", shape: [1, 3, 8, 8])]),
                     kind: "badNode", fragments: ["conv", "does not fit"]),
        Inconsistent(label: "Conv unknown auto_pad", spec: model(nodes: [conv([("auto_pad", .string("SOMETIMES"))])], initializers: w3,
                                                                 inputs: [ValueInfoSpec("x", shape: [1, 3, 8, 8])]),
                     kind: "badAttribute", fragments: ["conv", "auto_pad", "SOMETIMES"]),
        Inconsistent(label: "Conv absurd stride", spec: model(nodes: [conv([("strides", .ints([1 << 62, 1]))])], initializers: w3,
                                                              inputs: [ValueInfoSpec("x", shape: [1, 3, 8, 8])]),
                     kind: "badAttribute", fragments: ["conv", "strides"]),
        Inconsistent(label: "Conv absurd pads", spec: model(nodes: [conv([("pads", .ints([.max, 0, .max, 0]))])], initializers: w3,
                                                            inputs: [ValueInfoSpec("x", shape: [1, 3, 8, 8])]),
                     kind: "badAttribute", fragments: ["conv", "pads"]),
        Inconsistent(label: "MaxPool absurd kernel", spec: model(nodes: [NodeSpec("MaxPool", name: "pool", inputs: ["x"], outputs: ["y"],
                                                                                  attributes: [("kernel_shape", .ints([.max, 2])), ("dilations", .ints([2, 2]))])],
                                                                 inputs: [ValueInfoSpec("x", shape: [1, 3, 8, 8])]),
                     kind: "badAttribute", fragments: ["pool", "kernel_shape"]),
        Inconsistent(label: "Gemm inner mismatch", spec: model(nodes: [NodeSpec("Gemm", name: "fc", inputs: ["x", "w"], outputs: ["y"])],
                                                               initializers: [zeros("w", [5, 3])], inputs: [ValueInfoSpec("x", shape: [4, 3])]),
                     kind: "badNode", fragments: ["fc", "inner"]),
        Inconsistent(label: "MatMul inner mismatch", spec: model(nodes: [NodeSpec("MatMul", name: "mm", inputs: ["x", "w"], outputs: ["y"])],
                                                                 initializers: [zeros("w", [5, 3])], inputs: [ValueInfoSpec("x", shape: [4, 3])]),
                     kind: "badNode", fragments: ["mm"]),
        Inconsistent(label: "Reshape to an impossible size", spec: model(nodes: [NodeSpec("Reshape", name: "rs", inputs: ["x", "s"], outputs: ["y"])],
                                                                         initializers: [.int64("s", dims: [2], values: [5, -1])],
                                                                         inputs: [ValueInfoSpec("x", shape: [2, 3])]),
                     kind: "badNode", fragments: ["rs"]),
        Inconsistent(label: "Reshape to a target whose product overflows", spec: model(
            nodes: [NodeSpec("Reshape", name: "rs_huge", inputs: ["x", "s"], outputs: ["y"])],
            initializers: [.int64("s", dims: [3], values: [1 << 40, 1 << 40, 0])], inputs: [ValueInfoSpec("x", shape: [2, 3])]),
                     kind: "badNode", fragments: ["rs_huge"]),
        Inconsistent(label: "Pad with absurd pads", spec: model(nodes: [NodeSpec("Pad", name: "pad", inputs: ["x", "p"], outputs: ["y"])],
                                                                initializers: [.int64("p", dims: [4], values: [.max, 0, .max, 0])],
                                                                inputs: [ValueInfoSpec("x", shape: [2, 3])]),
                     kind: "badNode", fragments: ["pad"]),
        Inconsistent(label: "Resize with a NaN scale", spec: model(nodes: [NodeSpec("Resize", name: "rsz", inputs: ["x", "", "sc"], outputs: ["y"])],
                                                                   initializers: [.float("sc", dims: [2], values: [1, .nan])],
                                                                   inputs: [ValueInfoSpec("x", shape: [2, 3])]),
                     kind: "badNode", fragments: ["rsz", "scale"]),
        Inconsistent(label: "Resize with a huge scale", spec: model(nodes: [NodeSpec("Resize", name: "rsz", inputs: ["x", "", "sc"], outputs: ["y"])],
                                                                    initializers: [.float("sc", dims: [2], values: [1, 1e30])],
                                                                    inputs: [ValueInfoSpec("x", shape: [2, 3])]),
                     kind: "badNode", fragments: ["rsz"]),
        Inconsistent(label: "Split sizes not summing", spec: model(nodes: [NodeSpec("Split", name: "sp", inputs: ["x"], outputs: ["a", "b"],
                                                                                   attributes: [("split", .ints([.max, 4]))])],
                                                                   inputs: [ValueInfoSpec("x", shape: [3])], opset: 11),
                     kind: "badAttribute", fragments: ["sp", "split"]),
        Inconsistent(label: "Transpose perm not a permutation", spec: model(nodes: [NodeSpec("Transpose", name: "tp", inputs: ["x"], outputs: ["y"],
                                                                                           attributes: [("perm", .ints([0, 0]))])],
                                                                            inputs: [ValueInfoSpec("x", shape: [2, 3])]),
                     kind: "badAttribute", fragments: ["tp", "perm"]),
    ]

    @Test("inconsistent or absurd nodes are refused with the node named", arguments: inconsistent)
    func refused(_ c: Inconsistent) throws {
        let (error, path) = try loadError(c.spec)
        expectError(error, c.kind, path: path, naming: c.fragments)
    }
}
