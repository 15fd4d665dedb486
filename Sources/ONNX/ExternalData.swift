import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Resolves `data_location = EXTERNAL` tensors against the model's folder and maps the
/// data files (each once). Confinement follows the onnx checker: the location must be
/// relative, may not climb out with `..`, may not escape through a symbolic link, must be
/// a regular file, and offset + length must lie inside it.
final class ExternalDataResolver: @unchecked Sendable {
    let modelPath: String
    let folder: String
    private var mapped: [String: MappedFile] = [:]

    init(modelPath: String) {
        self.modelPath = modelPath
        self.folder = (modelPath as NSString).deletingLastPathComponent
    }

    func resolve(tensor: String, entries: [String: String], byteCount: Int) throws(ONNXError)
        -> (UnsafeRawBufferPointer, AnyObject)
    {
        func fail(_ reason: String) -> ONNXError { .externalData(path: modelPath, tensor: tensor, reason: reason) }
        guard let location = entries["location"], !location.isEmpty else { throw fail("no 'location' entry") }
        if location.hasPrefix("/") || location.hasPrefix("\\") || location.contains(":") && location.first?.isLetter == true && location.dropFirst().first == ":" {
            throw fail("location '\(location)' is an absolute path; it must be relative to the model's folder")
        }
        let parts = location.split(whereSeparator: { $0 == "/" || $0 == "\\" })
        if parts.contains("..") { throw fail("location '\(location)' climbs out of the model's folder with '..'") }
        var offset = 0
        if let o = entries["offset"] {
            guard let v = Int(o), v >= 0 else { throw fail("offset '\(o)' is not a non-negative integer") }
            offset = v
        }
        var length: Int?
        if let l = entries["length"] {
            guard let v = Int(l), v >= 0 else { throw fail("length '\(l)' is not a non-negative integer") }
            length = v
        }
        let base = folder.isEmpty ? "." : folder
        let joined = base + "/" + location
        guard let realFolder = realPath(base) else { throw fail("cannot resolve the model's folder '\(base)'") }
        guard let realFile = realPath(joined) else { throw fail("file '\(location)' does not exist (looked in '\(base)')") }
        guard realFile.hasPrefix(realFolder.hasSuffix("/") ? realFolder : realFolder + "/") else {
            throw fail("location '\(location)' resolves to '\(realFile)', outside the model's folder (symbolic link?)")
        }
        let file: MappedFile
        if let f = mapped[realFile] {
            file = f
        } else {
            do { file = try MappedFile(path: realFile) } catch { throw fail("'\(location)': \(error.reason)") }
            mapped[realFile] = file
        }
        let size = file.bytes.count
        guard offset <= size else { throw fail("offset \(offset) is past the end of '\(location)' (\(size) bytes)") }
        let len = length ?? (size - offset)
        guard len <= size - offset else {
            throw fail("offset \(offset) + length \(len) exceeds the size of '\(location)' (\(size) bytes)")
        }
        guard len == byteCount else {
            throw fail("length \(len) does not match dims × type size = \(byteCount) bytes")
        }
        guard let start = file.bytes.baseAddress else {
            if byteCount == 0 { return (UnsafeRawBufferPointer(start: nil, count: 0), file) }
            throw fail("'\(location)' is empty")
        }
        return (UnsafeRawBufferPointer(start: start + offset, count: len), file)
    }

    private func realPath(_ p: String) -> String? {
        guard let r = realpath(p, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }
}
