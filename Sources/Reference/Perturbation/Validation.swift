import ONNX
import Sensitivity

public struct ValidationOptions: Sendable, Equatable {
    public var deepFool = DeepFoolOptions()
    /// Seed of the random perturbations (and of synthetic inputs).
    public var seed: UInt64 = 0
    public var shard = Shard.all
    /// The network gain bound L (Eq. 7) to compare the observed gain with.
    public var bound: Double?

    public init(deepFool: DeepFoolOptions = DeepFoolOptions(), seed: UInt64 = 0, shard: Shard = .all, bound: Double? = nil) {
        self.deepFool = deepFool
        self.seed = seed
        self.shard = shard
        self.bound = bound
    }
}

public enum Validation {
    /// Measures κ on every input of `inputs` that belongs to `options.shard`, on the output
    /// and perturbed tensor of `plan` (the same analysed output as `kappa analyze`).
    /// `progress(done, total, row)` is called after each input (for a stderr line).
    public static func run(graph: ModelGraph, plan: SensitivityAnalysis.Plan, inputs: InputSet, inputsDescription: String,
                           options: ValidationOptions,
                           progress: ((Int, Int, InputMeasurement) -> Void)? = nil) throws(ReferenceError) -> MeasurementResult {
        let entry = try perturbed(graph: graph, plan: plan)
        let engine = try Engine(graph: graph, output: plan.output.tensor, input: entry.tensor)
        let mine = (0..<inputs.count).filter { options.shard.contains($0) }
        var rows: [InputMeasurement] = []
        for (done, i) in mine.enumerated() {
            let x = try inputs.load(i)
            let row = try Measure.input(x, index: i, source: inputs.entries[i].source, engine: engine,
                                        options: options.deepFool, seed: options.seed)
            rows.append(row)
            progress?(done + 1, mine.count, row)
        }
        let d = options.deepFool
        let settings = MeasurementSettings(output: plan.output.tensor, perturbed: entry.tensor, inputs: inputsDescription,
                                           totalInputs: inputs.count, maxSteps: d.maxSteps,
                                           overshoot: Double("\(d.overshoot)") ?? Double(d.overshoot),
                                           candidates: d.candidates, seed: options.seed,
                                           clip: d.clip.map { Double($0.lowerBound)...Double($0.upperBound) }, shard: options.shard)
        return MeasurementResult(settings: settings, rows: rows, bound: options.bound)
    }

    /// A measurement on the default plan (the analysed output of ``AnalysedOutput``, or
    /// `output`; the perturbation of ``Dependence``).
    public static func run(graph: ModelGraph, inputs: InputSet, options: ValidationOptions, output: String? = nil,
                           inputsDescription: String = "",
                           progress: ((Int, Int, InputMeasurement) -> Void)? = nil) throws -> MeasurementResult {
        let plan = try SensitivityAnalysis.plan(graph, options: AnalysisOptions(output: output))
        return try run(graph: graph, plan: plan, inputs: inputs, inputsDescription: inputsDescription, options: options, progress: progress)
    }

    /// The perturbed input's shape under the default plan.
    public static func inputShape(of graph: ModelGraph) throws -> [Int] {
        try inputShape(of: graph, plan: SensitivityAnalysis.plan(graph))
    }

    /// The one tensor DeepFool perturbs: the plan's entry, which must be a graph input.
    static func perturbed(graph: ModelGraph, plan: SensitivityAnalysis.Plan) throws(ReferenceError) -> PerturbationEntry {
        let entries = plan.context.dependence.entries
        guard entries.count == 1, let entry = entries.first, graph.inputs.contains(where: { $0.name == entry.tensor }) else {
            throw .badFeed(reason: "validate perturbs one graph input; this model's perturbation enters at \(entries.map(\.description).joined(separator: ", "))")
        }
        guard graph.inputs.count == 1 else {
            throw .badFeed(reason: "the model has \(graph.inputs.count) data inputs; validate supports one")
        }
        return entry
    }

    /// Checks, before anything is computed, that the measurement can run: one perturbed graph
    /// input, and a reference implementation for every node on the way to the output.
    public static func check(graph: ModelGraph, plan: SensitivityAnalysis.Plan) throws(ReferenceError) {
        let entry = try perturbed(graph: graph, plan: plan)
        _ = try Engine(graph: graph, output: plan.output.tensor, input: entry.tensor)
    }

    /// The perturbed input's shape, or an error asking for `--input-shape`.
    public static func inputShape(of graph: ModelGraph, plan: SensitivityAnalysis.Plan) throws(ReferenceError) -> [Int] {
        let entry = try perturbed(graph: graph, plan: plan)
        guard let s = graph.shapes[entry.tensor] else {
            throw .badFeed(reason: "the shape of input '\(entry.tensor)' is not fixed; give it with --input-shape \(entry.tensor)=…")
        }
        return s
    }
}
