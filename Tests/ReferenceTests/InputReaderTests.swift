import Foundation
import ONNX
import Testing
@testable import Reference
import KappaTestSupport

/// .npy (versions 1–3; <f4, <f8, |u1), TensorProto .pb and folder layouts, and one-line
/// errors naming the file for every malformed or unsupported file.
struct InputReaderTests {
    static func tempDir() throws -> String {
        let d = NSTemporaryDirectory() + "kappa-inputs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
        return d
    }

    /// A .npy file: magic, version, padded header dict, data.
    static func npy(version: UInt8 = 1, descr: String = "<f4", fortran: String = "False", shape: String, data: [UInt8]) -> [UInt8] {
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran), 'shape': \(shape), }"
        let pre = version == 1 ? 10 : 12
        while (pre + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [version, 0]
        let n = header.utf8.count
        out += version == 1 ? [UInt8(n & 0xFF), UInt8(n >> 8)] : [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), 0, 0]
        return out + Array(header.utf8) + data
    }

    static func bytes(_ v: [Float]) -> [UInt8] { v.withUnsafeBytes { Array($0) } }

    @Test(arguments: [UInt8(1), 2, 3])
    func npyVersionsAndFloat32(version: UInt8) throws {
        let d = try Self.tempDir()
        let f = d + "/a.npy"
        try Data(Self.npy(version: version, shape: "(1, 2, 2)", data: Self.bytes([1, 2, 3, 4.5]))).write(to: URL(fileURLWithPath: f))
        let (shape, values) = try NpyReader.read(path: f)
        #expect(shape == [1, 2, 2])
        #expect(values == [1, 2, 3, 4.5])
    }

    @Test func npyFloat64AndUInt8() throws {
        let d = try Self.tempDir()
        let f8 = [1.5, -2.25].withUnsafeBytes { Array($0) }
        try Data(Self.npy(descr: "<f8", shape: "(2,)", data: f8)).write(to: URL(fileURLWithPath: d + "/d.npy"))
        try Data(Self.npy(descr: "|u1", shape: "(3,)", data: [0, 128, 255])).write(to: URL(fileURLWithPath: d + "/u.npy"))
        #expect(try NpyReader.read(path: d + "/d.npy").values == [1.5, -2.25])
        #expect(try NpyReader.read(path: d + "/u.npy").values == [0, 128, 255])
    }

    /// A folder of .npy files; a file with a leading batch axis yields one input per item.
    @Test func npyFolderAndBatchSplit() throws {
        let d = try Self.tempDir()
        try Data(Self.npy(shape: "(1, 3)", data: Self.bytes([1, 2, 3]))).write(to: URL(fileURLWithPath: d + "/a.npy"))
        try Data(Self.npy(shape: "(2, 3)", data: Self.bytes([4, 5, 6, 7, 8, 9]))).write(to: URL(fileURLWithPath: d + "/b.npy"))
        let set = try InputSet.files(at: d, shape: [1, 3])
        #expect(set.entries.map(\.source) == ["a.npy", "b.npy[0]", "b.npy[1]"])
        #expect(try set.load(2).data == [7, 8, 9])
        #expect(try set.load(2).shape == [1, 3])
    }

    @Test func testDataSetsInNaturalOrder() throws {
        let d = try Self.tempDir()
        for k in [0, 2, 10] {
            let t = TensorSpec.float("x", dims: [1, 2], values: [Float(k), 1])
            try FileManager.default.createDirectory(atPath: d + "/test_data_set_\(k)", withIntermediateDirectories: true)
            try Data(ONNXWriter.serializeTensor(t)).write(to: URL(fileURLWithPath: d + "/test_data_set_\(k)/input_0.pb"))
        }
        let set = try InputSet.files(at: d, shape: [1, 2])
        #expect(set.entries.map(\.source) == ["test_data_set_0/input_0.pb", "test_data_set_2/input_0.pb", "test_data_set_10/input_0.pb"])
        #expect(try set.load(2).data == [10, 1])
    }

    struct Bad: CustomStringConvertible, Sendable {
        var name: String
        var bytes: [UInt8]
        var expect: String
        var description: String { name }
    }

    static let badFiles: [Bad] = [
        Bad(name: "bad.npy", bytes: Array("not numpy at all".utf8), expect: "bad magic"),
        Bad(name: "trunc.npy", bytes: Array(npy(shape: "(4,)", data: bytes([1, 2, 3, 4])).prefix(20)), expect: "truncated"),
        Bad(name: "short.npy", bytes: npy(shape: "(4,)", data: bytes([1, 2, 3])), expect: "needs 16"),
        Bad(name: "obj.npy", bytes: npy(descr: "|O", shape: "(1,)", data: [0, 0, 0, 0, 0, 0, 0, 0]), expect: "dtype '|O' is not supported"),
        Bad(name: "be.npy", bytes: npy(descr: ">f4", shape: "(1,)", data: [0, 0, 0, 0]), expect: "dtype '>f4'"),
        Bad(name: "fortran.npy", bytes: npy(fortran: "True", shape: "(1,)", data: [0, 0, 0, 0]), expect: "fortran_order"),
        Bad(name: "v9.npy", bytes: [0x93] + Array("NUMPY".utf8) + [9, 0, 0, 0, 0, 0], expect: "version 9.0"),
        Bad(name: "noshape.npy", bytes: npy(shape: "[1]", data: [0, 0, 0, 0]), expect: "shape"),
        Bad(name: "input_0.pb", bytes: [0xFF, 0xFF, 0xFF, 0x0F, 0x01], expect: "not a serialized ONNX TensorProto"),
    ]

    @Test(arguments: badFiles)
    func malformedFilesGiveOneLineErrorsNamingTheFile(_ bad: Bad) throws {
        let d = try Self.tempDir()
        let path = d + "/" + bad.name
        try Data(bad.bytes).write(to: URL(fileURLWithPath: path))
        do {
            let set = try InputSet.files(at: path, shape: [4])
            _ = try set.load(0)
            Issue.record("\(bad.name) was accepted")
        } catch {
            let m = error.localizedDescription
            #expect(m.contains(path), "message does not name the file: \(m)")
            #expect(m.contains(bad.expect), "message: \(m)")
            #expect(!m.contains("\n"))
        }
    }

    @Test func wrongElementCountIsRefused() throws {
        let d = try Self.tempDir()
        try Data(Self.npy(shape: "(5,)", data: Self.bytes([1, 2, 3, 4, 5]))).write(to: URL(fileURLWithPath: d + "/x.npy"))
        #expect(throws: ReferenceError.self) { try InputSet.files(at: d + "/x.npy", shape: [1, 4]) }
        #expect(throws: ReferenceError.inputFile(path: d + "/missing", reason: "no such file or folder")) {
            try InputSet.files(at: d + "/missing", shape: [1])
        }
    }

    @Test func syntheticInputsAreSeededAndInRange() throws {
        let a = InputSet.synthetic(count: 3, range: -2...3, seed: 4, shape: [2, 5])
        let b = InputSet.synthetic(count: 3, range: -2...3, seed: 4, shape: [2, 5])
        #expect(try a.load(1) == b.load(1))
        #expect(try a.load(0) != a.load(1))
        #expect(try a.load(2).data.allSatisfy { $0 >= -2 && $0 <= 3 })
    }
}
