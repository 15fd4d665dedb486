import Foundation
import ONNX

/// The inputs of a `kappa validate` run, listed up front (so shards can pick theirs by
/// index) and read one at a time:
/// - a folder of ONNX test-data sets (`test_data_set_*/input_*.pb`, serialized TensorProto),
///   or one such set, or one `.pb` file: in a set, each graph input comes from the file whose
///   TensorProto name is the input's name, else from `input_<k>.pb` with k its position among
///   the graph's inputs (the ONNX test layout);
/// - `.npy` files (a folder of them, or one file); a file whose leading axis holds k
///   inputs of the model's shape yields k inputs;
/// - `synthetic(count:range:seed:)`: uniform values in [lo, hi], seeded per input.
/// Every input must have the perturbed tensor's element count; it is given its shape.
/// An entry's `source` is its path relative to the folder given (the file itself when a
/// file was given); errors always name the full path.
public struct InputSet: Sendable {
    public enum Kind: Sendable, Equatable {
        case npy(path: String, part: Int)
        case tensorFile(path: String)
        case synthetic(index: Int, lo: Float, hi: Float, seed: UInt64)
    }

    public struct Entry: Sendable, Equatable {
        public var source: String
        public var kind: Kind
    }

    public let entries: [Entry]
    /// The model input's shape every input is read as.
    public let shape: [Int]
    /// The graph input read as the perturbed tensor, and the graph's inputs in order (to match
    /// a test-data set's files); empty for single-input reading.
    public var input: String = ""
    public var graphInputs: [String] = []

    public var count: Int { entries.count }

    public static func synthetic(count: Int, range: ClosedRange<Float>, seed: UInt64, shape: [Int]) -> InputSet {
        InputSet(entries: (0..<count).map {
            Entry(source: "synthetic #\($0)", kind: .synthetic(index: $0, lo: range.lowerBound, hi: range.upperBound, seed: seed))
        }, shape: shape)
    }

    /// Lists the inputs under `path` for the graph input `input` (see the type's description).
    public static func files(at path: String, shape: [Int], input: String, graphInputs: [String]) throws(ReferenceError) -> InputSet {
        var set = try files(at: path, shape: shape, fileIndex: graphInputs.firstIndex(of: input) ?? 0)
        set.input = input
        set.graphInputs = graphInputs
        return set
    }

    /// Lists the inputs under `path` (see the type's description).
    public static func files(at path: String, shape: [Int]) throws(ReferenceError) -> InputSet {
        try files(at: path, shape: shape, fileIndex: 0)
    }

    static func files(at path: String, shape: [Int], fileIndex k: Int) throws(ReferenceError) -> InputSet {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw .inputFile(path: path, reason: "no such file or folder") }
        let perInput = shape.reduce(1, *)
        if !isDir.boolValue { return InputSet(entries: try entries(file: path, perInput: perInput), shape: shape) }
        let names: [String]
        do { names = try fm.contentsOfDirectory(atPath: path).sorted(by: naturalOrder) } catch {
            throw .inputFile(path: path, reason: "cannot list: \(error.localizedDescription)")
        }
        let join = { (n: String) in (path as NSString).appendingPathComponent(n) }
        let sets = names.filter { $0.hasPrefix("test_data_set_") }
        var list: [Entry] = []
        if !sets.isEmpty {
            for s in sets {
                let f = (join(s) as NSString).appendingPathComponent("input_\(k).pb")
                guard fm.fileExists(atPath: f) else { throw .inputFile(path: join(s), reason: "has no input_\(k).pb") }
                list.append(Entry(source: "\(s)/input_\(k).pb", kind: .tensorFile(path: f)))
            }
        } else if names.contains("input_\(k).pb") {
            list = [Entry(source: "input_\(k).pb", kind: .tensorFile(path: join("input_\(k).pb")))]
        } else {
            for n in names where n.hasSuffix(".npy") {
                list += try entries(file: join(n), perInput: perInput).map { e in
                    var e = e
                    e.source = String(e.source.dropFirst(path.count).drop { $0 == "/" })
                    return e
                }
            }
        }
        guard !list.isEmpty else {
            throw .inputFile(path: path, reason: "no inputs found (expected test_data_set_*/input_0.pb or .npy files)")
        }
        return InputSet(entries: list, shape: shape)
    }

    static func entries(file: String, perInput: Int) throws(ReferenceError) -> [Entry] {
        if file.hasSuffix(".npy") {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: file), options: .mappedIfSafe) } catch {
                throw .inputFile(path: file, reason: "cannot read: \(error.localizedDescription)")
            }
            let h = try NpyReader.header(data, path: file)
            let count = h.shape.reduce(1, *)
            if count == perInput { return [Entry(source: file, kind: .npy(path: file, part: -1))] }
            if let k = h.shape.first, k > 1, h.shape.dropFirst().reduce(1, *) == perInput {
                return (0..<k).map { Entry(source: "\(file)[\($0)]", kind: .npy(path: file, part: $0)) }
            }
            throw .inputFile(path: file, reason: "shape \(h.shape) does not hold inputs of \(perInput) elements")
        }
        return [Entry(source: file, kind: .tensorFile(path: file))]
    }

    /// Reads input `i` as a value of the model input's shape.
    public func load(_ i: Int) throws(ReferenceError) -> Value {
        let e = entries[i]
        let n = shape.reduce(1, *)
        switch e.kind {
        case let .synthetic(index, lo, hi, seed):
            var rng = RandomSource(seed: seed ^ 0x5EED_0F_1A_7E_D1A7, stream: index)
            return Value(shape: shape, data: (0..<n).map { _ in lo + (hi - lo) * Float(rng.uniform()) })
        case let .npy(path, part):
            let (_, values) = try NpyReader.read(path: path)
            if part < 0 {
                guard values.count == n else { throw .inputFile(path: path, reason: "holds \(values.count) values, the model input needs \(n)") }
                return Value(shape: shape, data: values)
            }
            guard (part + 1) * n <= values.count else { throw .inputFile(path: path, reason: "changed while reading") }
            return Value(shape: shape, data: Array(values[(part * n)..<((part + 1) * n)]))
        case let .tensorFile(path):
            let t: Tensor
            do { t = try TensorLoader.load(path: path) } catch { throw .inputFile(path: path, reason: stripPath(error.localizedDescription, path)) }
            guard t.dataType.isNumeric else { throw .inputFile(path: path, reason: "tensor of type \(t.dataType) is not numeric") }
            guard t.count == n else {
                throw .inputFile(path: path, reason: "tensor \(t.dims) holds \(t.count) values, the model input \(shape) needs \(n)")
            }
            return Value(shape: shape, data: t.floats())
        }
    }
}

/// ONNX errors start with the path; drop it so the message names the file once.
private func stripPath(_ message: String, _ path: String) -> String {
    message.hasPrefix(path + ": ") ? String(message.dropFirst(path.count + 2)) : message
}

/// test_data_set_2 before test_data_set_10.
func naturalOrder(_ a: String, _ b: String) -> Bool {
    a.compare(b, options: [.numeric]) == .orderedAscending
}

extension InputSet {
    /// The other graph inputs stored next to entry `i` (a test-data set's other `input_*.pb`
    /// files), by graph input name; empty for .npy and synthetic entries.
    public func companions(_ i: Int) throws(ReferenceError) -> [String: Value] {
        guard case let .tensorFile(path) = entries[i].kind, !graphInputs.isEmpty else { return [:] }
        let folder = (path as NSString).deletingLastPathComponent
        var out: [String: Value] = [:]
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasPrefix("input_") && $0.hasSuffix(".pb") }.sorted(by: naturalOrder)
        for f in files {
            let full = (folder as NSString).appendingPathComponent(f)
            let t: Tensor
            do { t = try TensorLoader.load(path: full) } catch { throw .inputFile(path: full, reason: stripPath(error.localizedDescription, full)) }
            let index = Int(f.dropFirst("input_".count).dropLast(".pb".count))
            let name = graphInputs.contains(t.name) ? t.name : index.flatMap { $0 < graphInputs.count ? graphInputs[$0] : nil }
            guard let name, name != input else { continue }
            out[name] = Value(shape: t.dims, data: t.dataType.isNumeric ? t.floats() : [], dtype: t.dataType)
        }
        return out
    }
}
