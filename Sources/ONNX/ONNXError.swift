import Foundation

/// Every way a model file can be rejected. Each case names the file and the offending
/// tensor, node or field, so the CLI can print it as one line and exit with code 2.
public enum ONNXError: Error, LocalizedError, Equatable, Sendable {
    /// The path does not exist or cannot be opened/read.
    case unreadable(path: String, reason: String)
    /// The bytes are not a protobuf ModelProto (truncated, wrong wire type, ...).
    case notProtobuf(path: String, reason: String)
    /// An ONNX test-data file (`input_0.pb`) that is not a serialized TensorProto.
    case notTensorProto(path: String, reason: String)
    /// Messages nested deeper than `ModelLoader.maxNesting` (subgraphs inside subgraphs).
    case nestingTooDeep(path: String, depth: Int)
    /// The ModelProto has no graph.
    case noGraph(path: String)
    /// A tensor's data type code is unknown or not supported for numeric data.
    case unknownDataType(path: String, tensor: String, code: Int)
    /// Negative, absurd or overflowing dims.
    case badDims(path: String, tensor: String, dims: [Int64], reason: String)
    /// The stored data does not hold dims × type size bytes (or elements).
    case dataSizeMismatch(path: String, tensor: String, expected: Int, actual: Int, field: String)
    /// External data that is missing, escapes the model folder or lies outside its file.
    case externalData(path: String, tensor: String, reason: String)
    /// Two tensors or graph values with the same name.
    case duplicateName(path: String, name: String, kind: String)
    /// A node input that no graph input, initializer, constant or earlier node defines.
    case undefinedInput(path: String, node: String, input: String)
    /// The nodes cannot be ordered: they form a cycle.
    case cycle(path: String, nodes: [String])
    /// An attribute with a missing or wrong-typed value.
    case badAttribute(path: String, node: String, attribute: String, reason: String)
    /// A node whose inputs cannot be interpreted (shape mismatch, missing operand, ...).
    case badNode(path: String, node: String, reason: String)
    /// A constant that folding refuses to materialise (too large, unsupported form).
    case constantTooLarge(path: String, node: String, elements: Int)
    /// A `--input-shape` that names no input or whose rank does not match.
    case badInputShape(path: String, input: String, reason: String)

    public var errorDescription: String? { Self.oneLine(message) }

    /// Names come from the file: keep each to 120 characters in a message.
    static func clip(_ name: String) -> String {
        name.count <= 120 ? name : String(name.prefix(117)) + "..."
    }

    /// Escapes control characters (newlines, terminal escapes) that a crafted file can put
    /// into names, so every message stays one printable line.
    static func oneLine(_ text: String) -> String {
        var out = ""
        out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
        for u in text.unicodeScalars {
            if u.value < 0x20 || (0x7F...0x9F).contains(u.value) || u.value == 0x2028 || u.value == 0x2029 {
                out += "\\u{" + String(u.value, radix: 16) + "}"
            } else {
                out.unicodeScalars.append(u)
            }
        }
        return out
    }

    private var message: String {
        switch self {
        case let .unreadable(path, reason):
            return "\(path): cannot read: \(reason)"
        case let .notProtobuf(path, reason):
            return "\(path): not an ONNX model (protobuf decoding failed: \(reason))"
        case let .notTensorProto(path, reason):
            return "\(path): not a serialized ONNX TensorProto (protobuf decoding failed: \(reason))"
        case let .nestingTooDeep(path, depth):
            return "\(path): messages nested \(depth) levels deep (subgraphs inside subgraphs); the limit is \(ModelLoader.maxNesting)"
        case let .noGraph(path):
            return "\(path): the model has no graph (ModelProto.graph is missing)"
        case let .unknownDataType(path, tensor, code):
            return "\(path): tensor '\(Self.clip(tensor))': unknown or unsupported data type \(code)"
        case let .badDims(path, tensor, dims, reason):
            return "\(path): tensor '\(Self.clip(tensor))': invalid dims \(dims): \(reason)"
        case let .dataSizeMismatch(path, tensor, expected, actual, field):
            return "\(path): tensor '\(Self.clip(tensor))': \(field) holds \(actual) but its dims and type need \(expected)"
        case let .externalData(path, tensor, reason):
            return "\(path): tensor '\(Self.clip(tensor))': external data: \(reason)"
        case let .duplicateName(path, name, kind):
            return "\(path): duplicate \(kind) name '\(Self.clip(name))'"
        case let .undefinedInput(path, node, input):
            return "\(path): node '\(Self.clip(node))': input '\(Self.clip(input))' is not defined by any graph input, initializer or earlier node"
        case let .cycle(path, nodes):
            let shown = nodes.prefix(5).map { "'\(Self.clip($0))'" }.joined(separator: ", ")
            return "\(path): the graph has a cycle through nodes \(shown)\(nodes.count > 5 ? ", ..." : "")"
        case let .badAttribute(path, node, attribute, reason):
            return "\(path): node '\(Self.clip(node))': attribute '\(Self.clip(attribute))': \(reason)"
        case let .badNode(path, node, reason):
            return "\(path): node '\(Self.clip(node))': \(reason)"
        case let .constantTooLarge(path, node, elements):
            return "\(path): node '\(Self.clip(node))': constant of \(elements) elements exceeds the folding limit of \(ConstantFolder.maxElements)"
        case let .badInputShape(path, input, reason):
            return "\(path): --input-shape '\(Self.clip(input))': \(reason)"
        }
    }
}
