import Foundation
import ONNX
import Sensitivity

/// The measured half of `kappa quant` (DESIGN.md §1.10): the float model and its fake-quantized
/// versions (``QuantSimulation``) run on the same inputs — once with every layer quantized,
/// and once per layer with only that layer quantized, (layers + 2)·N forward passes in all.
public enum QuantMeasurement {
    /// Output error of one quantized configuration over N inputs.
    public struct Stats: Sendable, Equatable {
        public var inputs: Int
        /// max over the inputs of ‖f_Q(x) − f(x)‖₂ (what the static bound bounds).
        public var maxError: Double
        /// max and mean of ‖f_Q(x) − f(x)‖₂ / ‖f(x)‖₂.
        public var maxRelativeError: Double
        public var meanRelativeError: Double
        /// 10·log10(Σ‖f(x)‖² / Σ‖f_Q(x) − f(x)‖²) over the inputs (+∞ when equal).
        public var sqnr: Double
        /// Fraction of inputs whose arg max agrees with the float model's (nil for a one-value output).
        public var top1Agreement: Double?
    }

    public struct Result: Sendable {
        public var all: Stats
        /// Node name → the error with only that layer quantized (same order as the targets).
        public var perLayer: [(node: String, stats: Stats)]
        public var forwardPasses: Int
    }

    /// Runs the float model and the quantized versions on `feeds` (one dictionary per input).
    /// `perLayer`: also one layer at a time. `progress(done, total, item)` after each
    /// configuration (the float reference, all layers, then each layer alone).
    public static func measure(_ graph: ModelGraph, targets: [QuantAnalysis.Target], output: String, feeds: [[String: Value]],
                               perLayer: Bool = true, progress: ((Int, Int, String) -> Void)? = nil) throws -> Result {
        let total = 2 + (perLayer ? targets.count : 0)
        let reference = try outputs(graph, output: output, feeds: feeds)
        progress?(1, total, "float reference")
        var passes = feeds.count
        let all = compare(reference, try outputs(try QuantSimulation.graph(graph, targets: targets), output: output, feeds: feeds))
        passes += feeds.count
        progress?(2, total, "all layers quantized")
        var per: [(String, Stats)] = []
        if perLayer {
            for (i, t) in targets.enumerated() {
                let g = try QuantSimulation.graph(graph, targets: targets, only: [t.layer.node])
                per.append((t.layer.node, compare(reference, try outputs(g, output: output, feeds: feeds))))
                passes += feeds.count
                progress?(3 + i, total, t.layer.node)
            }
        }
        return Result(all: all, perLayer: per, forwardPasses: passes)
    }

    /// Only the all-at-once error of one configuration (the plan search).
    public static func measureAll(_ graph: ModelGraph, targets: [QuantAnalysis.Target], output: String, feeds: [[String: Value]],
                                  reference: [Value]) throws -> Stats {
        compare(reference, try outputs(try QuantSimulation.graph(graph, targets: targets), output: output, feeds: feeds))
    }

    /// f(x) for every feed.
    public static func outputs(_ graph: ModelGraph, output: String, feeds: [[String: Value]]) throws -> [Value] {
        let engine = try Engine(graph: graph, outputs: [output], requireDependence: false)
        var out: [Value] = []
        for f in feeds { out.append(try engine.forward(f).result) }
        return out
    }

    public static func compare(_ ref: [Value], _ q: [Value]) -> Stats {
        var maxErr = 0.0, maxRel = 0.0, sumRel = 0.0, sig = 0.0, noise = 0.0, agree = 0
        for (a, b) in zip(ref, q) {
            var d = 0.0, n = 0.0
            for (x, y) in zip(a.data, b.data) {
                let e = Double(y) - Double(x)
                d += e * e
                n += Double(x) * Double(x)
            }
            if a.data.count != b.data.count { d = .infinity }
            maxErr = max(maxErr, d.squareRoot())
            let rel = n > 0 ? (d / n).squareRoot() : (d > 0 ? .infinity : 0)
            maxRel = max(maxRel, rel)
            sumRel += rel
            sig += n
            noise += d
            if argmax(a.data) == argmax(b.data) { agree += 1 }
        }
        let count = min(ref.count, q.count)
        let top1: Double? = (ref.first?.data.count ?? 0) > 1 && count > 0 ? Double(agree) / Double(count) : nil
        return Stats(inputs: count, maxError: maxErr, maxRelativeError: maxRel, meanRelativeError: count > 0 ? sumRel / Double(count) : 0,
                     sqnr: noise > 0 ? 10 * log10(sig / noise) : .infinity, top1Agreement: top1)
    }

    static func argmax(_ v: [Float]) -> Int {
        var best = 0
        for i in v.indices where v[i] > v[best] { best = i }
        return best
    }

    /// The measured κ of the float network and of the network with quantized weights
    /// (``QuantSimulation`` with every target's Q(W), activations left in float) on the same
    /// inputs, as `kappa validate` measures it: per input the DeepFool κ_max and the
    /// random-perturbation κ (``Validation``), summarised. Activation rounding is left out on
    /// purpose: it makes the map piecewise constant, so its κ is 0 almost everywhere (a
    /// perturbation below half a step changes nothing) and undefined at the steps — on a
    /// generated AlexNet with uint8 activations every DeepFool run stalled for its 50 steps and
    /// reported 0. Its effect is what the measured output error reports. With float32 weights
    /// everywhere the quantized side is the float measurement itself (not run twice).
    public struct Kappa: Sendable {
        public var float: MeasurementSummary
        public var quantized: MeasurementSummary
    }

    public static func kappa(_ graph: ModelGraph, targets: [QuantAnalysis.Target], output: String, perturb: [String]?,
                             inputs: InputSet, options: ValidationOptions) throws -> Kappa {
        func one(_ g: ModelGraph) throws -> MeasurementSummary {
            let plan = try SensitivityAnalysis.plan(g, options: AnalysisOptions(output: output, perturb: perturb))
            return try Validation.run(graph: g, plan: plan, inputs: inputs, inputsDescription: "", options: options).summary
        }
        let float = try one(graph)
        guard targets.contains(where: { $0.weights != .float32 }) else { return Kappa(float: float, quantized: float) }
        let q = try QuantSimulation.graph(graph, targets: targets, roundActivations: false)
        return Kappa(float: float, quantized: try one(q))
    }
}
