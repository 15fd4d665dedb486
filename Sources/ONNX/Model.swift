/// One dimension of a tensor shape: a number, a symbolic name, or nothing known.
public enum Dim: Hashable, Sendable, CustomStringConvertible {
    case value(Int)
    case param(String)
    case unknown

    public var value: Int? { if case let .value(v) = self { return v } else { return nil } }

    public var description: String {
        switch self {
        case let .value(v): return String(v)
        case let .param(p): return p
        case .unknown: return "?"
        }
    }
}

/// A graph input, output or intermediate value as declared in the file.
public struct ValueInfo: Sendable {
    public var name: String
    /// Element type code (nil when the type is not a tensor or not given).
    public var elementType: DataType?
    /// nil when the file gives no shape at all.
    public var shape: [Dim]?

    public init(name: String, elementType: DataType?, shape: [Dim]?) {
        self.name = name
        self.elementType = elementType
        self.shape = shape
    }
}

/// A node attribute's value (AttributeProto, by its `type`).
public enum Attribute: Sendable {
    case float(Float)
    case int(Int)
    case string(String)
    case tensor(Tensor)
    case graph(Graph)
    case floats([Float])
    case ints([Int])
    case strings([String])
    case tensors([Tensor])
    case graphs([Graph])
    /// Sparse tensors, type protos, or a reference to a function attribute.
    case unsupported(String)
}

/// A condition a node of an inlined If branch runs under (see `Flattener`): the node runs
/// when the boolean tensor `condition` equals `branch` (true: the then_branch).
public struct BranchGuard: Sendable, Equatable, Hashable {
    public var condition: String
    public var branch: Bool
    public init(condition: String, branch: Bool) {
        self.condition = condition
        self.branch = branch
    }
}

/// A graph node (NodeProto).
public struct Node: Sendable {
    /// The node name; exporters sometimes leave it empty, in which case Kappa names it
    /// `<op_type>_<index>` so that every message can point at a node.
    public var name: String
    public var opType: String
    public var domain: String
    /// Input names; "" marks an omitted optional input.
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [String: Attribute]
    /// In the flat graph of `ModelGraph`: the If branches this node lies in (empty elsewhere).
    public var guards: [BranchGuard] = []

    public init(name: String, opType: String, domain: String = "", inputs: [String], outputs: [String],
                attributes: [String: Attribute] = [:]) {
        self.name = name
        self.opType = opType
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }

    public func int(_ key: String) -> Int? { if case let .int(v)? = attributes[key] { return v } else { return nil } }
    public func float(_ key: String) -> Float? {
        switch attributes[key] {
        case let .float(v)?: return v
        case let .int(v)?: return Float(v)
        default: return nil
        }
    }
    public func ints(_ key: String) -> [Int]? { if case let .ints(v)? = attributes[key] { return v } else { return nil } }
    public func floats(_ key: String) -> [Float]? { if case let .floats(v)? = attributes[key] { return v } else { return nil } }
    public func string(_ key: String) -> String? { if case let .string(v)? = attributes[key] { return v } else { return nil } }
    public func tensor(_ key: String) -> Tensor? { if case let .tensor(v)? = attributes[key] { return v } else { return nil } }

    /// Names the node's subgraphs (If branches, Loop/Scan bodies) read from the enclosing scope.
    /// Empty for every node of `ModelGraph`'s flat graph except a control-flow node that could
    /// not be inlined.
    public var subgraphReferences: [String] { Flattener.outerReferences(self) }

    /// The i-th input name if present and not the empty placeholder.
    public func input(_ i: Int) -> String? {
        i < inputs.count && !inputs[i].isEmpty ? inputs[i] : nil
    }
}

/// A graph (GraphProto): nodes in file order, initializers, declared inputs/outputs.
public struct Graph: Sendable {
    public var name: String
    public var nodes: [Node]
    public var initializers: [Tensor]
    public var inputs: [ValueInfo]
    public var outputs: [ValueInfo]
    public var valueInfo: [ValueInfo]

    public init(name: String, nodes: [Node], initializers: [Tensor], inputs: [ValueInfo],
                outputs: [ValueInfo], valueInfo: [ValueInfo] = []) {
        self.name = name
        self.nodes = nodes
        self.initializers = initializers
        self.inputs = inputs
        self.outputs = outputs
        self.valueInfo = valueInfo
    }

    /// Graph inputs that are real data inputs (not also initializers, as IR < 4 writes them).
    public var dataInputs: [ValueInfo] {
        let inits = Set(initializers.map(\.name))
        return inputs.filter { !inits.contains($0.name) }
    }
}

/// A decoded model file.
public struct Model: Sendable {
    /// The path it was read from, as given.
    public var path: String
    public var irVersion: Int
    public var producerName: String
    public var producerVersion: String
    /// Operator set versions by domain ("" is the default ONNX domain).
    public var opsets: [String: Int]
    public var graph: Graph
    /// Names of model-local functions (FunctionProto); their nodes are not expanded.
    public var functions: [String]
    /// Size of the model file in bytes.
    public var fileSize: Int

    public init(path: String, irVersion: Int, producerName: String, producerVersion: String,
                opsets: [String: Int], graph: Graph, functions: [String] = [], fileSize: Int = 0) {
        self.path = path
        self.irVersion = irVersion
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.opsets = opsets
        self.graph = graph
        self.functions = functions
        self.fileSize = fileSize
    }
}
