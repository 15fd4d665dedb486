import Foundation
import Linalg
import ONNX
import Sensitivity

/// `kappa quant` on a model: the float network's interval bounds on the domain
/// (``IntervalEvaluator``) feed the static bound of ``QuantAnalysis``; the measured half and
/// the plan run the fake-quantized network (``QuantSimulation``).
public enum QuantRun {
    /// The static analysis, with the domain's interval bounds when a domain is given.
    public static func analyse(_ graph: ModelGraph, settings: QuantSettings, domain: InputDomain?, output: String? = nil,
                               perturb: [String]? = nil, norm: NormMode = .matrix, spectral: SpectralOptions = .init(),
                               threads: Int = ProcessInfo.processInfo.activeProcessorCount) throws -> QuantAnalysis.Result {
        let bounds = try domain.map { d throws(ReferenceError) in try IntervalEvaluator.bounds(graph: graph, domain: d.bounds) }
        return try QuantAnalysis.run(graph, settings: settings, output: output, perturb: perturb, bounds: bounds, norm: norm,
                                     spectral: spectral, threads: threads)
    }

    /// `count` seeded feeds: float inputs uniform in the domain (or [0, 1]), the others by the
    /// documented synthetic defaults.
    public static func syntheticFeeds(_ graph: ModelGraph, count: Int, seed: UInt64, domain: InputDomain?) throws -> [[String: Value]] {
        try (0..<count).map { i throws(ReferenceError) in
            try SyntheticFeeds.make(graph: graph, inputs: graph.inputs, skip: nil, seed: seed, index: i, range: 0...1, domain: domain)
        }
    }
}
