import ONNX

/// Plain descriptions of ONNX messages, for tests and benchmarks to build model files.
/// Every field can hold invalid values on purpose (negative dims, unknown type codes,
/// wrong data sizes, missing graph), so the malformed corpus is built with the same writer.

public enum DimSpec: Sendable, ExpressibleByIntegerLiteral {
    case value(Int64)
    case param(String)
    public init(integerLiteral v: Int64) { self = .value(v) }
}

public struct ValueInfoSpec: Sendable {
    public var name: String
    public var elemType: Int32
    /// nil writes a tensor type without a shape.
    public var dims: [DimSpec]?
    public init(_ name: String, elemType: Int32 = DataType.float.rawValue, dims: [DimSpec]?) {
        self.name = name
        self.elemType = elemType
        self.dims = dims
    }
    public init(_ name: String, shape: [Int], elemType: DataType = .float) {
        self.init(name, elemType: elemType.rawValue, dims: shape.map { .value(Int64($0)) })
    }
}

/// How a tensor's values are stored in the file.
public enum TensorData: Sendable {
    /// `raw_data` bytes, exactly as given.
    case raw([UInt8])
    case floatData([Float])
    case int32Data([Int32])
    case int64Data([Int64])
    case doubleData([Double])
    case uint64Data([UInt64])
    /// `data_location = EXTERNAL` with these `external_data` entries (offset/length omitted when nil).
    case external(location: String, offset: Int64?, length: Int64?)
    /// External data with arbitrary key/value entries.
    case externalEntries([(String, String)])
    /// No data fields at all.
    case none
}

public struct TensorSpec: Sendable {
    public var name: String
    public var dataType: Int32
    public var dims: [Int64]
    public var data: TensorData

    public init(name: String, dataType: Int32, dims: [Int64], data: TensorData) {
        self.name = name
        self.dataType = dataType
        self.dims = dims
        self.data = data
    }

    /// FLOAT tensor stored as little-endian raw_data.
    public static func float(_ name: String, dims: [Int], values: [Float]) -> TensorSpec {
        TensorSpec(name: name, dataType: DataType.float.rawValue, dims: dims.map { Int64($0) },
                   data: .raw(values.withUnsafeBytes { Array($0) }))
    }

    /// INT64 tensor stored as raw_data.
    public static func int64(_ name: String, dims: [Int], values: [Int64]) -> TensorSpec {
        TensorSpec(name: name, dataType: DataType.int64.rawValue, dims: dims.map { Int64($0) },
                   data: .raw(values.withUnsafeBytes { Array($0) }))
    }
}

public indirect enum AttrSpec: Sendable {
    case int(Int)
    case float(Float)
    case string(String)
    case ints([Int])
    case floats([Float])
    case strings([String])
    case tensor(TensorSpec)
    case graph(GraphSpec)
    case graphs([GraphSpec])
    /// An attribute whose `type` field is set to `type` but carries no value.
    case empty(type: Int32)
}

public struct NodeSpec: Sendable {
    public var op: String
    public var name: String
    public var domain: String
    public var inputs: [String]
    public var outputs: [String]
    public var attributes: [(String, AttrSpec)]

    public init(_ op: String, name: String = "", domain: String = "", inputs: [String], outputs: [String],
                attributes: [(String, AttrSpec)] = []) {
        self.op = op
        self.name = name
        self.domain = domain
        self.inputs = inputs
        self.outputs = outputs
        self.attributes = attributes
    }
}

public struct GraphSpec: Sendable {
    public var name: String
    public var nodes: [NodeSpec]
    public var initializers: [TensorSpec]
    public var inputs: [ValueInfoSpec]
    public var outputs: [ValueInfoSpec]
    public var valueInfo: [ValueInfoSpec]

    public init(name: String = "graph", nodes: [NodeSpec] = [], initializers: [TensorSpec] = [],
                inputs: [ValueInfoSpec] = [], outputs: [ValueInfoSpec] = [], valueInfo: [ValueInfoSpec] = []) {
        self.name = name
        self.nodes = nodes
        self.initializers = initializers
        self.inputs = inputs
        self.outputs = outputs
        self.valueInfo = valueInfo
    }
}

public struct ModelSpec: Sendable {
    public var irVersion: Int64
    public var opsets: [(domain: String, version: Int64)]
    public var producerName: String
    public var producerVersion: String
    /// nil writes a ModelProto without a graph.
    public var graph: GraphSpec?
    public var functions: [String]

    public init(graph: GraphSpec?, irVersion: Int64 = 8, opset: Int64 = 17,
                producerName: String = "kappa-tests", producerVersion: String = "1") {
        self.graph = graph
        self.irVersion = irVersion
        self.opsets = [("", opset)]
        self.producerName = producerName
        self.producerVersion = producerVersion
        self.functions = []
    }
}
