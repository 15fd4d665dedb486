import Foundation
import KappaTestSupport
import ONNX
import Testing

/// A fresh folder under the system temp directory, removed when the value is released.
final class TempFolder: @unchecked Sendable {
    let path: String

    init(_ label: String = "kappa-onnx") {
        let name = "\(label)-\(UUID().uuidString)"
        path = (NSTemporaryDirectory() as NSString).appendingPathComponent(name)
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    /// Writes `spec` as `name` in this folder and returns its path.
    @discardableResult
    func write(_ spec: ModelSpec, as name: String = "model.onnx") throws -> String {
        let p = file(name)
        try ONNXWriter.write(spec, to: p)
        return p
    }

    /// Writes raw bytes as `name` in this folder and returns its path.
    @discardableResult
    func write(bytes: [UInt8], as name: String) throws -> String {
        let p = file(name)
        let dir = (p as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: p))
        return p
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Writes `spec` to a temp folder and loads it back.
func roundTrip(_ spec: ModelSpec) throws -> Model {
    let folder = TempFolder()
    let path = try folder.write(spec)
    return try ModelLoader.load(path: path)
}

/// Writes, loads and prepares `spec` (validation, folding, shapes).
func prepared(_ spec: ModelSpec, inputShapes: [String: [Int]] = [:]) throws -> ModelGraph {
    try ModelGraph(model: roundTrip(spec), inputShapes: inputShapes)
}

/// A one-graph model with the given pieces (opset 17 unless told).
func model(nodes: [NodeSpec] = [], initializers: [TensorSpec] = [], inputs: [ValueInfoSpec] = [],
           outputs: [ValueInfoSpec] = [], opset: Int64 = 17) -> ModelSpec {
    ModelSpec(graph: GraphSpec(name: "g", nodes: nodes, initializers: initializers, inputs: inputs, outputs: outputs),
              opset: opset)
}

/// Little-endian bytes of a value array (what `raw_data` holds).
func leBytes<T>(_ values: [T]) -> [UInt8] { values.withUnsafeBytes { Array($0) } }

extension ONNXError {
    /// The case name, for comparing "which kind of error" without the details.
    var kind: String {
        switch self {
        case .unreadable: "unreadable"
        case .notProtobuf: "notProtobuf"
        case .notTensorProto: "notTensorProto"
        case .nestingTooDeep: "nestingTooDeep"
        case .noGraph: "noGraph"
        case .unknownDataType: "unknownDataType"
        case .badDims: "badDims"
        case .dataSizeMismatch: "dataSizeMismatch"
        case .externalData: "externalData"
        case .duplicateName: "duplicateName"
        case .undefinedInput: "undefinedInput"
        case .cycle: "cycle"
        case .badAttribute: "badAttribute"
        case .badNode: "badNode"
        case .constantTooLarge: "constantTooLarge"
        case .badInputShape: "badInputShape"
        }
    }

    var message: String { errorDescription ?? "" }
}

/// Runs `body` and returns the ONNXError it throws (records an issue when it throws none).
func onnxError(_ body: () throws(ONNXError) -> Void, sourceLocation: SourceLocation = #_sourceLocation) -> ONNXError? {
    do {
        try body()
        Issue.record("expected an ONNXError, nothing was thrown", sourceLocation: sourceLocation)
        return nil
    } catch {
        return error
    }
}

/// Loads and prepares the file at `path`, returning the first ONNXError.
func loadError(_ path: String, inputShapes: [String: [Int]] = [:],
               sourceLocation: SourceLocation = #_sourceLocation) -> ONNXError? {
    onnxError({ () throws(ONNXError) in
        _ = try ModelGraph(model: ModelLoader.load(path: path), inputShapes: inputShapes)
    }, sourceLocation: sourceLocation)
}

/// Writes `spec` to a temp folder, loads and prepares it, returning the first ONNXError
/// together with the path the message must name.
func loadError(_ spec: ModelSpec, inputShapes: [String: [Int]] = [:],
               sourceLocation: SourceLocation = #_sourceLocation) throws -> (ONNXError?, String) {
    let folder = TempFolder()
    let path = try folder.write(spec)
    return (loadError(path, inputShapes: inputShapes, sourceLocation: sourceLocation), path)
}

/// Checks that `error` is the `kind` case and that its one-line message names the file
/// and every fragment.
func expectError(_ error: ONNXError?, _ kind: String, path: String, naming fragments: [String] = [],
                 sourceLocation: SourceLocation = #_sourceLocation) {
    guard let error else {
        Issue.record("no error, expected \(kind)", sourceLocation: sourceLocation)
        return
    }
    #expect(error.kind == kind, "\(error.message)", sourceLocation: sourceLocation)
    let msg = error.message
    #expect(msg.hasPrefix(path + ":"), "message does not start with the file path: \(msg)", sourceLocation: sourceLocation)
    #expect(!msg.contains("\n"), "message is not one line: \(msg)", sourceLocation: sourceLocation)
    for f in fragments {
        #expect(msg.contains(f), "message does not name '\(f)': \(msg)", sourceLocation: sourceLocation)
    }
}
