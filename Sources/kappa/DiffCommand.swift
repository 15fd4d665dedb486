import ArgumentParser
import Foundation
import ONNX
import Reference
import Reports
import Sensitivity

struct Diff: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per-layer weight drift between a float model and its quantized (QDQ, QOperator, dynamic) or float16 export.",
        discussion: """
            Weight layers are matched by node name (exporter suffixes such as _quant stripped), then by \
            topological order and weight shape; unmatched layers are listed. Per pair: ‖ΔW‖₂, ‖ΔW‖_F, \
            ‖ΔW‖_F/‖W‖_F and SQNR. With --max-divergence E the command exits 1 when a pair's relative \
            divergence exceeds E (KAPPA008).

            With --inputs PATH or --synthetic N both models run on the same inputs: the output \
            divergence (max ‖Δy‖₂, relative error, SQNR, top-1 agreement between float and export) \
            and, at every activation both graphs hold under the same name, the cumulative relative \
            divergence (both run from the inputs) and the local one (the export computing it from \
            the float model's value at the nearest matched activation upstream).
            """)

    @Argument(help: "The float .onnx model.")
    var float: String

    @Argument(help: "Its quantized or float16 export.")
    var export: String

    @Option(name: .customLong("max-divergence"), help: ArgumentHelp("Budget for every layer's ‖ΔW‖_F/‖W‖_F.", valueName: "E"))
    var maxDivergence: Double?

    @Option(help: ArgumentHelp("Inputs to compare the two models on: a folder of test_data_set_*/input_0.pb, a .pb, a folder of .npy files or a .npy.", valueName: "PATH"))
    var inputs: String?

    @Option(help: ArgumentHelp("Compare on N synthetic inputs (uniform in the --input-range domain, else in [0, 1]).", valueName: "N"))
    var synthetic: Int?

    @Option(help: "Seed of the synthetic inputs.")
    var seed: UInt64 = 0

    @OptionGroup var domainOptions: DomainOptions
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
        if let m = maxDivergence, !(m >= 0 && m.isFinite) { throw ValidationError("--max-divergence must be a non-negative number") }
        guard inputs == nil || synthetic == nil else { throw ValidationError("give only one of --inputs PATH or --synthetic N") }
        if let synthetic, synthetic < 1 { throw ValidationError("--synthetic must be at least 1") }
    }

    func run() throws {
        let f = try modelOptions.load(float), e = try modelOptions.load(export)
        let r = try ModelDiff.run(float: f, export: e)
        var divergence: DiffDivergence.Result?
        if inputs != nil || synthetic != nil {
            let domain = domainOptions.given ? try domainOptions.domain(f, inputsPath: inputs).0 : nil
            let feeds = try Quant.feeds(f, inputs: inputs, synthetic: synthetic, seed: seed, domain: domain)
            do { divergence = try DiffDivergence.run(float: f, export: e, feeds: feeds) } catch let k as KappaError { throw k } catch {
                throw KappaError("\(export): \(error.localizedDescription)")
            }
        }
        let report = DiffReport(float: f, export: e, result: r, maxDivergence: maxDivergence, divergence: divergence)
        try outputOptions.emit(try report.render(outputOptions.format, color: outputOptions.useColor))
        if !report.passed { throw ExitCode(ExitStatus.gateFailed.rawValue) }
    }
}
