import ArgumentParser
import Foundation
import Linalg
import Reports
import Sensitivity

extension NormMode: ExpressibleByArgument {}

/// Options shared by `analyze` and `check`: how the norms are computed.
struct NormOptions: ParsableArguments {
    @Flag(help: "Compute every spectral norm exactly with LAPACK (slow for large layers).")
    var exact = false

    @Option(help: "Relative tolerance of the iterative spectral norms.")
    var tolerance: Double = 1e-6

    @Option(help: ArgumentHelp("Relative tolerance of the iteration behind σ_op's lower end (--norm operator).",
                               discussion: "The upper end is proven whatever this is; the lower end shows how tight it is."))
    var operatorTolerance: Double = 1e-4

    @Option(help: "Worker threads for the per-layer norms (default: all cores).")
    var threads: Int?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Also report Eq. 7 after folding BatchNorm/constant scalings into the adjacent linear layers and after an optimised positive per-channel rescaling (both sound). Default: on for models with at most 4 M weight elements.",
        discussion: "The rescaling search re-norms the weights a few dozen times (float32 iterations), then the kept points exactly: on large models it costs several times the norms themselves."))
    var rescale: Bool?

    @Option(help: "Evaluations of the bound while searching the rescaling.")
    var rescaleSteps: Int = 40

    func validate() throws {
        guard tolerance > 0, tolerance < 1 else { throw ValidationError("--tolerance must be in (0, 1)") }
        guard operatorTolerance > 0, operatorTolerance < 1 else { throw ValidationError("--operator-tolerance must be in (0, 1)") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be ≥ 1") }
        guard rescaleSteps >= 2 else { throw ValidationError("--rescale-steps must be ≥ 2") }
    }

    func analysisOptions(norm: NormMode, tensor: TensorOption) -> AnalysisOptions {
        var o = AnalysisOptions(norm: norm, spectral: SpectralOptions(tolerance: tolerance, operatorTolerance: operatorTolerance, exact: exact),
                                output: tensor.name, perturb: tensor.perturbed,
                                threads: threads ?? ProcessInfo.processInfo.activeProcessorCount, rescale: rescale)
        o.rescaleEvaluations = rescaleSteps
        return o
    }
}

/// `--quiet` and `--progress`: how long runs report progress on stderr (never stdout, where
/// the report goes). A terminal gets a bar redrawn in place (step i of n, elapsed, ETA);
/// anything else a plain line every 10 s, or every step with --progress.
struct ProgressOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "No progress bar or progress lines on stderr (notes and errors still appear).")
    var quiet = false

    @Flag(help: "Print every progress step as a line on stderr, also when it is not a terminal.")
    var progress = false

    func validate() throws {
        if quiet && progress { throw ValidationError("--quiet and --progress contradict each other") }
    }

    var style: ProgressReporter.Style {
        if quiet { return .silent }
        if progress { return .lines(interval: 0) }
        let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
        return isatty(STDERR_FILENO) == 1 && term != "dumb" ? .bar() : .lines(interval: 10)
    }

    /// A reporter writing to stderr; `unit` names a step ("layer", "input").
    func reporter(_ unit: String) -> ProgressReporter {
        ProgressReporter(style: style, unit: unit) { FileHandle.standardError.write(Data($0.utf8)) }
    }
}

extension ProgressReporter {
    /// The per-layer callback of the norm computation.
    var layers: @Sendable (Int, Int, String) -> Void {
        { [self] done, total, node in update(done: done, total: total, item: node) }
    }
}
