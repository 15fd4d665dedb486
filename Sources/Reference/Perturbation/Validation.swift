import ONNX

/// A deterministic slice of the inputs: input i belongs to shard i mod count (0-based).
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public static let all = Shard(index: 0, count: 1)

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses "I/N" with 0 ≤ I < N.
    public init(parsing text: String) throws(ReferenceError) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, i >= 0, i < n else {
            throw .badOption("--shard '\(text)': expected I/N with 0 ≤ I < N, e.g. 0/4")
        }
        self.init(index: i, count: n)
    }

    public func contains(_ input: Int) -> Bool { input % count == index }
    public var description: String { "\(index)/\(count)" }
}

public struct ValidationOptions: Sendable, Equatable {
    public var deepFool = DeepFoolOptions()
    /// Seed of the random perturbations (and of synthetic inputs).
    public var seed: UInt64 = 0
    /// The tensor y (default: the logits, see `Logits`).
    public var output: String?
    public var shard = Shard.all
    /// The network gain bound L (Eq. 7) to compare the observed gain with.
    public var bound: Double?

    public init(deepFool: DeepFoolOptions = DeepFoolOptions(), seed: UInt64 = 0, output: String? = nil,
                shard: Shard = .all, bound: Double? = nil) {
        self.deepFool = deepFool
        self.seed = seed
        self.output = output
        self.shard = shard
        self.bound = bound
    }
}

/// The measurement of `kappa validate` (and of `kappa check --inputs`): per-input rows and
/// the Table I summary.
public struct ValidationResult: Sendable {
    /// The tensor y that κ was measured on.
    public var output: String
    public var rows: [InputMeasurement]
    public var summary: ValidationSummary
    /// Inputs in the whole run (all shards).
    public var totalInputs: Int
    public var options: ValidationOptions
}

public enum Validation {
    /// Measures κ on every input of `inputs` that belongs to `options.shard`.
    /// `progress(done, total, row)` is called after each input (for a stderr line).
    public static func run(graph: ModelGraph, inputs: InputSet, options: ValidationOptions,
                           progress: ((Int, Int, InputMeasurement) -> Void)? = nil) throws(ReferenceError) -> ValidationResult {
        guard let out = Logits.tensor(in: graph, override: options.output) else {
            throw .badOutput(name: "?", reason: "the model declares no output")
        }
        let engine = try Engine(graph: graph, output: out)
        let mine = (0..<inputs.count).filter { options.shard.contains($0) }
        var rows: [InputMeasurement] = []
        for (done, i) in mine.enumerated() {
            let x = try inputs.load(i)
            let row = try Measure.input(x, index: i, source: inputs.entries[i].source, engine: engine,
                                        options: options.deepFool, seed: options.seed)
            rows.append(row)
            progress?(done + 1, mine.count, row)
        }
        return ValidationResult(output: out, rows: rows, summary: ValidationSummary(rows: rows, bound: options.bound),
                                totalInputs: inputs.count, options: options)
    }

    /// The model input's shape, or an error asking for `--input-shape`.
    public static func inputShape(of graph: ModelGraph) throws(ReferenceError) -> [Int] {
        guard let first = graph.inputs.first else { throw .badFeed(reason: "the model has no data input") }
        guard graph.inputs.count == 1 else {
            throw .badFeed(reason: "the model has \(graph.inputs.count) data inputs; validate supports one")
        }
        guard let s = graph.shapes[first.name] else {
            throw .badFeed(reason: "the shape of input '\(first.name)' is not fixed; give it with --input-shape \(first.name)=…")
        }
        return s
    }
}
