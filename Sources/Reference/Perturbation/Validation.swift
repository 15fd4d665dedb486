import ONNX
import Sensitivity

public struct ValidationOptions: Sendable {
    public var deepFool = DeepFoolOptions()
    /// Seed of the random perturbations (and of synthetic inputs).
    public var seed: UInt64 = 0
    public var shard = Shard.all
    /// The network gain bound L (Eq. 7) to compare the observed gain with.
    public var bound: Double?
    /// Range of synthetic floating-point inputs without a declared domain (``SyntheticFeeds``).
    public var syntheticRange: ClosedRange<Float> = 0...1
    /// Declared input ranges: synthetic inputs are drawn inside them.
    public var domain: InputDomain?

    public init(deepFool: DeepFoolOptions = DeepFoolOptions(), seed: UInt64 = 0, shard: Shard = .all, bound: Double? = nil,
                syntheticRange: ClosedRange<Float> = 0...1, domain: InputDomain? = nil) {
        self.deepFool = deepFool
        self.seed = seed
        self.shard = shard
        self.bound = bound
        self.syntheticRange = syntheticRange
        self.domain = domain
    }
}

/// A measurement checked and ready to run (DESIGN.md §1.6): the perturbed tensor x, the
/// graph input the input set holds, the engines, and the output read as class scores.
/// Everything that can refuse does so here, before any bound is computed.
public struct MeasurementSetup {
    public let graph: ModelGraph
    public let plan: SensitivityAnalysis.Plan
    /// The tensor DeepFool and the random perturbations act on: a graph input, or an internal
    /// float tensor (an embedding lookup's output, `--perturb`).
    public let perturbed: String
    /// The graph input an ``InputSet`` lists (x itself, or the input x is computed from).
    public let listed: String
    /// Its static shape.
    public let listedShape: [Int]
    /// x → the analysed output (forward + VJP).
    public let engine: Engine
    /// The graph inputs → x, when x is internal.
    let source: Engine?
    /// Every graph input a run needs a value for.
    public let requiredInputs: [ValueInfo]

    public var isInternal: Bool { source != nil }
}

public enum Validation {
    /// Checks that the measurement can run and builds its engines: one perturbed tensor
    /// (a graph input or an internal float tensor), a reference implementation for every node
    /// on the way to the output, fixed input shapes, and an output that holds class scores
    /// when its shape is known statically.
    public static func setup(graph: ModelGraph, plan: SensitivityAnalysis.Plan) throws(ReferenceError) -> MeasurementSetup {
        let entries = plan.context.dependence.entries
        guard entries.count == 1, let entry = entries.first else {
            throw .badFeed(reason: "validate perturbs one tensor; this model's perturbation enters at \(entries.map(\.description).joined(separator: ", ")): choose one with --perturb NAME")
        }
        let x = entry.tensor
        let isInput = graph.inputs.contains { $0.name == x }
        let engine = try Engine(graph: graph, output: plan.output.tensor, input: x)
        if let shape = graph.shapes[plan.output.tensor], case let .failure(e) = ScoreLayout.of(shape: shape, name: plan.output.tensor) {
            throw .badOutput(name: plan.output.tensor, reason: e.reason + "; DeepFool needs class scores: pick a score tensor with --output")
        }
        if let why = DetectorOutput.evidence(graph, tensor: plan.output.tensor) {
            throw .badOutput(name: plan.output.tensor, reason: "\(why); DeepFool needs class scores: pick a score tensor with --output")
        }
        var source: Engine? = nil
        var listed = x
        if !isInput {
            guard let origin = ancestors(of: x, in: graph).first else {
                throw .badFeed(reason: "'\(x)' is not computed from any graph input; perturb a tensor that depends on the model's inputs")
            }
            listed = origin
            source = try Engine(graph: graph, outputs: [x], input: origin)
        }
        guard let listedShape = graph.shapes[listed] else {
            throw .badFeed(reason: "the shape of input '\(listed)' is not fixed; give it with --input-shape \(listed)=…")
        }
        var required: [ValueInfo] = []
        for vi in engine.requiredInputs + (source?.requiredInputs ?? []) where vi.name != x && !required.contains(where: { $0.name == vi.name }) {
            required.append(vi)
        }
        if isInput, let vi = graph.inputs.first(where: { $0.name == x }) { required.insert(vi, at: 0) }
        for vi in required where graph.shapes[vi.name] == nil {
            throw .badFeed(reason: "the shape of input '\(vi.name)' is not fixed; give it with --input-shape \(vi.name)=…")
        }
        return MeasurementSetup(graph: graph, plan: plan, perturbed: x, listed: listed, listedShape: listedShape,
                                engine: engine, source: source, requiredInputs: required)
    }

    /// The graph inputs `tensor` is computed from, in the graph's input order.
    static func ancestors(of tensor: String, in graph: ModelGraph) -> [String] {
        var seen = Set<String>()
        var stack = [tensor]
        var found = Set<String>()
        let inputs = Set(graph.inputs.map(\.name))
        while let t = stack.popLast() {
            guard seen.insert(t).inserted else { continue }
            if inputs.contains(t) { found.insert(t); continue }
            guard graph.constants[t] == nil, let p = graph.producer[t] else { continue }
            stack.append(contentsOf: graph.graph.nodes[p].inputs.filter { !$0.isEmpty })
        }
        return graph.inputs.map(\.name).filter { found.contains($0) }
    }

    /// The values of every graph input for input `i` of `inputs`: the listed input from the
    /// set, the others from the same test-data set (matched by name, else by position), and
    /// whatever is still missing from ``SyntheticFeeds`` (seeded per input). Also returns the
    /// names of the inputs that were synthesised.
    public static func feeds(_ setup: MeasurementSetup, inputs: InputSet, index i: Int,
                             options: ValidationOptions) throws(ReferenceError) -> (feeds: [String: Value], synthesised: [String]) {
        var feeds: [String: Value] = [:]
        let dtype = setup.graph.dtypes[setup.listed] ?? setup.requiredInputs.first { $0.name == setup.listed }?.elementType ?? .float
        let synthetic: Bool
        if case .synthetic = inputs.entries[i].kind { synthetic = true } else { synthetic = false }
        if !synthetic || dtype.isFloatingPoint {
            var v = try inputs.load(i)
            if !synthetic { v.dtype = dtype }
            feeds[setup.listed] = v
            for (name, value) in try inputs.companions(i) where setup.requiredInputs.contains(where: { $0.name == name }) {
                feeds[name] = value
            }
        }
        let missing = setup.requiredInputs.filter { feeds[$0.name] == nil }
        if !missing.isEmpty {
            let made = try SyntheticFeeds.make(graph: setup.graph, inputs: missing, skip: nil, seed: options.seed, index: i,
                                               range: options.syntheticRange, domain: options.domain)
            feeds.merge(made) { a, _ in a }
        }
        return (feeds, missing.map(\.name))
    }

    /// The perturbed tensor's value at `feeds` (the fed value for a graph input; for an
    /// internal tensor, computed from the graph inputs).
    public static func perturbedValue(_ setup: MeasurementSetup, feeds: [String: Value]) throws(ReferenceError) -> Value {
        if let source = setup.source {
            guard let v = try source.forward(feeds).values[setup.perturbed] else {
                throw .badFeed(reason: "'\(setup.perturbed)' was not computed")
            }
            return v
        }
        guard let v = feeds[setup.perturbed] else { throw .badFeed(reason: "no value given for '\(setup.perturbed)'") }
        return v
    }

    /// Measures κ on every input of `inputs` that belongs to `options.shard`.
    /// `progress(done, total, row)` is called after each input (for a stderr line).
    public static func run(_ setup: MeasurementSetup, inputs: InputSet, inputsDescription: String, options: ValidationOptions,
                           progress: ((Int, Int, InputMeasurement) -> Void)? = nil) throws(ReferenceError) -> MeasurementResult {
        let mine = (0..<inputs.count).filter { options.shard.contains($0) }
        var rows: [InputMeasurement] = []
        var synthesised = Set<String>()
        for (done, i) in mine.enumerated() {
            let (feeds, made) = try feeds(setup, inputs: inputs, index: i, options: options)
            synthesised.formUnion(made)
            let row: InputMeasurement
            do {
                let x0 = try perturbedValue(setup, feeds: feeds)
                row = try Measure.input(x0, feeds: feeds, index: i, source: inputs.entries[i].source, engine: setup.engine,
                                        options: options.deepFool, seed: options.seed)
            } catch {
                throw hint(error, synthesised: made, feeds: feeds)
            }
            rows.append(row)
            progress?(done + 1, mine.count, row)
        }
        let d = options.deepFool
        var settings = MeasurementSettings(output: setup.plan.output.tensor, perturbed: setup.perturbed, inputs: inputsDescription,
                                           totalInputs: inputs.count, maxSteps: d.maxSteps,
                                           overshoot: Double("\(d.overshoot)") ?? Double(d.overshoot),
                                           candidates: d.candidates, seed: options.seed,
                                           clip: d.clip.map { Double($0.lowerBound)...Double($0.upperBound) }, shard: options.shard)
        settings.otherInputs = setup.requiredInputs.filter { $0.name != setup.listed }.map { vi in
            "\(vi.name): " + (synthesised.contains(vi.name)
                ? SyntheticFeeds.describe(graph: setup.graph, input: vi, range: options.syntheticRange, domain: options.domain)
                : "from the test-data set")
        }
        if setup.isInternal {
            settings.otherInputs.insert("\(setup.listed): " + (synthesised.contains(setup.listed)
                ? SyntheticFeeds.describe(graph: setup.graph, input: setup.requiredInputs.first { $0.name == setup.listed } ?? ValueInfo(name: setup.listed, elementType: nil, shape: nil),
                                          range: options.syntheticRange, domain: options.domain)
                : "from the inputs") + " (computes \(setup.perturbed))", at: 0)
        }
        return MeasurementResult(settings: settings, rows: rows, bound: options.bound)
    }

    /// A failure on synthesised inputs names their values: a default (a zero sample rate, a
    /// zero length) may select a branch or a shape the model was not made for.
    static func hint(_ e: ReferenceError, synthesised: [String], feeds: [String: Value]) -> ReferenceError {
        guard !synthesised.isEmpty else { return e }
        let values = synthesised.map { name -> String in
            guard let v = feeds[name] else { return name }
            let lo = v.data.min() ?? 0, hi = v.data.max() ?? 0
            return lo == hi ? "\(name) = \(NumberText.value(Double(lo)))" : "\(name) in [\(NumberText.value(Double(lo))), \(NumberText.value(Double(hi)))]"
        }
        let note = " (with synthetic \(values.joined(separator: ", ")); set them with --input-range NAME=LO,HI or give --inputs)"
        switch e {
        case let .badNode(node, op, reason): return .badNode(node: node, op: op, reason: reason + note)
        case let .badFeed(reason): return .badFeed(reason: reason + note)
        case let .badOutput(name, reason): return .badOutput(name: name, reason: reason + note)
        default: return e
        }
    }

    /// A measurement on the plan's output and perturbed tensor (see ``setup(graph:plan:)``).
    public static func run(graph: ModelGraph, plan: SensitivityAnalysis.Plan, inputs: InputSet, inputsDescription: String,
                           options: ValidationOptions,
                           progress: ((Int, Int, InputMeasurement) -> Void)? = nil) throws(ReferenceError) -> MeasurementResult {
        try run(setup(graph: graph, plan: plan), inputs: inputs, inputsDescription: inputsDescription, options: options, progress: progress)
    }

    /// A measurement on the default plan (the analysed output of ``AnalysedOutput``, or
    /// `output`; the perturbation of ``Dependence``).
    public static func run(graph: ModelGraph, inputs: InputSet, options: ValidationOptions, output: String? = nil,
                           inputsDescription: String = "",
                           progress: ((Int, Int, InputMeasurement) -> Void)? = nil) throws -> MeasurementResult {
        let plan = try SensitivityAnalysis.plan(graph, options: AnalysisOptions(output: output))
        return try run(graph: graph, plan: plan, inputs: inputs, inputsDescription: inputsDescription, options: options, progress: progress)
    }

    /// The listed input's shape under the default plan.
    public static func inputShape(of graph: ModelGraph) throws -> [Int] {
        try inputShape(of: graph, plan: SensitivityAnalysis.plan(graph))
    }

    /// Checks, before anything is computed, that the measurement can run.
    public static func check(graph: ModelGraph, plan: SensitivityAnalysis.Plan) throws(ReferenceError) {
        _ = try setup(graph: graph, plan: plan)
    }

    /// The listed input's shape, or an error asking for `--input-shape`.
    public static func inputShape(of graph: ModelGraph, plan: SensitivityAnalysis.Plan) throws(ReferenceError) -> [Int] {
        try setup(graph: graph, plan: plan).listedShape
    }
}
