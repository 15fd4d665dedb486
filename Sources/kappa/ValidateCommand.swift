import ArgumentParser
import Foundation
import Linalg
import ONNX
import Reference
import Reports
import Sensitivity

/// `kappa validate`: the empirical κ of DESIGN.md §1.6 (DeepFool and random perturbations
/// on the reference engine), per input and as the paper's Table I.
struct Validate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure κ empirically with DeepFool and random perturbations (the paper's Table I).",
        discussion: """
            Inputs: --inputs PATH (a folder of ONNX test_data_set_*/input_*.pb, one .pb, a folder of .npy \
            files or one .npy) or --synthetic N (seeded). The perturbed tensor is the one `analyze` \
            perturbs (a float graph input, else a text model's embedding lookup) or --perturb NAME, \
            which may be an internal tensor. Other inputs come from the same test-data set (input_k.pb, \
            matched by name or position), else from documented defaults: floats uniform in --range or \
            their --input-range, token ids uniform over their embedding table, masks of ones, other \
            integers zero, bools true; --input-range NAME=LO,HI overrides any of them. \
            The output must hold class scores ([N, C], per position [N, T, C] / [T, N, C], per pixel \
            [N, C, H, W]); pick one with --output. --shard I/N measures the inputs i with i mod N = I; \
            combine shard JSON reports with `kappa merge`.
            """)

    @Argument(help: "The .onnx model file.")
    var model: String

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var inputOptions: MeasurementOptions
    @OptionGroup var tensor: TensorOption
    @OptionGroup var domainOptions: DomainOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var progressOptions: ProgressOptions

    @Option(help: ArgumentHelp("Also write an SVG plot of κ per input (log scale).", valueName: "FILE.svg"))
    var plot: String?

    @Option(help: ArgumentHelp("Measure only inputs i with i mod N = I (0-based).", valueName: "I/N"))
    var shard: String?

    @Option(help: ArgumentHelp("The gain bound L for the tightness ratio L / observed gain (default: Eq. 7 with σ_op from `kappa analyze --norm operator`).", valueName: "VALUE"))
    var bound: Double?

    @Flag(name: .customLong("no-bound"), help: "Skip the static bound (no tightness ratio).")
    var noBound = false

    func validate() throws {
        guard (inputOptions.inputs == nil) != (inputOptions.synthetic == nil) else {
            throw ValidationError("give exactly one of --inputs PATH or --synthetic N")
        }
    }

    func run() throws {
        let graph = try modelOptions.load(model)
        guard let slice = shard.map({ Shard(parsing: $0) }) ?? .all else {
            throw KappaError("--shard '\(shard ?? "")': expected I/N with 0 ≤ I < N, e.g. 0/4")
        }
        // Check before computing: the output, the perturbed tensor, the inputs and the engine's
        // op coverage are settled before the (possibly long) static bound.
        // The bound compared with the measurements is the plain sound Eq. 7 (`analyze` reports
        // the tightened ones); the rescaling search is not run here.
        var options = AnalysisOptions(norm: .operator, output: tensor.name, perturb: tensor.perturbed,
                                      threads: ProcessInfo.processInfo.activeProcessorCount, rescale: false)
        var plan = try SensitivityAnalysis.plan(graph, options: options)
        let entries = plan.context.dependence.entries
        if tensor.perturbed == nil, entries.count > 1, let first = entries.first {
            // Measure (and bound) the map from one entry; the others keep their values.
            Diagnostics.note("\(model): the perturbation enters at \(entries.count) tensors (\(entries.map(\.tensor).joined(separator: ", "))); validate perturbs '\(first.tensor)' and bounds the same map (choose another with --perturb)")
            options.perturb = [first.tensor]
            plan = try SensitivityAnalysis.plan(graph, options: options)
        }
        let domain: InputDomain?
        if domainOptions.given {
            domain = try domainOptions.domain(graph, inputsPath: inputOptions.inputs).0
        } else {
            domain = nil
        }
        let session = try inputOptions.prepare(graph, plan: plan, modelPath: model, domain: domain)
        let L = noBound ? nil : try bound ?? staticBound(graph, options: options, domain: domain)
        let progress = progressOptions.reporter("input")
        progress.begin()
        defer { progress.finish() }
        let report = try inputOptions.measure(session, bound: L, shard: slice, progress: progress)
        progress.finish()
        try outputOptions.emit(try report.render(outputOptions.format))
        if let plot { try emit(ValidationPlot.svg(report), to: plot) }
    }

    /// The sound Eq. 7 bound (σ_op mode) on the same output tensor, as `kappa analyze
    /// --norm operator` computes it (on the declared domain when one is given, with no
    /// lower-bound search); nil when it is unbounded.
    func staticBound(_ graph: ModelGraph, options: AnalysisOptions, domain: InputDomain?) throws -> Double? {
        let progress = progressOptions.reporter("layer")
        progress.begin()
        defer { progress.finish() }
        let result: AnalysisResult
        if let domain {
            result = try DomainAnalysis.run(graph, options: options, domain: domain, empirical: domainOptions.wantsEmpirical, lower: nil,
                                            progress: progress.layers)
        } else {
            result = try SensitivityAnalysis.run(graph, options: options, progress: progress.layers)
        }
        let L = result.network.eq7.operator
        return L.isFinite ? L : nil
    }
}

/// The measurement options shared by `validate` and (for its empirical gate) `check`.
struct MeasurementOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Inputs: a folder of test_data_set_*/input_0.pb, a .pb, a folder of .npy files or a .npy.", valueName: "PATH"))
    var inputs: String?

    @Option(help: ArgumentHelp("Use N synthetic inputs, uniform in --range.", valueName: "N"))
    var synthetic: Int?

    @Option(help: ArgumentHelp("Value range of synthetic inputs.", valueName: "LO,HI"))
    var range: String = "0,1"

    @Option(help: "Seed of synthetic inputs and random perturbations.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Keep perturbed inputs inside [LO, HI].", valueName: "LO,HI"))
    var clip: String?

    @Option(name: .customLong("blas-threads"),
            help: ArgumentHelp("OpenBLAS threads during the measurement (default: OPENBLAS_NUM_THREADS, else all cores).", valueName: "N"))
    var blasThreads: Int?

    @Flag(help: "Print a per-op time profile of the engine (forward and reverse passes) on stderr.")
    var profile = false

    @Option(name: .customLong("max-steps"), help: "DeepFool's step limit.")
    var maxSteps: Int = 50

    @Option(help: "DeepFool's overshoot.")
    var overshoot: Float = 0.02

    /// Whether any input source was given (`check` measures only then).
    var given: Bool { inputs != nil || synthetic != nil }

    func validate() throws {
        guard inputs == nil || synthetic == nil else { throw ValidationError("give only one of --inputs PATH or --synthetic N") }
        if let synthetic, synthetic < 1 { throw ValidationError("--synthetic must be at least 1") }
        guard maxSteps >= 1 else { throw ValidationError("--max-steps must be at least 1") }
        guard overshoot >= 0, overshoot.isFinite else { throw ValidationError("--overshoot must be a non-negative number") }
        if let blasThreads, blasThreads < 1 { throw ValidationError("--blas-threads must be at least 1") }
    }

    static func pair(_ text: String, _ option: String) throws -> ClosedRange<Float> {
        let p = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard p.count == 2, let lo = p[0], let hi = p[1], lo.isFinite, hi.isFinite, lo <= hi else {
            throw KappaError("\(option) '\(text)': expected LO,HI with LO ≤ HI, e.g. 0,1")
        }
        return lo...hi
    }

    /// A measurement ready to run: the engines built (so unsupported ops, inputs and outputs
    /// fail here, before any bound is computed) and the inputs listed.
    struct Session {
        var setup: MeasurementSetup
        var modelPath: String
        var inputs: InputSet
        var description: String
        var options: ValidationOptions
        var profile: Bool
    }

    func prepare(_ graph: ModelGraph, plan: SensitivityAnalysis.Plan, modelPath: String,
                 domain: InputDomain? = nil) throws -> Session {
        do {
            let setup = try Validation.setup(graph: graph, plan: plan)
            let shape = setup.listedShape
            let set: InputSet
            let description: String
            let r = try Self.pair(range, "--range")
            if let synthetic {
                set = InputSet.synthetic(count: synthetic, range: r, seed: seed, shape: shape)
                let dtype = graph.dtypes[setup.listed] ?? .float
                description = "synthetic \(synthetic), seed \(seed): \(setup.listed) " + (dtype.isFloatingPoint && domain?.bounds[setup.listed] == nil
                    ? "uniform in [\(r.lowerBound), \(r.upperBound)]"
                    : SyntheticFeeds.describe(graph: graph, input: setup.requiredInputs.first { $0.name == setup.listed } ?? ValueInfo(name: setup.listed, elementType: dtype, shape: nil),
                                              range: r, domain: domain).replacingOccurrences(of: "synthetic, ", with: "").replacingOccurrences(of: "synthetic ", with: ""))
            } else {
                set = try InputSet.files(at: inputs ?? "", shape: shape, input: setup.listed, graphInputs: graph.inputs.map(\.name))
                description = inputs ?? ""
            }
            let options = ValidationOptions(
                deepFool: DeepFoolOptions(maxSteps: maxSteps, overshoot: overshoot, clip: try clip.map { try Self.pair($0, "--clip") }),
                seed: seed, syntheticRange: r, domain: domain)
            if let blasThreads { BLAS.setThreads(blasThreads) }
            setup.engine.profiling = profile
            return Session(setup: setup, modelPath: modelPath, inputs: set, description: description, options: options, profile: profile)
        } catch let e as ReferenceError {
            throw Self.cliError(e, modelPath)
        }
    }

    /// Runs the measurement and builds the report (errors become one-line KappaErrors).
    /// `progress` gets one step per input ("synthetic #0: κ max 16.11, class 3 → 0 in 3 step(s)").
    func measure(_ session: Session, bound: Double?, shard: Shard, progress: ProgressReporter) throws -> ValidationReport {
        var options = session.options
        options.bound = bound
        options.shard = shard
        do {
            let result = try Validation.run(session.setup, inputs: session.inputs,
                                            inputsDescription: session.description, options: options) { done, total, row in
                let k = row.kappaMax.map { NumberText.value($0) } ?? "–"
                progress.update(done: done, total: total, item: "\(row.source): κ max \(k), " +
                                (row.flipped ? "class \(row.label) → \(row.adversarialLabel) in \(row.steps) step(s)" : "not flipped after \(row.steps) step(s)"))
            }
            if session.profile { Diagnostics.emitProfile(session.setup.engine.profile) }
            return ValidationReport(result: result, model: session.setup.graph.model)
        } catch {
            throw Self.cliError(error, session.modelPath)
        }
    }

    static func cliError(_ e: ReferenceError, _ modelPath: String) -> KappaError {
        switch e {
        case .inputFile, .badOption: return KappaError(e.localizedDescription)
        default: return KappaError("\(modelPath): \(e.localizedDescription)")
        }
    }
}

/// Writes `text` to `path` or, when nil, stdout.
func emit(_ text: String, to path: String?) throws {
    guard let path else {
        FileHandle.standardOutput.write(Data(text.utf8))
        return
    }
    do { try Data(text.utf8).write(to: URL(fileURLWithPath: path)) } catch {
        throw KappaError("cannot write '\(path)': \(error.localizedDescription)")
    }
}
