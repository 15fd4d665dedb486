import ArgumentParser
import Foundation
import Linalg
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

    @Flag(help: "Print per-layer progress on stderr even when it is not a terminal.")
    var progress = false

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Also report Eq. 7 after folding BatchNorm/constant scalings into the adjacent linear layers and after an optimised positive per-channel rescaling (both sound).",
        discussion: "The rescaling search re-norms the weights a few dozen times (float32 iterations), then the kept points exactly."))
    var rescale = true

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

    /// Log lines of long searches on stderr, only on a terminal or with --progress.
    var logHandler: ((String) -> Void)? {
        guard progress || isatty(STDERR_FILENO) == 1 else { return nil }
        return { Diagnostics.progress($0) }
    }

    /// Progress lines "layer i/n" on stderr, only on a terminal or with --progress.
    var progressHandler: (@Sendable (Int, Int, String) -> Void)? {
        guard progress || isatty(STDERR_FILENO) == 1 else { return nil }
        return { done, total, node in Diagnostics.progress("layer \(done)/\(total) \(node)") }
    }
}
