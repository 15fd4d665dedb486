import Foundation

extension ONNXWriter {
    /// Writes `spec` with every initializer of at least `threshold` raw bytes moved into one
    /// external data file `weightsFile` beside the model (data_location = EXTERNAL, 64-byte
    /// aligned offsets, explicit lengths), the layout `onnx.save_model(...,
    /// save_as_external_data=True, all_tensors_to_one_file=True)` produces.
    public static func writeWithExternalData(_ spec: ModelSpec, to path: String, weightsFile: String,
                                             threshold: Int = 1024) throws {
        var spec = spec
        let dir = (path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let weightsPath = dir.isEmpty ? weightsFile : dir + "/" + weightsFile
        guard FileManager.default.createFile(atPath: weightsPath, contents: nil) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: weightsPath])
        }
        guard let out = FileHandle(forWritingAtPath: weightsPath) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: weightsPath])
        }
        defer { try? out.close() }
        var offset: Int64 = 0
        if var g = spec.graph {
            for i in g.initializers.indices {
                guard case let .raw(bytes) = g.initializers[i].data, bytes.count >= threshold else { continue }
                let pad = Int((64 - offset % 64) % 64)
                if pad > 0 { try out.write(contentsOf: Data(count: pad)) }
                offset += Int64(pad)
                try out.write(contentsOf: Data(bytes))
                g.initializers[i].data = .external(location: weightsFile, offset: offset, length: Int64(bytes.count))
                offset += Int64(bytes.count)
            }
            spec.graph = g
        }
        try write(spec, to: path)
    }
}
