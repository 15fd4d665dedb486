/// A model made ready for analysis: the main graph validated (unique names, every input
/// defined, no cycle) and flattened with its `If`/`Loop`/`Scan` subgraphs inlined
/// (``Flattener``), its nodes in topological order, producer/consumer maps, every constant
/// tensor folded, and static shapes inferred from the inputs' shapes.
public struct ModelGraph: Sendable {
    public let model: Model
    /// The flat graph: the main graph's inputs and outputs, every node (subgraphs inlined under
    /// prefixed names), every initializer (subgraphs' under their flat names).
    public let graph: Graph
    public var path: String { model.path }
    /// Node indices (into `graph.nodes`) in an order where producers come first.
    public let order: [Int]
    /// Tensor name → index of the node that produces it.
    public let producer: [String: Int]
    /// Tensor name → indices of the nodes that read it.
    public let consumers: [String: [Int]]
    /// Tensor name → constant value (initializers, Constant nodes, folded chains).
    public let constants: [String: Tensor]
    /// Tensor name → static shape, where inference could determine it.
    public let shapes: [String: [Int]]
    /// Tensor name → element type, where known.
    public let dtypes: [String: DataType]
    /// The data inputs (graph inputs that are not initializers), with resolved shapes.
    public let inputs: [ValueInfo]
    /// Informational notes (defaults applied, e.g. a symbolic batch dimension set to 1).
    public let notes: [String]

    /// Validates and prepares `model`. `inputShapes` fixes symbolic or unknown input
    /// dimensions by input name (the CLI's `--input-shape NAME=1x3x224x224`).
    public init(model: Model, inputShapes: [String: [Int]] = [:]) throws(ONNXError) {
        self.model = model
        let path = model.path
        let g = model.graph
        var notes: [String] = []

        // Input shapes: declared, overridden by --input-shape, symbolic batch → 1.
        var shapes: [String: [Int]] = [:]
        var dtypes: [String: DataType] = [:]
        var resolvedInputs: [ValueInfo] = []
        let dataInputs = g.dataInputs
        for name in inputShapes.keys where !dataInputs.contains(where: { $0.name == name }) {
            throw .badInputShape(path: path, input: name, reason: "the model has no data input of that name (inputs: \(dataInputs.map(\.name).joined(separator: ", ")))")
        }
        for var vi in dataInputs {
            if let t = vi.elementType { dtypes[vi.name] = t }
            if let fixed = inputShapes[vi.name] {
                if let declared = vi.shape, declared.count != fixed.count {
                    throw .badInputShape(path: path, input: vi.name, reason: "rank \(fixed.count) given, the model declares rank \(declared.count) \(declared)")
                }
                guard Shapes.isPlausible(fixed) else {
                    throw .badInputShape(path: path, input: vi.name, reason: "\(fixed) has a negative extent or more than \(Shapes.maxElements) elements")
                }
                if let declared = vi.shape {
                    for (d, f) in zip(declared, fixed) {
                        if case let .value(v) = d, v != f {
                            throw .badInputShape(path: path, input: vi.name, reason: "dimension \(f) given where the model fixes \(v)")
                        }
                    }
                }
                vi.shape = fixed.map { .value($0) }
                shapes[vi.name] = fixed
            } else if var s = vi.shape {
                if let first = s.first, first.value == nil, s.count >= 2 {
                    notes.append("input '\(vi.name)': batch dimension '\(first)' set to 1 (use --input-shape to choose)")
                    s[0] = .value(1)
                }
                let concrete = s.compactMap(\.value)
                guard Shapes.isPlausible(concrete) else {
                    throw .badDims(path: path, tensor: vi.name, dims: concrete.map { Int64($0) },
                                   reason: "the declared input shape has more than \(Shapes.maxElements) elements")
                }
                if concrete.count == s.count {
                    shapes[vi.name] = concrete
                } else {
                    notes.append("input '\(vi.name)' has symbolic dimensions \(s); fix them with --input-shape \(vi.name)=…")
                }
                vi.shape = s
            } else {
                notes.append("input '\(vi.name)' declares no shape; give one with --input-shape \(vi.name)=…")
            }
            resolvedInputs.append(vi)
        }

        var declaredTypes: [String: DataType] = [:]
        for v in g.valueInfo + g.outputs { if let t = v.elementType { declaredTypes[v.name] = t } }
        var inference = ShapeInference(path: path, shapes: shapes, dtypes: dtypes, declared: declaredTypes)
        for v in g.inputs + g.valueInfo + g.outputs { if let s = v.shape { inference.declaredRank[v.name] = s.count } }
        // Symbolic dimensions the inputs fixed (a batch set to 1, --input-shape) bind the same
        // symbols in the shapes the file declares.
        var symbols: [String: Int] = [:]
        for vi in dataInputs {
            guard let declared = vi.shape, let fixed = shapes[vi.name], declared.count == fixed.count else { continue }
            for (d, f) in zip(declared, fixed) { if case let .param(p) = d { symbols[p] = f } }
        }
        for v in g.valueInfo + g.outputs {
            guard let s = v.shape else { continue }
            let dims = s.map { d -> Int? in
                switch d {
                case let .value(x): return x
                case let .param(p): return symbols[p]
                case .unknown: return nil
                }
            }
            if dims.allSatisfy({ $0 != nil }) { inference.declaredShapes[v.name] = dims.compactMap { $0 } }
        }
        var flattener = Flattener(path: path, folder: ConstantFolder(path: path), inference: inference)
        _ = try flattener.flatten(g, prefix: "", parent: nil, bindings: [:], guards: [])
        var outputNames = Set<String>()
        for o in g.outputs {
            guard outputNames.insert(o.name).inserted else { throw .duplicateName(path: path, name: o.name, kind: "graph output") }
        }
        let nodes = flattener.nodes
        var consumers: [String: [Int]] = [:]
        for (idx, n) in nodes.enumerated() {
            for i in n.inputs where !i.isEmpty { consumers[i, default: []].append(idx) }
        }
        let initializers = flattener.folder.initializers
        graph = Graph(name: g.name, nodes: nodes, initializers: initializers, inputs: g.inputs, outputs: g.outputs, valueInfo: g.valueInfo)
        self.order = Array(nodes.indices)
        self.producer = flattener.producer
        self.consumers = consumers
        self.constants = flattener.folder.constants
        self.shapes = flattener.inference.shapes
        self.dtypes = flattener.inference.dtypes
        self.inputs = resolvedInputs
        self.notes = notes + flattener.notes + flattener.inference.notes
    }

    /// The node that produces `tensor`, if any.
    public func producerNode(of tensor: String) -> Node? {
        producer[tensor].map { graph.nodes[$0] }
    }

    /// Whether `tensor` is a constant (weight) rather than a function of the input.
    public func isConstant(_ tensor: String) -> Bool { constants[tensor] != nil }
}
