import Foundation
import KappaTestSupport
import ONNX
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("Loader: external data")
struct ExternalDataTests {
    static let values: [Float] = [1, -2, 3.5, 0, 1e-3, -7]

    /// A model whose only initializer `w` (FLOAT, dims) stores its data as given.
    static func spec(_ data: TensorData, dims: [Int64] = [6], name: String = "w") -> ModelSpec {
        model(initializers: [TensorSpec(name: name, dataType: DataType.float.rawValue, dims: dims, data: data)])
    }

    /// 16 junk bytes, the six floats, 8 more junk bytes.
    static let weightsFile: [UInt8] = Array(repeating: 0xAB, count: 16) + leBytes(values) + Array(repeating: 0xCD, count: 8)

    @Test("offset and length select the bytes; the data is memory-mapped, not copied")
    func offsetAndLength() throws {
        let folder = TempFolder()
        try folder.write(bytes: Self.weightsFile, as: "weights.bin")
        let m = try ModelLoader.load(path: folder.write(Self.spec(.external(location: "weights.bin", offset: 16, length: 24))))
        let t = try #require(m.graph.initializers.first)
        #expect(t.storage == .external)
        #expect(t.owner is MappedFile)
        #expect(t.floats() == Self.values)
        #expect(t.byteCount == 24)
    }

    @Test("an omitted length means 'to the end of the file'; an omitted offset means 0")
    func omittedLength() throws {
        let folder = TempFolder()
        try folder.write(bytes: Array(repeating: 0, count: 8) + leBytes(Self.values), as: "tail.bin")
        try folder.write(bytes: leBytes(Self.values), as: "whole.bin")
        let m = try ModelLoader.load(path: folder.write(model(initializers: [
            TensorSpec(name: "a", dataType: DataType.float.rawValue, dims: [6], data: .external(location: "tail.bin", offset: 8, length: nil)),
            TensorSpec(name: "b", dataType: DataType.float.rawValue, dims: [2, 3], data: .external(location: "whole.bin", offset: nil, length: nil)),
        ])))
        #expect(m.graph.initializers.map { $0.floats() } == [Self.values, Self.values])
        #expect(m.graph.initializers.allSatisfy { $0.storage == .external })
    }

    @Test("several tensors share one file; subfolders and links inside the folder are allowed")
    func sharedFileAndSubfolder() throws {
        let folder = TempFolder()
        let ints: [Int64] = [10, -20, 1 << 40]
        try folder.write(bytes: leBytes(Self.values) + leBytes(ints), as: "data/all.bin")
        try FileManager.default.createSymbolicLink(atPath: folder.file("link.bin"), withDestinationPath: "data/all.bin")
        let m = try ModelLoader.load(path: folder.write(model(initializers: [
            TensorSpec(name: "f", dataType: DataType.float.rawValue, dims: [6], data: .external(location: "data/all.bin", offset: 0, length: 24)),
            TensorSpec(name: "i", dataType: DataType.int64.rawValue, dims: [3], data: .external(location: "data/all.bin", offset: 24, length: 24)),
            TensorSpec(name: "l", dataType: DataType.float.rawValue, dims: [6], data: .external(location: "link.bin", offset: 0, length: 24)),
        ])))
        let byName = Dictionary(uniqueKeysWithValues: m.graph.initializers.map { ($0.name, $0) })
        #expect(byName["f"]?.floats() == Self.values)
        #expect(byName["i"]?.int64s() == ints)
        #expect(byName["l"]?.floats() == Self.values)
        // One mapping per file: both tensors of all.bin borrow the same owner.
        #expect(byName["f"]?.owner === byName["i"]?.owner)
    }

    @Test("a relative model path resolves data against the model's folder")
    func relativeModelPath() throws {
        let folder = TempFolder()
        try folder.write(bytes: leBytes(Self.values), as: "w.bin")
        try folder.write(Self.spec(.external(location: "w.bin", offset: nil, length: nil)))
        // A path relative to the working directory ("../../tmp/…/model.onnx"), without chdir
        // (tests run in parallel and the working directory is process-wide).
        let cwd = FileManager.default.currentDirectoryPath.split(separator: "/")
        let rel = String(repeating: "../", count: cwd.count) + String(folder.file("model.onnx").dropFirst())
        #expect(!rel.hasPrefix("/"))
        let m = try ModelLoader.load(path: rel)
        #expect(m.graph.initializers.first?.floats() == Self.values)
    }

    struct Refusal: Sendable, CustomTestStringConvertible {
        var label: String
        /// Builds the scene in `folder` and returns the data entry for tensor `w`.
        var setup: @Sendable (TempFolder) throws -> TensorData
        var fragments: [String]
        var testDescription: String { label }
    }

    static let refusals: [Refusal] = [
        Refusal(label: "absolute path (of a file that exists)", setup: { f in
            try f.write(bytes: leBytes(values), as: "w.bin")
            return .external(location: f.file("w.bin"), offset: nil, length: nil)
        }, fragments: ["absolute path"]),
        Refusal(label: "'..' climbing out", setup: { f in
            try f.write(bytes: leBytes(values), as: "outside.bin")
            return .external(location: "../outside.bin", offset: nil, length: nil)
        }, fragments: ["'..'", "../outside.bin"]),
        Refusal(label: "'..' in the middle", setup: { f in
            try f.write(bytes: leBytes(values), as: "sub/w.bin")
            return .external(location: "sub/../sub/w.bin", offset: nil, length: nil)
        }, fragments: ["'..'"]),
        Refusal(label: "symbolic link pointing outside the folder", setup: { f in
            try f.write(bytes: leBytes(values), as: "outside.bin")
            try FileManager.default.createSymbolicLink(atPath: f.file("model/escape.bin"), withDestinationPath: f.file("outside.bin"))
            return .external(location: "escape.bin", offset: nil, length: nil)
        }, fragments: ["escape.bin", "outside the model's folder"]),
        Refusal(label: "directory instead of a file", setup: { f in
            try FileManager.default.createDirectory(atPath: f.file("model/dir.bin"), withIntermediateDirectories: true)
            return .external(location: "dir.bin", offset: nil, length: nil)
        }, fragments: ["dir.bin", "not a regular file"]),
        Refusal(label: "named pipe instead of a file (must not block)", setup: { f in
            #expect(mkfifo(f.file("model/pipe.bin"), 0o600) == 0)
            return .external(location: "pipe.bin", offset: nil, length: nil)
        }, fragments: ["pipe.bin", "not a regular file"]),
        Refusal(label: "missing file", setup: { _ in .external(location: "nowhere.bin", offset: nil, length: nil) },
                fragments: ["nowhere.bin", "does not exist"]),
        Refusal(label: "offset + length beyond the file", setup: { f in
            try f.write(bytes: leBytes(values), as: "model/w.bin")
            return .external(location: "w.bin", offset: 8, length: 24)
        }, fragments: ["offset 8", "length 24", "24 bytes"]),
        Refusal(label: "offset past the end", setup: { f in
            try f.write(bytes: leBytes(values), as: "model/w.bin")
            return .external(location: "w.bin", offset: 1000, length: nil)
        }, fragments: ["offset 1000"]),
        Refusal(label: "length ≠ dims × type size", setup: { f in
            try f.write(bytes: leBytes(values) + leBytes(values), as: "model/w.bin")
            return .external(location: "w.bin", offset: 0, length: 20)
        }, fragments: ["length 20", "24 bytes"]),
        Refusal(label: "omitted length and a file of the wrong size", setup: { f in
            try f.write(bytes: leBytes(values) + [0], as: "model/w.bin")
            return .external(location: "w.bin", offset: nil, length: nil)
        }, fragments: ["length 25", "24 bytes"]),
        Refusal(label: "negative offset", setup: { f in
            try f.write(bytes: leBytes(values), as: "model/w.bin")
            return .externalEntries([("location", "w.bin"), ("offset", "-4")])
        }, fragments: ["offset '-4'"]),
        Refusal(label: "offset that is not a number", setup: { f in
            try f.write(bytes: leBytes(values), as: "model/w.bin")
            return .externalEntries([("location", "w.bin"), ("length", "24 bytes")])
        }, fragments: ["length '24 bytes'"]),
        Refusal(label: "no location", setup: { _ in .externalEntries([("offset", "0")]) }, fragments: ["location"]),
        Refusal(label: "an offset beyond Int64", setup: { f in
            try f.write(bytes: leBytes(values), as: "model/w.bin")
            return .externalEntries([("location", "w.bin"), ("offset", "99999999999999999999999")])
        }, fragments: ["offset"]),
    ]

    @Test("external data that escapes the folder or does not fit is refused", arguments: refusals)
    func refused(_ r: Refusal) throws {
        let folder = TempFolder()
        try FileManager.default.createDirectory(atPath: folder.file("model"), withIntermediateDirectories: true)
        let data = try r.setup(folder)
        let path = try folder.write(Self.spec(data, name: "conv1.weight"), as: "model/model.onnx")
        let error = onnxError { () throws(ONNXError) in _ = try ModelLoader.load(path: path) }
        expectError(error, "externalData", path: path, naming: ["conv1.weight"] + r.fragments)
    }

    @Test("an unreadable model path is refused with the path in the message")
    func unreadableModel() throws {
        let folder = TempFolder()
        let missing = folder.file("missing.onnx")
        expectError(onnxError { () throws(ONNXError) in _ = try ModelLoader.load(path: missing) },
                    "unreadable", path: missing, naming: ["No such file"])
        expectError(onnxError { () throws(ONNXError) in _ = try ModelLoader.load(path: folder.path) },
                    "unreadable", path: folder.path, naming: ["not a regular file"])
        let fifo = folder.file("pipe.onnx")
        #expect(mkfifo(fifo, 0o600) == 0)
        expectError(onnxError { () throws(ONNXError) in _ = try ModelLoader.load(path: fifo) },
                    "unreadable", path: fifo, naming: ["not a regular file"])
    }
}
