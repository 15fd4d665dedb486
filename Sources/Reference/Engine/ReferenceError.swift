import Foundation

/// Every way the reference engine, DeepFool or an input reader can refuse. Each case names
/// the node or file at fault so the CLI prints one line and exits with code 2.
public enum ReferenceError: Error, LocalizedError, Equatable, Sendable {
    /// The node's op has no reference implementation.
    case unsupportedOp(node: String, op: String)
    /// The node's attributes or operand shapes cannot be evaluated.
    case badNode(node: String, op: String, reason: String)
    /// An operand that must be a constant (shape, axes, indices, BN statistics) is computed.
    case notConstant(node: String, op: String, input: String)
    /// The model has no such tensor, or it does not depend on the data input.
    case badOutput(name: String, reason: String)
    /// The model's data inputs do not fit what was given.
    case badFeed(reason: String)
    /// An input file (.npy, .pb, folder) that cannot be read or decoded.
    case inputFile(path: String, reason: String)
    /// An invalid option value (ranges, shard specs, counts).
    case badOption(String)
    /// A tensor larger than the engine's memory limit (``Engine/maxElements``).
    case tooLarge(tensor: String, elements: Int)

    public var errorDescription: String? {
        switch self {
        case let .unsupportedOp(node, op):
            return "node '\(node)': op '\(op)' is not supported by the reference engine"
        case let .badNode(node, op, reason):
            return "node '\(node)' (\(op)): \(reason)"
        case let .notConstant(node, op, input):
            return "node '\(node)' (\(op)): input '\(input)' must be a constant for the reference engine"
        case let .badOutput(name, reason):
            return "output tensor '\(name)': \(reason)"
        case let .badFeed(reason):
            return "model input: \(reason)"
        case let .inputFile(path, reason):
            return "\(path): \(reason)"
        case let .badOption(message):
            return message
        case let .tooLarge(tensor, elements):
            return "tensor '\(tensor)' has \(elements) elements (\(elements / (1 << 28)) GiB as float32); the reference engine holds at most \(Engine.maxElements) per tensor"
        }
    }
}
