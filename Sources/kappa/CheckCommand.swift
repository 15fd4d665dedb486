import ArgumentParser
import Foundation
import ONNX
import Reference
import Reports
import Sensitivity

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "CI gate: fail when a model needs more bits than --max-bits.",
        discussion: """
            Exit 0 when every model is within the budget, 1 when one is over it (or its bound is \
            unbounded: an unsupported or unbounded node, NaN weights), 2 on a usage error or a \
            model that cannot be read (the others are still checked and reported).

            With --inputs PATH or --synthetic N the gate is the measured κ instead of a static bound: \
            the bits of the largest κ that DeepFool and random perturbations reach (`kappa validate`). \
            On deep networks the static bound can be astronomically loose; the measurement is not a \
            guarantee, but it is what the paper's Table I reports.

            --rescale gates on the tightest sound Eq. 7 instead of the plain one: the smallest of the \
            plain, folded and optimally rescaled bounds (`kappa analyze` reports all three; each is a \
            bound of the same function). It is off by default in `check`, even for small models: the \
            rescaling search runs on float32 norms, so its end point can move in the third digit \
            between machines, and a gate should not.
            """)

    @Argument(help: "One or more .onnx model files.")
    var models: [String]

    @Option(name: .customLong("max-bits"), help: "The precision budget in bits.")
    var maxBits: Int?

    @OptionGroup(title: "Quantization gate (--weights/--activations with --max-error)") var quant: QuantOptions

    @Option(help: "operator (default: sound bound) or matrix (the paper's estimator).")
    var norm: NormMode = .operator

    @Option(help: "eq7 (gain bound L, the default), eq8 (rounding amplification E), or measured (implied by --inputs/--synthetic).")
    var bound: CheckBound?

    @Flag(name: .customLong("exit-zero"), help: "Exit 0 even when the gate fails (still 2 on errors).")
    var exitZero = false

    @Option(help: "With --input-range: upper (the certified L, the default) or lower (fail when the certified ℓ alone needs more bits).")
    var gate: GateEnd = .upper

    @OptionGroup var domainOptions: DomainOptions
    @OptionGroup var normOptions: NormOptions
    @OptionGroup var tensor: TensorOption
    @OptionGroup var measurement: MeasurementOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var progressOptions: ProgressOptions

    func validate() throws {
        if quant.given || quant.maxError != nil {
            guard quant.maxError != nil else { throw ValidationError("the quantization gate needs --max-error E") }
            guard maxBits == nil else { throw ValidationError("give either --max-bits (precision gate) or --weights/--activations with --max-error (quantization gate)") }
            return
        }
        guard let maxBits else { throw ValidationError("give --max-bits N (precision gate) or --weights/--activations with --max-error E (quantization gate)") }
        guard maxBits >= 1 else { throw ValidationError("--max-bits must be ≥ 1") }
        if tightest {
            let clash = domainOptions.given ? "--input-range" : measurement.given ? "--inputs/--synthetic" : (bound ?? .eq7) != .eq7 ? "--bound \((bound ?? .eq7).rawValue)" : nil
            if let clash { throw ValidationError("--rescale gates on the rescaled Eq. 7 without an input domain; it does not combine with \(clash)") }
        }
        if gate == .lower && !domainOptions.given {
            throw ValidationError("--gate lower reads the bracket's certified lower end: give --input-range")
        }
        if measurement.given, !domainOptions.given, let bound, bound != .measured {
            throw ValidationError("--bound \(bound.rawValue) gates on a static bound; --inputs/--synthetic gate on the measurement")
        }
        if bound == .measured && !measurement.given {
            throw ValidationError("--bound measured needs --inputs PATH or --synthetic N")
        }
    }

    /// `--rescale`: gate on the tightest sound Eq. 7 (plain, folded or rescaled).
    var tightest: Bool { normOptions.rescale == true }

    var boundChoice: CheckBound { measurement.given && !domainOptions.given ? .measured : (bound ?? .eq7) }

    /// The gate compares the plain Eq. 7/8 bounds unless --rescale asks for the tightest sound
    /// Eq. 7 (then the folding and rescaling search run, whatever the model's size).
    var gateOptions: AnalysisOptions {
        var o = normOptions.analysisOptions(norm: norm, tensor: tensor)
        o.rescale = tightest
        return o
    }

    func run() throws {
        if let maxError = quant.maxError { return try runQuant(maxError: maxError) }
        let maxBits = self.maxBits ?? 0
        var entries: [CheckReport.Entry] = []
        var errors: [CheckReport.Failure] = []
        for path in models {
            let progress = progressOptions.reporter(boundChoice == .measured ? "input" : "layer")
            progress.begin()
            defer { progress.finish() }
            do {
                let graph = try modelOptions.load(path)
                if boundChoice == .measured {
                    let options = AnalysisOptions(norm: norm, output: tensor.name, perturb: tensor.perturbed)
                    let plan = try SensitivityAnalysis.plan(graph, options: options)
                    let session = try measurement.prepare(graph, plan: plan, modelPath: path)
                    let report = try measurement.measure(session, bound: nil, shard: .all, progress: progress)
                    entries.append(CheckReport.Entry(graph: graph, measured: report, maxBits: maxBits))
                } else if domainOptions.given {
                    let (domain, empirical) = try domainOptions.domain(graph, inputsPath: measurement.inputs)
                    var lower = domainOptions.lowerOptions
                    if self.gate == .upper { lower = nil }  // the certified upper end needs no search
                    let result = try DomainAnalysis.run(graph, options: gateOptions, domain: domain,
                                                        empirical: empirical, lower: lower, progress: progress.layers,
                                                        log: { progress.log($0) })
                    entries.append(CheckReport.Entry(graph: graph, result: result, bound: boundChoice, norm: norm, maxBits: maxBits, end: self.gate))
                } else {
                    let result = try SensitivityAnalysis.run(graph, options: gateOptions,
                                                             progress: progress.layers)
                    entries.append(CheckReport.Entry(graph: graph, result: result, bound: boundChoice, norm: norm, maxBits: maxBits,
                                                     tightest: tightest))
                }
            } catch {
                progress.finish()
                Diagnostics.error(error.localizedDescription)
                errors.append(CheckReport.Failure(path: path, error: error.localizedDescription))
            }
        }
        let report = CheckReport(entries: entries, failures: errors, bound: boundChoice, norm: norm, maxBits: maxBits,
                                 rescaled: tightest)
        try outputOptions.emit(try report.render(outputOptions.format, color: outputOptions.useColor))
        if !errors.isEmpty { throw ExitCode(ExitStatus.error.rawValue) }
        if !report.passed && !exitZero { throw ExitCode(ExitStatus.gateFailed.rawValue) }
    }
}

extension Check {
    /// The quantization gate: per model the static sound bound on the output error (with
    /// --input-range), or the largest measured error with --inputs/--synthetic, against E.
    func runQuant(maxError: Double) throws {
        var reports: [QuantReport] = []
        var failed = false
        for path in models {
            do {
                let graph = try modelOptions.load(path)
                let settings = try quant.settings()
                let domain = domainOptions.given ? try domainOptions.domain(graph, inputsPath: measurement.inputs).0 : nil
                let result = try Quant.analyse(graph, settings: settings, domain: domain, norm: norm, normOptions: normOptions, tensor: tensor)
                var measured: QuantMeasurement.Result?
                if measurement.given {
                    let feeds = try Quant.feeds(graph, inputs: measurement.inputs, synthetic: measurement.synthetic, seed: measurement.seed, domain: domain)
                    do { measured = try QuantMeasurement.measure(graph, targets: result.targets, output: result.output, feeds: feeds, perLayer: false) } catch let e as KappaError { throw e } catch {
                        throw KappaError("\(path): \(error.localizedDescription)")
                    }
                }
                let scheme = "weights \(settings.weights), activations \(settings.activations)"
                let gate = QuantGate.evaluate(bound: result.bound, measured: measured?.all.maxError, maxError: maxError, scheme: scheme)
                reports.append(QuantReport(graph: graph, result: result, domain: domain, measured: measured, gate: gate))
            } catch {
                Diagnostics.error(error.localizedDescription)
                failed = true
            }
        }
        let text: String
        switch outputOptions.format {
        case .sarif, .github:
            text = try FindingsRenderer.render(reports.flatMap(\.findings), format: outputOptions.format, modelPath: models.first ?? "")
        case .json where reports.count != 1:
            text = try encodeJSON(reports)
        default:
            text = try reports.map { try $0.render(outputOptions.format, color: outputOptions.useColor) }.joined(separator: "\n")
        }
        try outputOptions.emit(text)
        if failed { throw ExitCode(ExitStatus.error.rawValue) }
        if !reports.allSatisfy({ $0.gate?.passed ?? false }) && !exitZero { throw ExitCode(ExitStatus.gateFailed.rawValue) }
    }
}

extension CheckBound: ExpressibleByArgument {}
extension GateEnd: ExpressibleByArgument {}
