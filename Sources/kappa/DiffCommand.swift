import ArgumentParser
import Foundation
import ONNX
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
            """)

    @Argument(help: "The float .onnx model.")
    var float: String

    @Argument(help: "Its quantized or float16 export.")
    var export: String

    @Option(name: .customLong("max-divergence"), help: ArgumentHelp("Budget for every layer's ‖ΔW‖_F/‖W‖_F.", valueName: "E"))
    var maxDivergence: Double?

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var outputOptions: OutputOptions

    func validate() throws {
        if let m = maxDivergence, !(m >= 0 && m.isFinite) { throw ValidationError("--max-divergence must be a non-negative number") }
    }

    func run() throws {
        let f = try modelOptions.load(float), e = try modelOptions.load(export)
        let r = try ModelDiff.run(float: f, export: e)
        let report = DiffReport(float: f, export: e, result: r, maxDivergence: maxDivergence)
        try outputOptions.emit(try report.render(outputOptions.format, color: outputOptions.useColor))
        if !report.passed { throw ExitCode(ExitStatus.gateFailed.rawValue) }
    }
}
