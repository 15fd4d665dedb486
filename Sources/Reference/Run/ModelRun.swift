import Foundation
import ONNX

/// `kappa run`: the reference engine evaluates every graph output on each input set, and
/// compares with the expected outputs a test-data set holds (the ONNX backend-test layout:
/// `test_data_set_*/input_k.pb`, `output_k.pb`).
///
/// Inputs and expected outputs are matched to the graph's inputs and outputs by the
/// TensorProto's name, else by the file's index k among the graph's inputs / outputs. A
/// comparison passes when every element satisfies |actual − expected| ≤ atol + rtol·|expected|
/// (NumPy's `allclose`; NaN matches NaN, ±∞ must match exactly), shapes are equal, and integer
/// or bool outputs are equal exactly.
public enum ModelRun {
    /// One input set: its graph-input values and, when the set holds them, expected outputs.
    public struct InputCase: Sendable {
        public var source: String
        public var feeds: [String: Value]
        public var expected: [String: Value]
    }

    public struct Comparison: Sendable, Equatable {
        public var output: String
        public var shape: [Int]
        public var expectedShape: [Int]
        public var maxAbsError: Double
        public var maxRelError: Double
        /// Elements outside the tolerance.
        public var mismatches: Int
        public var passed: Bool
        /// Why it failed beyond the numbers (shape or type mismatch), if so.
        public var reason: String?
    }

    public struct CaseResult: Sendable {
        public var source: String
        public var outputs: [(name: String, value: Value)]
        public var comparisons: [Comparison]
        public var seconds: Double
    }

    /// The engine evaluating every graph output (the cone of all of them; outputs that do not
    /// depend on the first input are computed too).
    public static func engine(_ graph: ModelGraph) throws(ReferenceError) -> Engine {
        let outputs = graph.graph.outputs.map(\.name)
        guard !outputs.isEmpty else { throw .badOutput(name: "?", reason: "the model declares no output") }
        guard let first = graph.inputs.first?.name else { throw .badFeed(reason: "the model has no data input") }
        return try Engine(graph: graph, outputs: outputs, input: first, requireDependence: false)
    }

    /// Lists the input sets at `path`: a folder of `test_data_set_*` folders, one such folder,
    /// one `.pb` file (a model with one input), or `.npy` files (each one input of a model with
    /// one input; a folder of them in natural order).
    public static func cases(at path: String, graph: ModelGraph) throws(ReferenceError) -> [InputCase] {
        let fm = FileManager.default
        var isDir: ObjCBool = false
        guard fm.fileExists(atPath: path, isDirectory: &isDir) else { throw .inputFile(path: path, reason: "no such file or folder") }
        let join = { (a: String, b: String) in (a as NSString).appendingPathComponent(b) }
        if !isDir.boolValue { return [try single(file: path, graph: graph, source: (path as NSString).lastPathComponent)] }
        let names: [String]
        do { names = try fm.contentsOfDirectory(atPath: path).sorted(by: naturalOrder) } catch {
            throw .inputFile(path: path, reason: "cannot list: \(error.localizedDescription)")
        }
        let sets = names.filter { $0.hasPrefix("test_data_set_") }
        if !sets.isEmpty { return try sets.map { s throws(ReferenceError) in try dataSet(join(path, s), graph: graph, source: s) } }
        if names.contains(where: { $0.hasPrefix("input_") && $0.hasSuffix(".pb") }) {
            return [try dataSet(path, graph: graph, source: (path as NSString).lastPathComponent)]
        }
        let npy = names.filter { $0.hasSuffix(".npy") }
        guard !npy.isEmpty else {
            throw .inputFile(path: path, reason: "no inputs found (expected test_data_set_*/input_*.pb, input_*.pb or .npy files)")
        }
        return try npy.map { n throws(ReferenceError) in try single(file: join(path, n), graph: graph, source: n) }
    }

    /// A test-data set folder: `input_k.pb` and `output_k.pb`.
    static func dataSet(_ folder: String, graph: ModelGraph, source: String) throws(ReferenceError) -> InputCase {
        let files: [String]
        do { files = try FileManager.default.contentsOfDirectory(atPath: folder).sorted(by: naturalOrder) } catch {
            throw .inputFile(path: folder, reason: "cannot list: \(error.localizedDescription)")
        }
        let inputNames = graph.inputs.map(\.name), outputNames = graph.graph.outputs.map(\.name)
        var feeds: [String: Value] = [:], expected: [String: Value] = [:]
        for f in files where f.hasSuffix(".pb") {
            let isInput = f.hasPrefix("input_"), isOutput = f.hasPrefix("output_")
            guard isInput || isOutput else { continue }
            let full = (folder as NSString).appendingPathComponent(f)
            let (t, tensorName) = try loadNamedTensor(full)
            let k = Int(f.dropFirst(isInput ? 6 : 7).dropLast(3))
            let names = isInput ? inputNames : outputNames
            guard let name = names.contains(tensorName) ? tensorName : k.flatMap({ $0 < names.count ? names[$0] : nil }) else {
                throw .inputFile(path: full, reason: "matches no graph \(isInput ? "input" : "output") (by name '\(tensorName)' or position)")
            }
            if isInput { feeds[name] = t } else { expected[name] = t }
        }
        for vi in graph.inputs where feeds[vi.name] == nil {
            throw .inputFile(path: folder, reason: "holds no value for graph input '\(vi.name)' (input_\(inputNames.firstIndex(of: vi.name) ?? 0).pb)")
        }
        return InputCase(source: source, feeds: feeds, expected: expected)
    }

    static func single(file: String, graph: ModelGraph, source: String) throws(ReferenceError) -> InputCase {
        guard graph.inputs.count == 1, let name = graph.inputs.first?.name else {
            throw .inputFile(path: file, reason: "a single file feeds one input; the model has \(graph.inputs.count) (use test_data_set_*/input_k.pb folders)")
        }
        if file.hasSuffix(".npy") {
            let (shape, values) = try NpyReader.read(path: file)
            return InputCase(source: source, feeds: [name: Value(shape: shape, data: values, dtype: graph.dtypes[name] ?? .float)], expected: [:])
        }
        return InputCase(source: source, feeds: [name: try loadTensor(file)], expected: [:])
    }

    static func loadTensor(_ path: String) throws(ReferenceError) -> Value { try loadNamedTensor(path).0 }

    static func loadNamedTensor(_ path: String) throws(ReferenceError) -> (Value, String) {
        let t: Tensor
        do { t = try TensorLoader.load(path: path) } catch {
            let m = error.localizedDescription
            throw .inputFile(path: path, reason: m.hasPrefix(path + ": ") ? String(m.dropFirst(path.count + 2)) : m)
        }
        guard t.dataType.isNumeric || t.dataType == .bool else { throw .inputFile(path: path, reason: "tensor of type \(t.dataType) is not numeric") }
        return (Value(shape: t.dims, data: t.floats(), dtype: t.dataType), t.name)
    }

    /// Evaluates one input set and compares with its expected outputs.
    public static func run(_ engine: Engine, _ c: InputCase, rtol: Double, atol: Double) throws(ReferenceError) -> CaseResult {
        let started = DispatchTime.now().uptimeNanoseconds
        let trace = try engine.forward(c.feeds)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) * 1e-9
        var outputs: [(String, Value)] = []
        for name in engine.outputs {
            if let v = trace.values[name] ?? c.feeds[name] { outputs.append((name, v)); continue }
            if let t = engine.graph.constants[name] { outputs.append((name, Value(shape: t.dims, data: t.floats(), dtype: t.dataType))); continue }
            throw .badOutput(name: name, reason: "was not computed")
        }
        var comparisons: [Comparison] = []
        for (name, v) in outputs {
            guard let e = c.expected[name] else { continue }
            comparisons.append(compare(name, actual: v, expected: e, rtol: rtol, atol: atol))
        }
        return CaseResult(source: c.source, outputs: outputs, comparisons: comparisons, seconds: seconds)
    }

    /// The comparison of one output (see the type's description).
    public static func compare(_ name: String, actual a: Value, expected e: Value, rtol: Double, atol: Double) -> Comparison {
        var c = Comparison(output: name, shape: a.shape, expectedShape: e.shape, maxAbsError: 0, maxRelError: 0,
                           mismatches: 0, passed: true, reason: nil)
        guard a.shape.reduce(1, *) == e.shape.reduce(1, *), a.shape == e.shape || (a.shape.isEmpty && e.shape == [1]) || (e.shape.isEmpty && a.shape == [1]) else {
            c.passed = false
            c.reason = "shape \(a.shape), expected \(e.shape)"
            return c
        }
        let exact = !e.dtype.isFloatingPoint
        for i in 0..<e.data.count {
            let x = Double(a.data[i]), y = Double(e.data[i])
            if x.isNaN && y.isNaN { continue }
            if x.isInfinite || y.isInfinite {
                if x != y { c.mismatches += 1; c.maxAbsError = .infinity }
                continue
            }
            let d = abs(x - y)
            c.maxAbsError = max(c.maxAbsError, d.isNaN ? .infinity : d)
            if y != 0 { c.maxRelError = max(c.maxRelError, d / abs(y)) } else if d > 0 { c.maxRelError = .infinity }
            if d.isNaN || (exact ? d != 0 : d > atol + rtol * abs(y)) { c.mismatches += 1 }
        }
        if c.mismatches > 0 { c.passed = false }
        return c
    }
}
