import KappaTestSupport
import ONNX
import Testing

@Suite("Graph: order, validation and input shapes")
struct GraphTests {
    static let x = ValueInfoSpec("x", shape: [1, 4])

    @Test("nodes listed out of order are sorted so producers come first")
    func topologicalOrder() throws {
        let g = try prepared(model(nodes: [
            NodeSpec("Add", name: "join", inputs: ["b", "c"], outputs: ["y"]),
            NodeSpec("Sigmoid", name: "right", inputs: ["a"], outputs: ["c"]),
            NodeSpec("Relu", name: "left", inputs: ["a"], outputs: ["b"]),
            NodeSpec("Neg", name: "first", inputs: ["x"], outputs: ["a"]),
        ], inputs: [Self.x], outputs: [ValueInfoSpec("y", shape: [1, 4])]))
        let names = g.order.map { g.graph.nodes[$0].name }
        #expect(Set(names) == ["join", "right", "left", "first"])
        func pos(_ n: String) -> Int { names.firstIndex(of: n) ?? -1 }
        #expect(pos("first") < pos("left") && pos("first") < pos("right"))
        #expect(pos("left") < pos("join") && pos("right") < pos("join"))
        #expect(g.producer["b"] == 2)
        #expect(g.producerNode(of: "a")?.name == "first")
        #expect(g.consumers["a"]?.sorted() == [1, 2])
        #expect(g.shapes["y"] == [1, 4])
    }

    @Test("an already sorted graph keeps its file order")
    func fileOrderKept() throws {
        let nodes = (0..<6).map { i in NodeSpec("Relu", name: "n\(i)", inputs: [i == 0 ? "x" : "t\(i - 1)"], outputs: ["t\(i)"]) }
        let g = try prepared(model(nodes: nodes, inputs: [Self.x]))
        #expect(g.order == Array(0..<6))
    }

    @Test("a cycle is refused, naming the nodes on it")
    func cycle() throws {
        let (error, path) = try loadError(model(nodes: [
            NodeSpec("Relu", name: "ok", inputs: ["x"], outputs: ["a"]),
            NodeSpec("Add", name: "loop_add", inputs: ["a", "d"], outputs: ["c"]),
            NodeSpec("Relu", name: "loop_relu", inputs: ["c"], outputs: ["d"]),
        ], inputs: [Self.x]))
        expectError(error, "cycle", path: path, naming: ["loop_add", "loop_relu"])
        #expect(error?.message.contains("'ok'") == false)
    }

    @Test("a node reading its own output is a cycle")
    func selfLoop() throws {
        let (error, path) = try loadError(model(nodes: [NodeSpec("Relu", name: "self_loop", inputs: ["a"], outputs: ["a"])]))
        expectError(error, "cycle", path: path, naming: ["self_loop"])
    }

    @Test("an undefined node input is refused, naming node and input")
    func undefinedInput() throws {
        let (error, path) = try loadError(model(nodes: [
            NodeSpec("Add", name: "adder", inputs: ["x", "ghost"], outputs: ["y"]),
        ], inputs: [Self.x]))
        expectError(error, "undefinedInput", path: path, naming: ["adder", "ghost"])
    }

    @Test("an undefined graph output is refused")
    func undefinedOutput() throws {
        let (error, path) = try loadError(model(nodes: [NodeSpec("Relu", name: "r", inputs: ["x"], outputs: ["y"])],
                                                inputs: [Self.x], outputs: [ValueInfoSpec("nothing", shape: [1])]))
        expectError(error, "undefinedInput", path: path, naming: ["nothing", "graph output"])
    }

    @Test("empty input names mark omitted optional inputs and are not undefined")
    func omittedOptional() throws {
        let g = try prepared(model(nodes: [NodeSpec("Clip", name: "clip", inputs: ["x", "", "hi"], outputs: ["y"])],
                                   initializers: [.float("hi", dims: [], values: [6])], inputs: [Self.x]))
        #expect(g.shapes["y"] == [1, 4])
    }

    struct Duplicate: Sendable, CustomTestStringConvertible {
        var label: String
        var spec: ModelSpec
        var name: String
        var kind: String
        var testDescription: String { label }
    }

    static let duplicates: [Duplicate] = [
        Duplicate(label: "two initializers", spec: model(initializers: [.float("w", dims: [1], values: [1]), .float("w", dims: [1], values: [2])]),
                  name: "w", kind: "initializer"),
        Duplicate(label: "two nodes with one output name", spec: model(nodes: [
            NodeSpec("Relu", name: "r1", inputs: ["x"], outputs: ["y"]),
            NodeSpec("Sigmoid", name: "r2", inputs: ["x"], outputs: ["y"]),
        ], inputs: [x]), name: "y", kind: "r2"),
        Duplicate(label: "a node output shadowing an initializer", spec: model(nodes: [
            NodeSpec("Relu", name: "shadow", inputs: ["x"], outputs: ["w"]),
        ], initializers: [.float("w", dims: [1], values: [1])], inputs: [x]), name: "w", kind: "shadow"),
        Duplicate(label: "a node output shadowing a graph input", spec: model(nodes: [
            NodeSpec("Relu", name: "shadow_in", inputs: ["x"], outputs: ["x"]),
        ], inputs: [x]), name: "x", kind: "shadow_in"),
        Duplicate(label: "two graph inputs", spec: model(inputs: [x, x]), name: "x", kind: "graph input"),
        Duplicate(label: "two graph outputs", spec: model(nodes: [NodeSpec("Relu", name: "r", inputs: ["x"], outputs: ["y"])],
                                                          inputs: [x], outputs: [ValueInfoSpec("y", shape: [1, 4]), ValueInfoSpec("y", shape: [1, 4])]),
                  name: "y", kind: "graph output"),
    ]

    @Test("duplicate names are refused", arguments: duplicates)
    func duplicateNames(_ d: Duplicate) throws {
        let (error, path) = try loadError(d.spec)
        expectError(error, "duplicateName", path: path, naming: ["'\(d.name)'", d.kind])
    }

    @Test("two nodes with the same node name are allowed, with a note")
    func duplicateNodeNames() throws {
        let g = try prepared(model(nodes: [
            NodeSpec("Relu", name: "same", inputs: ["x"], outputs: ["a"]),
            NodeSpec("Relu", name: "same", inputs: ["a"], outputs: ["b"]),
        ], inputs: [Self.x]))
        #expect(g.notes.contains { $0.contains("'same'") })
    }

    // MARK: input shapes

    static let symbolic = ValueInfoSpec("img", elemType: DataType.float.rawValue, dims: [.param("batch"), 3, 8, 8])
    static let conv = NodeSpec("Conv", name: "conv", inputs: ["img", "w"], outputs: ["y"], attributes: [("pads", .ints([1, 1, 1, 1]))])
    static let weight = TensorSpec.float("w", dims: [2, 3, 3, 3], values: Array(repeating: 0.1, count: 54))

    @Test("a symbolic batch dimension defaults to 1, with a note")
    func symbolicBatch() throws {
        let g = try prepared(model(nodes: [Self.conv], initializers: [Self.weight], inputs: [Self.symbolic]))
        #expect(g.shapes["img"] == [1, 3, 8, 8])
        #expect(g.shapes["y"] == [1, 2, 8, 8])
        #expect(g.inputs.first?.shape == [.value(1), .value(3), .value(8), .value(8)])
        #expect(g.notes.contains { $0.contains("'img'") && $0.contains("'batch'") && $0.contains("set to 1") })
    }

    @Test("other symbolic dimensions leave the shape unknown, with a note naming the input")
    func symbolicSpatial() throws {
        let g = try prepared(model(nodes: [Self.conv], initializers: [Self.weight],
                                   inputs: [ValueInfoSpec("img", elemType: 1, dims: [1, 3, .param("H"), .param("W")])]))
        #expect(g.shapes["img"] == nil)
        #expect(g.shapes["y"] == nil)
        #expect(g.notes.contains { $0.contains("'img'") && $0.contains("--input-shape") })
        let noShape = try prepared(model(inputs: [ValueInfoSpec("img", elemType: 1, dims: nil)]))
        #expect(noShape.notes.contains { $0.contains("'img'") && $0.contains("declares no shape") })
    }

    @Test("inputShapes fixes symbolic dimensions")
    func override() throws {
        let spec = model(nodes: [Self.conv], initializers: [Self.weight],
                         inputs: [ValueInfoSpec("img", elemType: 1, dims: [.param("N"), 3, .param("H"), .param("W")])])
        let g = try prepared(spec, inputShapes: ["img": [4, 3, 16, 10]])
        #expect(g.shapes["y"] == [4, 2, 16, 10])
        #expect(g.inputs.first?.shape == [.value(4), .value(3), .value(16), .value(10)])
        #expect(!g.notes.contains { $0.contains("set to 1") })
    }

    struct BadOverride: Sendable, CustomTestStringConvertible {
        var label: String
        var shapes: [String: [Int]]
        var fragments: [String]
        var testDescription: String { label }
    }

    @Test("inputShapes errors: unknown input, rank mismatch, contradicting a fixed dimension, negative or absurd dims",
          arguments: [
              BadOverride(label: "unknown input", shapes: ["image": [1, 3, 8, 8]], fragments: ["'image'", "no data input", "img"]),
              BadOverride(label: "initializer is not an input", shapes: ["w": [2, 3, 3, 3]], fragments: ["'w'", "no data input"]),
              BadOverride(label: "rank mismatch", shapes: ["img": [1, 3, 8]], fragments: ["'img'", "rank 3", "rank 4"]),
              BadOverride(label: "contradicts a fixed dim", shapes: ["img": [1, 4, 8, 8]], fragments: ["'img'", "dimension 4", "fixes 3"]),
              BadOverride(label: "negative dim", shapes: ["img": [1, 3, -8, 8]], fragments: ["'img'", "-8"]),
              BadOverride(label: "absurd dims", shapes: ["img": [1 << 30, 3, 1 << 30, 1 << 30]], fragments: ["'img'"]),
          ])
    func badOverride(_ c: BadOverride) throws {
        let (error, path) = try loadError(model(nodes: [Self.conv], initializers: [Self.weight], inputs: [Self.symbolic]),
                                          inputShapes: c.shapes)
        expectError(error, "badInputShape", path: path, naming: c.fragments)
    }

    @Test("a declared input shape with absurd dimensions is refused, not overflowed")
    func absurdDeclaredInput() throws {
        let (error, path) = try loadError(model(nodes: [NodeSpec("Flatten", name: "flat", inputs: ["big"], outputs: ["y"])],
                                                inputs: [ValueInfoSpec("big", elemType: 1, dims: [.value(1 << 40), .value(1 << 40), .value(1 << 40), 0])]))
        expectError(error, "badDims", path: path, naming: ["big"])
    }
}
