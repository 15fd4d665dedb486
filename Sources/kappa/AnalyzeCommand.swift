import ArgumentParser
import Foundation
import ONNX
import Reference
import Reports
import Sensitivity

struct Analyze: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per-layer weight norms and the network's perturbation bounds (Eq. 7, Eq. 8) with the precision they cost.",
        discussion: """
            --norm matrix (the default) computes σ_matrix, the paper's estimator, and bounds each \
            convolution's operator norm by √c·σ_matrix (c = windows per input element): fast, and \
            the 'operator' column is still a guaranteed bound. --norm operator also estimates every \
            convolution's operator norm on its real input shape, which tightens that bound at the \
            cost of many convolution passes. `kappa check` defaults to operator.
            """)

    @Argument(help: "The .onnx model file.")
    var model: String

    @Option(help: "matrix (fast, σ_matrix) or operator (adds convolution operator norms).")
    var norm: NormMode = .matrix

    @OptionGroup var normOptions: NormOptions
    @OptionGroup var tensor: TensorOption
    @OptionGroup var domainOptions: DomainOptions
    @Option(help: ArgumentHelp("Data for --input-range empirical (test-data sets or .npy files).", valueName: "PATH"))
    var inputs: String?
    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        let graph = try modelOptions.load(model)
        let options = normOptions.analysisOptions(norm: norm, tensor: tensor)
        let result: AnalysisResult
        let progress = progressOptions.reporter("layer")
        progress.begin()
        defer { progress.finish() }
        if domainOptions.given {
            let (domain, empirical) = try domainOptions.domain(graph, inputsPath: inputs)
            result = try DomainAnalysis.run(graph, options: options, domain: domain, empirical: empirical,
                                            lower: domainOptions.lowerOptions, progress: progress.layers,
                                            log: { progress.log($0) })
        } else {
            result = try SensitivityAnalysis.run(graph, options: options, progress: progress.layers)
        }
        progress.finish()
        let report = AnalyzeReport(graph: graph, result: result)
        try outputOptions.emit(try report.render(outputOptions.format, color: outputOptions.useColor))
    }
}
