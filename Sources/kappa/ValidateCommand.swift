import ArgumentParser
import Foundation
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
            Inputs: --inputs PATH (a folder of ONNX test_data_set_*/input_0.pb, one .pb, a folder of .npy \
            files or one .npy) or --synthetic N (uniform in --range, seeded). --shard I/N measures the inputs \
            i with i mod N = I; combine shard JSON reports with `kappa merge`.
            """)

    @Argument(help: "The .onnx model file.")
    var model: String

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var inputOptions: MeasurementOptions
    @OptionGroup var tensor: TensorOption
    @OptionGroup var outputOptions: OutputOptions

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
        // Check before computing: the output, the perturbed input and the engine's op coverage
        // are settled before the (possibly long) static bound.
        let options = AnalysisOptions(norm: .operator, output: tensor.name, perturb: tensor.perturbed,
                                      threads: ProcessInfo.processInfo.activeProcessorCount)
        let plan = try SensitivityAnalysis.plan(graph, options: options)
        let session = try inputOptions.prepare(graph, plan: plan, modelPath: model)
        let L = noBound ? nil : try bound ?? staticBound(graph, options: options)
        let report = try inputOptions.measure(session, bound: L, shard: slice)
        try outputOptions.emit(try report.render(outputOptions.format))
        if let plot { try emit(ValidationPlot.svg(report), to: plot) }
    }

    /// The sound Eq. 7 bound (σ_op mode) on the same output tensor, as `kappa analyze
    /// --norm operator` computes it; nil when it is unbounded.
    func staticBound(_ graph: ModelGraph, options: AnalysisOptions) throws -> Double? {
        let result = try SensitivityAnalysis.run(graph, options: options, progress: nil)
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
    }

    static func pair(_ text: String, _ option: String) throws -> ClosedRange<Float> {
        let p = text.split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard p.count == 2, let lo = p[0], let hi = p[1], lo.isFinite, hi.isFinite, lo <= hi else {
            throw KappaError("\(option) '\(text)': expected LO,HI with LO ≤ HI, e.g. 0,1")
        }
        return lo...hi
    }

    /// A measurement ready to run: the engine built (so unsupported ops fail here, before any
    /// bound is computed) and the inputs listed.
    struct Session {
        var graph: ModelGraph
        var plan: SensitivityAnalysis.Plan
        var modelPath: String
        var inputs: InputSet
        var description: String
        var options: ValidationOptions
    }

    func prepare(_ graph: ModelGraph, plan: SensitivityAnalysis.Plan, modelPath: String) throws -> Session {
        do {
            try Validation.check(graph: graph, plan: plan)
            let shape = try Validation.inputShape(of: graph, plan: plan)
            let set: InputSet
            let description: String
            if let synthetic {
                let r = try Self.pair(range, "--range")
                set = InputSet.synthetic(count: synthetic, range: r, seed: seed, shape: shape)
                description = "synthetic \(synthetic), uniform in [\(r.lowerBound), \(r.upperBound)], seed \(seed)"
            } else {
                set = try InputSet.files(at: inputs ?? "", shape: shape)
                description = inputs ?? ""
            }
            let options = ValidationOptions(
                deepFool: DeepFoolOptions(maxSteps: maxSteps, overshoot: overshoot, clip: try clip.map { try Self.pair($0, "--clip") }),
                seed: seed)
            return Session(graph: graph, plan: plan, modelPath: modelPath, inputs: set, description: description, options: options)
        } catch let e as ReferenceError {
            throw Self.cliError(e, modelPath)
        }
    }

    /// Runs the measurement and builds the report (errors become one-line KappaErrors).
    func measure(_ session: Session, bound: Double?, shard: Shard) throws -> ValidationReport {
        var options = session.options
        options.bound = bound
        options.shard = shard
        do {
            let result = try Validation.run(graph: session.graph, plan: session.plan, inputs: session.inputs,
                                            inputsDescription: session.description, options: options) { done, total, row in
                let k = row.kappaMax.map { NumberText.value($0) } ?? "–"
                Diagnostics.progress("[\(done)/\(total)] \(row.source): κ max \(k), " +
                                     (row.flipped ? "class \(row.label) → \(row.adversarialLabel) in \(row.steps) step(s)" : "not flipped after \(row.steps) step(s)"))
            }
            return ValidationReport(result: result, model: session.graph.model)
        } catch let e as ReferenceError {
            throw Self.cliError(e, session.modelPath)
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
