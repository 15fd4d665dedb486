import Foundation
import Linalg
import ONNX

/// Options of one analysis run.
public struct AnalysisOptions: Sendable {
    /// `.matrix`: σ_matrix only (fast); the sound column still gets the closed-form
    /// σ_op ≤ √c·σ_matrix. `.operator`: also estimates the convolutions' operator norms.
    public var norm: NormMode
    public var spectral: SpectralOptions
    /// The analysed output tensor; nil picks the input of the final Softmax/LogSoftmax.
    public var output: String?
    /// Worker threads for the per-layer norms.
    public var threads: Int

    public init(norm: NormMode = .matrix, spectral: SpectralOptions = .init(), output: String? = nil,
                threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.norm = norm
        self.spectral = spectral
        self.output = output
        self.threads = threads
    }
}

public enum SensitivityError: Error, LocalizedError, Sendable {
    case unknownOutput(path: String, name: String)
    case noOutput(path: String)

    public var errorDescription: String? {
        switch self {
        case let .unknownOutput(path, name): return "\(path): --output '\(name)' is not a tensor of the graph"
        case let .noOutput(path): return "\(path): the graph declares no output"
        }
    }
}

/// Something the report must tell: a NaN weight, an op outside the table, an unbounded node.
public struct AnalysisIssue: Sendable, Equatable {
    public enum Kind: String, Sendable { case nonFiniteWeight, unsupported, unbounded }
    public var kind: Kind
    public var node: String
    public var message: String
}

/// One row of the layer table: a weight layer, or another node whose L ≠ 1 or that is
/// unbounded/unsupported.
public struct LayerRow: Sendable {
    public var index: Int
    public var node: String
    public var op: String
    public var weight: String?
    public var weightShape: [Int]?
    public var norms: WeightNorms?
    /// L in both modes (weight layers: scale·σ_matrix and scale·σ_op upper).
    public var lipschitz: ModePair
    /// g(output of the node): Lipschitz bound from the network input to this node (Eq. 7).
    public var gainFromInput: ModePair
    /// h(input of the node): from this node's input to the analysed output, its Eq. 8 term.
    public var gainToOutput: ModePair
    /// log₂ L / log₂ (Eq. 7 bound) per mode: the share of the bound's bits this node adds.
    public var share: ModePair?
    public var status: NodeRule.Status
    public var reason: String?
}

public struct NetworkResult: Sendable {
    public var output: String
    public var eq7: ModePair
    public var eq8: ModePair
    public var roundingPoints: Int
    public var eq7Precision: (matrix: Precision, sound: Precision) {
        (Precision(kappa: eq7.matrix), Precision(kappa: eq7.sound))
    }
    public var eq8Precision: (matrix: Precision, sound: Precision) {
        (Precision(kappa: eq8.matrix), Precision(kappa: eq8.sound))
    }
}

/// The result of `SensitivityAnalysis.run`.
public struct AnalysisResult: Sendable {
    public var norm: NormMode
    public var layers: [LayerRow]
    public var network: NetworkResult
    public var issues: [AnalysisIssue]
}
