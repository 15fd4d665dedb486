/// A model made ready for analysis: the main graph validated (unique names, every input
/// defined, no cycle), its nodes in topological order, producer/consumer maps, every
/// constant tensor folded, and static shapes inferred from the inputs' shapes.
public struct ModelGraph: Sendable {
    public let model: Model
    public var graph: Graph { model.graph }
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

        // Names: initializers unique; node outputs unique and distinct from initializers/inputs.
        var defined = Set<String>()
        var initNames = Set<String>()
        for t in g.initializers {
            guard initNames.insert(t.name).inserted else { throw .duplicateName(path: path, name: t.name, kind: "initializer") }
        }
        defined.formUnion(initNames)
        var inputNames = Set<String>()
        for i in g.inputs {
            guard inputNames.insert(i.name).inserted else { throw .duplicateName(path: path, name: i.name, kind: "graph input") }
        }
        defined.formUnion(inputNames)
        var producer: [String: Int] = [:]
        var nodeNames = Set<String>()
        for (idx, n) in g.nodes.enumerated() {
            if !nodeNames.insert(n.name).inserted {
                notes.append("node name '\(n.name)' is used by more than one node")
            }
            for o in n.outputs where !o.isEmpty {
                if producer[o] != nil || defined.contains(o) {
                    throw .duplicateName(path: path, name: o, kind: "tensor (node '\(n.name)' output)")
                }
                producer[o] = idx
            }
        }
        // Inputs defined; consumers; Kahn's topological sort.
        var consumers: [String: [Int]] = [:]
        var indegree = Array(repeating: 0, count: g.nodes.count)
        var dependents = Array(repeating: [Int](), count: g.nodes.count)
        for (idx, n) in g.nodes.enumerated() {
            var seen = Set<Int>()
            for i in n.inputs where !i.isEmpty {
                consumers[i, default: []].append(idx)
                if let p = producer[i] {
                    if seen.insert(p).inserted {
                        indegree[idx] += 1
                        dependents[p].append(idx)
                    }
                } else if !defined.contains(i) {
                    throw .undefinedInput(path: path, node: n.name, input: i)
                }
            }
        }
        var ready = (0..<g.nodes.count).filter { indegree[$0] == 0 }.reversed() as [Int]
        var order: [Int] = []
        order.reserveCapacity(g.nodes.count)
        // A stack keeps file order for already-sorted graphs (pop smallest index first).
        while let n = ready.popLast() {
            order.append(n)
            for d in dependents[n].reversed() {
                indegree[d] -= 1
                if indegree[d] == 0 { ready.append(d) }
            }
        }
        guard order.count == g.nodes.count else {
            let stuck = (0..<g.nodes.count).filter { indegree[$0] > 0 }.map { g.nodes[$0].name }
            throw .cycle(path: path, nodes: stuck)
        }
        var outputNames = Set<String>()
        for o in g.outputs {
            guard outputNames.insert(o.name).inserted else { throw .duplicateName(path: path, name: o.name, kind: "graph output") }
            if producer[o.name] == nil && !defined.contains(o.name) {
                throw .undefinedInput(path: path, node: "graph output", input: o.name)
            }
        }

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

        var folder = ConstantFolder(path: path, graph: g)
        var declaredTypes: [String: DataType] = [:]
        for v in g.valueInfo + g.outputs { if let t = v.elementType { declaredTypes[v.name] = t } }
        var inference = ShapeInference(path: path, shapes: shapes, dtypes: dtypes, declared: declaredTypes)
        for t in g.initializers {
            inference.shapes[t.name] = t.dims
            inference.dtypes[t.name] = t.dataType
        }
        // Declared ranks (symbolic dimensions still give a rank) for attribute validation.
        var declaredRank: [String: Int] = [:]
        for v in g.inputs + g.valueInfo + g.outputs { if let s = v.shape { declaredRank[v.name] = s.count } }
        for idx in order {
            let n = g.nodes[idx]
            let x = n.input(0)
            let rank = x.flatMap { inference.shapes[$0]?.count ?? folder.constants[$0]?.dims.count ?? declaredRank[$0] }
            let weightRank = n.input(1).flatMap { folder.constants[$0]?.dims.count }
            try NodeValidator.validate(n, rank: rank, weightRank: weightRank, path: path)
            try NodeValidator.validateOperands(n, constants: folder.constants, path: path)
            try folder.visit(n, shapes: inference.shapes)
            try inference.visit(n, constants: folder.constants)
        }
        self.order = order
        self.producer = producer
        self.consumers = consumers
        self.constants = folder.constants
        self.shapes = inference.shapes
        self.dtypes = inference.dtypes
        self.inputs = resolvedInputs
        self.notes = notes + inference.notes
    }

    /// The node that produces `tensor`, if any.
    public func producerNode(of tensor: String) -> Node? {
        producer[tensor].map { graph.nodes[$0] }
    }

    /// Whether `tensor` is a constant (weight) rather than a function of the input.
    public func isConstant(_ tensor: String) -> Bool { constants[tensor] != nil }
}
