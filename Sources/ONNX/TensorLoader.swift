import CProtobufC
import Foundation
import ONNXProto

/// Owns an unpacked `Onnx__TensorProto` (protobuf-c memory), freed in `deinit`; the
/// decoded `Tensor` borrows its data and keeps it alive.
final class ProtoTensor: @unchecked Sendable {
    let tensor: UnsafeMutablePointer<Onnx__TensorProto>
    init(_ tensor: UnsafeMutablePointer<Onnx__TensorProto>) { self.tensor = tensor }
    deinit { onnx__tensor_proto__free_unpacked(tensor, nil) }
}

/// Reads a serialized TensorProto file, as the ONNX test-data sets store inputs and
/// outputs (`test_data_set_0/input_0.pb`). The same validation as model weights applies
/// (type, dims, data size, external data confined to the file's folder).
public enum TensorLoader {
    public static func load(path: String) throws(ONNXError) -> Tensor {
        let file: MappedFile
        do { file = try MappedFile(path: path) } catch { throw .unreadable(path: path, reason: error.reason) }
        do {
            try WireScan.scan(file.bytes, maxDepth: ModelLoader.maxNesting, root: .tensor)
        } catch {
            switch error {
            case let .malformed(reason): throw .notTensorProto(path: path, reason: reason)
            case let .tooDeep(depth): throw .nestingTooDeep(path: path, depth: depth)
            }
        }
        guard let base = file.bytes.baseAddress,
              let unpacked = onnx__tensor_proto__unpack(nil, file.bytes.count, base.assumingMemoryBound(to: UInt8.self))
        else {
            throw .notTensorProto(path: path, reason: "protobuf-c rejected the TensorProto (a field has the wrong wire type or an invalid value)")
        }
        let owner = ProtoTensor(unpacked)
        let decoder = Decoder(path: path, owner: owner, file: file)
        return try decoder.tensor(unpacked, storage: .initializer, fallbackName: (path as NSString).lastPathComponent)
    }
}
