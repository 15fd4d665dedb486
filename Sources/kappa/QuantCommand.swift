import ArgumentParser
import Foundation
import ONNX
import Reference
import Reports
import Sensitivity

/// The scheme options shared by `kappa quant` and `kappa check`'s quantization gate.
struct QuantOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Weight scheme: \(WeightScheme.names).", valueName: "SCHEME"))
    var weights: String?

    @Option(help: ArgumentHelp("Activation scheme (the input of every quantized layer): \(ActivationScheme.names).", valueName: "SCHEME"))
    var activations: String?

    @Option(help: ArgumentHelp("Per-node schemes: JSON {\"NODE\": {\"weights\": S, \"activations\": S}} or a plan sidecar.", valueName: "FILE"))
    var overrides: String?

    @Option(name: .customLong("max-error"),
            help: ArgumentHelp("Budget for the output error ‖f_Q(x) − f(x)‖₂ of the analysed output (absolute, in its units).", valueName: "E"))
    var maxError: Double?

    var given: Bool { weights != nil || activations != nil }

    func validate() throws {
        if let w = weights, WeightScheme(parsing: w) == nil { throw ValidationError("--weights '\(w)': one of \(WeightScheme.names)") }
        if let a = activations, ActivationScheme(parsing: a) == nil { throw ValidationError("--activations '\(a)': one of \(ActivationScheme.names)") }
        if let e = maxError, !(e > 0 && e.isFinite) { throw ValidationError("--max-error must be a positive number") }
    }

    func settings() throws -> QuantSettings {
        var s = QuantSettings(weights: weights.flatMap(WeightScheme.init(parsing:)) ?? .int(bits: 8, granularity: .tensor),
                              activations: activations.flatMap(ActivationScheme.init(parsing:)) ?? .float32)
        if let overrides {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: overrides)) } catch { throw KappaError("cannot read '\(overrides)': \(error.localizedDescription)") }
            do { s.overrides = try QuantSettings.overrides(json: data, path: overrides) } catch { throw KappaError(error.localizedDescription) }
        }
        return s
    }
}

struct Quant: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Quantization error per layer and for the network: ΔW = Q(W) − W, a sound output-error bound, measured errors and a mixed-precision plan.",
        discussion: """
            Static and data-free: per weight layer (Conv, ConvTranspose, Gemm, MatMul) ΔW = Q(W) − W as \
            the scheme rounds it, ‖ΔW‖₂, ‖ΔW‖_F, SQNR and the per-channel range spread. With \
            --input-range the errors are propagated to the output as a sound bound on ‖f_Q(x) − f(x)‖₂ \
            over the domain (downstream layers at σ(W) + ‖ΔW‖), and each layer's share of it is shown. \
            Integer activations take their scales from the activation ranges on that domain.

            With --inputs PATH or --synthetic N the scheme is simulated in the reference engine (every \
            layer at once, and one layer at a time) and each prediction is shown next to its measurement. \
            With --max-error E and/or --min-agreement A as well, a plan keeps the most sensitive layers \
            in float32 until the measured error is at most E and the top-1 agreement with the float \
            model at least A; --plan-out FILE writes it as JSON keyed by ONNX node name \
            (readable back with --overrides) with the nodes_to_exclude list quantization tools take.
            """)

    @Argument(help: "The .onnx model file.")
    var model: String

    @OptionGroup var quant: QuantOptions

    @Option(help: "matrix (σ_op ≤ √c·σ_matrix, fast) or operator (convolution operator norms, tighter).")
    var norm: NormMode = .matrix

    @Option(help: ArgumentHelp("Inputs to measure on: a folder of test_data_set_*/input_0.pb, a .pb, a folder of .npy files or a .npy.", valueName: "PATH"))
    var inputs: String?

    @Option(help: ArgumentHelp("Measure on N synthetic inputs (uniform in the domain, else in [0, 1]).", valueName: "N"))
    var synthetic: Int?

    @Option(help: "Seed of the synthetic inputs.")
    var seed: UInt64 = 0

    @Flag(help: "Integer activation scales from the observed ranges of the --inputs/--synthetic data (MinMax calibration) instead of the domain's interval bounds; the static bound then adds each clipping term.")
    var calibrate = false

    @Option(name: .customLong("min-agreement"),
            help: ArgumentHelp("Plan until the measured top-1 agreement with the float model is at least A (a fraction in [0, 1]).", valueName: "A"))
    var minAgreement: Double?

    @Option(name: .customLong("plan-out"), help: ArgumentHelp("Write the --max-error/--min-agreement plan as JSON to FILE.", valueName: "FILE"))
    var planOut: String?

    @Flag(name: .customLong("no-kappa"), help: "With inputs, skip the measured κ (DeepFool and random perturbations) of the float and quantized networks.")
    var noKappa = false

    @OptionGroup var normOptions: NormOptions
    @OptionGroup var tensor: TensorOption
    @OptionGroup var domainOptions: DomainOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var progressOptions: ProgressOptions

    func validate() throws {
        guard inputs == nil || synthetic == nil else { throw ValidationError("give only one of --inputs PATH or --synthetic N") }
        if let synthetic, synthetic < 1 { throw ValidationError("--synthetic must be at least 1") }
        if quant.maxError != nil && inputs == nil && synthetic == nil {
            throw ValidationError("--max-error plans on measured errors: give --inputs PATH or --synthetic N (for a static gate use kappa check --max-error)")
        }
        if let a = minAgreement, !(a >= 0 && a <= 1) { throw ValidationError("--min-agreement must be a fraction in [0, 1]") }
        if minAgreement != nil && inputs == nil && synthetic == nil {
            throw ValidationError("--min-agreement plans on measured agreement: give --inputs PATH or --synthetic N")
        }
        if calibrate && inputs == nil && synthetic == nil { throw ValidationError("--calibrate takes the ranges from --inputs PATH or --synthetic N") }
        if planOut != nil && quant.maxError == nil && minAgreement == nil {
            throw ValidationError("--plan-out writes the plan: give --max-error E or --min-agreement A")
        }
    }

    func run() throws {
        let graph = try modelOptions.load(model)
        let settings = try quant.settings()
        let domain = domainOptions.given ? try domainOptions.domain(graph, inputsPath: inputs).0 : nil
        let measuring = inputs != nil || synthetic != nil
        let feeds = measuring ? try Self.feeds(graph, inputs: inputs, synthetic: synthetic, seed: seed, domain: domain) : []
        var ranges: [String: ClosedRange<Float>]?
        if calibrate {
            do { ranges = try QuantRun.calibrate(graph, settings: settings, output: tensor.name, perturb: tensor.perturbed, feeds: feeds) } catch {
                throw KappaError("\(model): calibration: \(error.localizedDescription)")
            }
        }
        let result = try Self.analyse(graph, settings: settings, domain: domain, norm: norm, normOptions: normOptions, tensor: tensor, ranges: ranges)
        var measured: QuantMeasurement.Result?
        var plan: QuantRun.Plan?
        if measuring {
            do {
                let reporter = progressOptions.reporter("configuration")
                reporter.begin()
                defer { reporter.finish() }
                let m = try QuantMeasurement.measure(graph, targets: result.targets, output: result.output, feeds: feeds,
                                                     progress: { done, total, item in reporter.update(done: done, total: total, item: item) })
                measured = m
                if quant.maxError != nil || minAgreement != nil {
                    if minAgreement != nil && m.all.top1Agreement == nil {
                        throw KappaError("\(model): --min-agreement: output '\(result.output)' has one value, so no top-1 class to agree on")
                    }
                    plan = try QuantRun.plan(graph, analysis: result, measured: m, feeds: feeds, maxError: quant.maxError,
                                             minAgreement: minAgreement, domain: domain)
                }
            } catch let e as KappaError { throw e } catch { throw KappaError("\(model): \(error.localizedDescription)") }
        }
        var kappa: QuantMeasurement.Kappa?
        var extraNotes: [String] = []
        if measuring && !noKappa {
            do {
                kappa = try Self.measuredKappa(graph, result: result, tensor: tensor, inputs: inputs, count: feeds.count, seed: seed, domain: domain)
            } catch {
                extraNotes.append("measured κ not available: \(error.localizedDescription)")
            }
        }
        let report = QuantReport(graph: graph, result: result, domain: domain, measured: measured, plan: plan, kappa: kappa, notes: extraNotes)
        if let planOut, let sidecar = try report.sidecar() {
            do { try Data(sidecar.utf8).write(to: URL(fileURLWithPath: planOut)) } catch { throw KappaError("cannot write '\(planOut)': \(error.localizedDescription)") }
        }
        try outputOptions.emit(try report.render(outputOptions.format, color: outputOptions.useColor))
    }

    static func analyse(_ graph: ModelGraph, settings: QuantSettings, domain: InputDomain?, norm: NormMode, normOptions: NormOptions,
                        tensor: TensorOption, ranges: [String: ClosedRange<Float>]? = nil) throws -> QuantAnalysis.Result {
        let o = normOptions.analysisOptions(norm: norm, tensor: tensor)
        do {
            return try QuantRun.analyse(graph, settings: settings, domain: domain, output: o.output, perturb: o.perturb, norm: norm,
                                        spectral: o.spectral, threads: o.threads, ranges: ranges)
        } catch let e as SensitivityError { throw e } catch { throw KappaError(error.localizedDescription) }
    }

    /// The measured κ of the float and the fake-quantized network on the same inputs as the
    /// error measurement (the --inputs files, or `count` synthetic inputs in the domain).
    static func measuredKappa(_ graph: ModelGraph, result: QuantAnalysis.Result, tensor: TensorOption, inputs: String?, count: Int,
                              seed: UInt64, domain: InputDomain?) throws -> QuantMeasurement.Kappa {
        let plan = try SensitivityAnalysis.plan(graph, options: AnalysisOptions(output: result.output, perturb: tensor.perturbed))
        let shape = try Validation.inputShape(of: graph, plan: plan)
        let set: InputSet
        if let inputs, let first = graph.inputs.first {
            set = try InputSet.files(at: inputs, shape: shape, input: first.name, graphInputs: graph.inputs.map(\.name))
        } else {
            set = InputSet.synthetic(count: count, range: 0...1, seed: seed, shape: shape)
        }
        return try QuantMeasurement.kappa(graph, targets: result.targets, output: result.output, perturb: tensor.perturbed,
                                          inputs: set, options: ValidationOptions(seed: seed, domain: domain))
    }

    /// The measurement inputs: the first data input from `--inputs` files (the others by the
    /// synthetic defaults), or `synthetic` seeded feeds uniform in the domain (else [0, 1]).
    static func feeds(_ graph: ModelGraph, inputs: String?, synthetic: Int?, seed: UInt64, domain: InputDomain?) throws -> [[String: Value]] {
        do {
            if let synthetic { return try QuantRun.syntheticFeeds(graph, count: synthetic, seed: seed, domain: domain) }
            guard let path = inputs, let first = graph.inputs.first, let shape = graph.shapes[first.name] else {
                throw KappaError("no inputs to measure on")
            }
            let set = try InputSet.files(at: path, shape: shape, input: first.name, graphInputs: graph.inputs.map(\.name))
            var out: [[String: Value]] = []
            for i in 0..<set.count {
                var f = try SyntheticFeeds.make(graph: graph, inputs: graph.inputs, skip: first.name, seed: seed, index: i, range: 0...1, domain: domain)
                f[first.name] = try set.load(i)
                out.append(f)
            }
            return out
        } catch let e as KappaError { throw e } catch { throw KappaError(error.localizedDescription) }
    }
}
