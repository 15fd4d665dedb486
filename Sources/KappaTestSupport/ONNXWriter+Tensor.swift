import CProtobufC
import Foundation
import ONNXProto

extension ONNXWriter {
    /// Serialises one TensorProto (the layout of ONNX test-data files, `input_0.pb`).
    public static func serializeTensor(_ spec: TensorSpec) -> [UInt8] {
        let arena = Arena()
        let t = tensor(spec, arena)
        let size = onnx__tensor_proto__get_packed_size(t)
        var out = [UInt8](repeating: 0, count: size)
        _ = out.withUnsafeMutableBufferPointer { onnx__tensor_proto__pack(t, $0.baseAddress) }
        return out
    }
}
