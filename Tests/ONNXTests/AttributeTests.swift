import KappaTestSupport
import ONNX
import Testing

@Suite("Loader: attributes and model metadata")
struct AttributeTests {
    static let subgraph = GraphSpec(
        name: "body",
        nodes: [NodeSpec("Relu", name: "inner_relu", inputs: ["a"], outputs: ["b"])],
        initializers: [.float("inner_w", dims: [2], values: [0.5, -0.5])],
        inputs: [ValueInfoSpec("a", shape: [2])],
        outputs: [ValueInfoSpec("b", shape: [2])])

    static let node = NodeSpec(
        "Custom", name: "all_kinds", domain: "com.example", inputs: ["x", ""], outputs: ["y"],
        attributes: [
            ("i", .int(-7)),
            ("big", .int(1 << 40)),
            ("f", .float(0.25)),
            ("s", .string("héllo")),
            ("is", .ints([1, -2, 3])),
            ("fs", .floats([1.5, -0.0, 3])),
            ("ss", .strings(["a", "", "ccc"])),
            ("t", .tensor(.float("attr_tensor", dims: [2, 2], values: [1, 2, 3, 4]))),
            ("g", .graph(subgraph)),
            ("gs", .graphs([subgraph, GraphSpec(name: "empty")])),
        ])

    @Test("every attribute kind survives a round trip")
    func roundTripAttributes() throws {
        let m = try roundTrip(model(nodes: [Self.node], inputs: [ValueInfoSpec("x", shape: [2])]))
        let n = try #require(m.graph.nodes.first)
        #expect(n.name == "all_kinds")
        #expect(n.opType == "Custom")
        #expect(n.domain == "com.example")
        #expect(n.inputs == ["x", ""])
        #expect(n.input(1) == nil)
        #expect(n.outputs == ["y"])
        #expect(n.attributes.count == 10)
        #expect(n.int("i") == -7)
        #expect(n.int("big") == 1 << 40)
        #expect(n.float("f") == 0.25)
        #expect(n.float("i") == -7)  // ints read as floats where an op allows either
        #expect(n.string("s") == "héllo")
        #expect(n.ints("is") == [1, -2, 3])
        #expect(n.floats("fs")?.map(\.bitPattern) == [Float(1.5), -0.0, 3].map(\.bitPattern))
        guard case let .strings(ss)? = n.attributes["ss"] else { Issue.record("ss is not strings"); return }
        #expect(ss == ["a", "", "ccc"])
        let t = try #require(n.tensor("t"))
        #expect(t.name == "attr_tensor")
        #expect(t.dims == [2, 2])
        #expect(t.floats() == [1, 2, 3, 4])
        #expect(t.storage == .constantNode)
        guard case let .graph(g)? = n.attributes["g"] else { Issue.record("g is not a graph"); return }
        #expect(g.name == "body")
        #expect(g.nodes.map(\.name) == ["inner_relu"])
        #expect(g.nodes.first?.opType == "Relu")
        #expect(g.initializers.first?.floats() == [0.5, -0.5])
        #expect(g.inputs.map(\.name) == ["a"])
        #expect(g.outputs.first?.shape == [.value(2)])
        guard case let .graphs(gs)? = n.attributes["gs"] else { Issue.record("gs is not graphs"); return }
        #expect(gs.map(\.name) == ["body", "empty"])
        // Wrong-kind accessors answer nil rather than converting.
        #expect(n.int("s") == nil)
        #expect(n.ints("i") == nil)
        #expect(n.tensor("g") == nil)
    }

    @Test("unnamed nodes get <op>_<index> names so messages can point at them")
    func unnamedNodes() throws {
        let m = try roundTrip(model(nodes: [
            NodeSpec("Relu", inputs: ["x"], outputs: ["a"]),
            NodeSpec("Relu", name: "named", inputs: ["a"], outputs: ["b"]),
            NodeSpec("Sigmoid", inputs: ["b"], outputs: ["c"]),
        ], inputs: [ValueInfoSpec("x", shape: [1])]))
        #expect(m.graph.nodes.map(\.name) == ["Relu_0", "named", "Sigmoid_2"])
    }

    @Test("producer, IR version, opsets and function names")
    func metadata() throws {
        var spec = ModelSpec(graph: GraphSpec(name: "main"), irVersion: 7, opset: 13,
                             producerName: "pytorch", producerVersion: "2.1.0")
        spec.opsets.append((domain: "com.microsoft", version: 1))
        spec.opsets.append((domain: "ai.onnx.ml", version: 3))
        spec.functions = ["MyGelu", "Swish"]
        let m = try roundTrip(spec)
        #expect(m.irVersion == 7)
        #expect(m.producerName == "pytorch")
        #expect(m.producerVersion == "2.1.0")
        #expect(m.opsets == ["": 13, "com.microsoft": 1, "ai.onnx.ml": 3])
        #expect(m.functions == ["local:MyGelu", "local:Swish"])
        #expect(m.graph.name == "main")
        #expect(m.fileSize == ONNXWriter.serialize(spec).count)
        #expect(m.path.hasSuffix("model.onnx"))
    }

    @Test("graph inputs, outputs and value_info keep element types and symbolic dims")
    func valueInfos() throws {
        var spec = model(inputs: [
            ValueInfoSpec("img", elemType: DataType.float16.rawValue, dims: [.param("N"), 3, 224, 224]),
            ValueInfoSpec("ids", elemType: DataType.int64.rawValue, dims: nil),
        ], outputs: [ValueInfoSpec("out", elemType: DataType.float.rawValue, dims: [.param(""), 10])])
        spec.graph?.valueInfo = [ValueInfoSpec("mid", shape: [1, 5])]
        let m = try roundTrip(spec)
        #expect(m.graph.inputs.map(\.name) == ["img", "ids"])
        #expect(m.graph.inputs[0].elementType == .float16)
        #expect(m.graph.inputs[0].shape == [.param("N"), .value(3), .value(224), .value(224)])
        #expect(m.graph.inputs[1].elementType == .int64)
        #expect(m.graph.inputs[1].shape == nil)
        #expect(m.graph.outputs[0].shape == [.unknown, .value(10)])
        #expect(m.graph.valueInfo.first?.shape == [.value(1), .value(5)])
    }

    @Test("graph inputs that are also initializers (IR < 4) are not data inputs")
    func initializerInputs() throws {
        let m = try roundTrip(model(initializers: [.float("w", dims: [1], values: [1])],
                                    inputs: [ValueInfoSpec("x", shape: [1]), ValueInfoSpec("w", shape: [1])]))
        #expect(m.graph.dataInputs.map(\.name) == ["x"])
    }
}
