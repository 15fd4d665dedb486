import Foundation
import Linalg
import ONNX

/// Options of one analysis run.
public struct AnalysisOptions: Sendable {
    /// `.matrix`: σ_matrix only (fast); the operator column still gets the closed-form
    /// σ_op ≤ √c·σ_matrix. `.operator`: also computes the convolutions' operator norms.
    public var norm: NormMode
    public var spectral: SpectralOptions
    /// The analysed output tensor (`--output`); nil: the rule of ``AnalysedOutput``.
    public var output: String?
    /// Tensors to perturb (`--perturb`); nil: the rule of ``Dependence``.
    public var perturb: [String]?
    /// Worker threads for the per-layer norms.
    public var threads: Int
    /// Sound elementwise bounds of the graph's tensors over an input domain (`--input-range`),
    /// from the interval evaluator; nil: no domain (products and normalisations stay unbounded).
    public var bounds: [String: TensorBounds]?
    /// Also compute the folded and rescaled Eq. 7 bounds (DESIGN.md §1.9, ``RescalingResult``):
    /// true or false as asked (`--rescale`/`--no-rescale`); nil: automatically, for models whose
    /// weight layers hold at most ``autoRescaleLimit`` elements (the search re-norms every layer
    /// a few dozen times: on VGG-19 with `--norm operator` it took 144 s against 22 s without).
    public var rescale: Bool? = nil
    /// Weight elements up to which ``rescale`` nil means on.
    public static let autoRescaleLimit = 4_000_000
    /// At most this many evaluations of the bound while searching the rescaling.
    public var rescaleEvaluations: Int = 40
    /// At most this many subspace iterations per weight layer and evaluation (warm-started,
    /// stopped when the top value settles to 1e-5; 4× at the starting points).
    public var rescaleIterations: Int = 20

    public init(norm: NormMode = .matrix, spectral: SpectralOptions = .init(), output: String? = nil,
                perturb: [String]? = nil, threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                bounds: [String: TensorBounds]? = nil, rescale: Bool? = nil) {
        self.rescale = rescale
        self.norm = norm
        self.spectral = spectral
        self.output = output
        self.perturb = perturb
        self.threads = threads
        self.bounds = bounds
    }
}

/// Every way the analysis semantics can refuse a model or an option; one line each, naming
/// the file and the tensor (the CLI exits 2).
public enum SensitivityError: Error, LocalizedError, Sendable, Equatable {
    case unknownOutput(path: String, name: String)
    case noOutput(path: String)
    /// The requested or every candidate output is not analysable (integer, independent, pass-through).
    case outputNotAnalysable(path: String, name: String, reason: String)
    /// A `--perturb` tensor that cannot be perturbed.
    case badPerturb(path: String, name: String, reason: String)
    /// Nothing in the model can be perturbed (no float input, no embedding, no float data).
    case noPerturbation(path: String)

    public var errorDescription: String? {
        switch self {
        case let .unknownOutput(path, name): return "\(path): --output '\(name)' is not a tensor of the graph"
        case let .noOutput(path): return "\(path): the graph declares no output"
        case let .outputNotAnalysable(path, name, reason): return "\(path): output '\(name)' cannot be analysed: \(reason)"
        case let .badPerturb(path, name, reason): return "\(path): --perturb '\(name)': \(reason)"
        case let .noPerturbation(path): return "\(path): no floating-point input, embedding lookup or floating-point tensor made from the inputs to perturb; name one with --perturb"
        }
    }
}

/// A weight layer's row data: the weight and its norms.
public struct WeightRow: Sendable {
    public var weight: String
    public var shape: [Int]
    public var norms: WeightNorms
}

/// One typed result per reported node (stage 5 of ``SensitivityAnalysis``): every weight
/// layer, and every other node whose L ≠ 1 or that is unbounded/unsupported.
public struct NodeAnalysis: Sendable {
    /// 1-based position in the table.
    public var index: Int
    public var node: String
    public var op: String
    public var weight: WeightRow?
    /// L in both columns (weight layers: scale·σ_matrix and scale·σ_op upper).
    public var lipschitz: ModePair
    /// g(output of the node): Lipschitz bound from the perturbation to this node (Eq. 7).
    public var gainFromInput: ModePair
    /// h(input of the node): from this node's input to the analysed output, its Eq. 8 term.
    public var gainToOutput: ModePair
    /// log₂ L / log₂ (Eq. 7 bound) per column: the share of the bound's bits this node adds.
    public var share: ModePair?
    public var status: NodeStatus
    public var reason: String?
    /// Unbounded, but an input domain would bound it (KAPPA006).
    public var domainWouldBound = false
    /// Weight layers: L after folding and after the optimised rescaling (§1.9), when computed.
    public var lipschitzFolded: ModePair?
    public var lipschitzRescaled: ModePair?
}

public struct NetworkResult: Sendable {
    public var output: AnalysedOutput
    public var entries: [PerturbationEntry]
    public var eq7: ModePair
    public var eq8: ModePair
    public var roundingPoints: Int
    /// Eq. 7 after folding and after the optimised rescaling (DESIGN.md §1.9); nil when not
    /// computed (disabled, nothing to rescale, or an unbounded network).
    public var tightening: RescalingResult?

    public var eq7Precision: (matrix: Precision, operator: Precision) {
        (Precision(kappa: eq7.matrix), Precision(kappa: eq7.operator))
    }
    public var eq8Precision: (matrix: Precision, operator: Precision) {
        (Precision(kappa: eq8.matrix), Precision(kappa: eq8.operator))
    }
}

/// The result of ``SensitivityAnalysis/run(_:options:progress:)``.
public struct AnalysisResult: Sendable {
    public var norm: NormMode
    public var nodes: [NodeAnalysis]
    public var network: NetworkResult
    /// Every finding of the analysis, emitted in one place (``Findings``).
    public var findings: [Finding]
    /// Notes on how the analysis was set up (the analysed output's alternatives).
    public var notes: [String]
    /// The bracket [ℓ, L] on the input domain, when one was given (`--input-range`).
    public var bracket: Bracket?
}
