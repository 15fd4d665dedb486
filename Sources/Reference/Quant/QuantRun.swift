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
                               threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                               ranges: [String: ClosedRange<Float>]? = nil) throws -> QuantAnalysis.Result {
        let bounds = try domain.map { d throws(ReferenceError) in try IntervalEvaluator.bounds(graph: graph, domain: d.bounds) }
        return try QuantAnalysis.run(graph, settings: settings, output: output, perturb: perturb, bounds: bounds, norm: norm,
                                     spectral: spectral, threads: threads, ranges: ranges)
    }

    /// The observed min/max of every quantizable layer's input over `feeds` (onnxruntime's MinMax
    /// calibration), by tensor name.
    public static func calibrate(_ graph: ModelGraph, settings: QuantSettings, output: String? = nil, perturb: [String]? = nil,
                                 feeds: [[String: Value]]) throws -> [String: ClosedRange<Float>] {
        let plan = try SensitivityAnalysis.plan(graph, options: AnalysisOptions(output: output, perturb: perturb))
        let tensors = Array(Set(QuantAnalysis.candidates(plan).map(\.0.input))).sorted()
        guard !tensors.isEmpty else { return [:] }
        let engine = try Engine(graph: graph, outputs: tensors, requireDependence: false)
        var lo: [String: Float] = [:], hi: [String: Float] = [:]
        for f in feeds {
            let trace = try engine.forward(f, keepAll: true)
            for t in tensors {
                guard let v = trace.values[t] ?? f[t] else { continue }
                for x in v.data where x.isFinite {
                    lo[t] = min(lo[t] ?? x, x)
                    hi[t] = max(hi[t] ?? x, x)
                }
            }
        }
        var out: [String: ClosedRange<Float>] = [:]
        for t in tensors { if let a = lo[t], let b = hi[t] { out[t] = a...b } }
        return out
    }

    /// `count` seeded feeds: float inputs uniform in the domain (or [0, 1]), the others by the
    /// documented synthetic defaults.
    public static func syntheticFeeds(_ graph: ModelGraph, count: Int, seed: UInt64, domain: InputDomain?) throws -> [[String: Value]] {
        try (0..<count).map { i throws(ReferenceError) in
            try SyntheticFeeds.make(graph: graph, inputs: graph.inputs, skip: nil, seed: seed, index: i, range: 0...1, domain: domain)
        }
    }
}

/// `kappa quant --max-error E` / `--min-agreement A`: a mixed-precision plan.
extension QuantRun {
    public struct Plan: Sendable {
        /// The budgets (at least one given): max‖f_Q(x) − f(x)‖₂ ≤ maxError and top-1
        /// agreement with the float model ≥ minAgreement, both measured all at once on the feeds.
        public var maxError: Double?
        public var minAgreement: Double?
        /// Nodes kept in float32 (weights and activations), most sensitive first.
        public var excluded: [String]
        /// The all-at-once measured error after each exclusion (first: nothing excluded).
        public var steps: [(excluded: String?, stats: QuantMeasurement.Stats)]
        public var met: Bool
        /// The plan's settings (the input settings with the excluded nodes at fp32).
        public var settings: QuantSettings
        public var final: QuantMeasurement.Stats { steps.last?.stats ?? steps[0].stats }
    }

    /// Whether `s` meets the budgets: max error ≤ `maxError` (when given) and top-1 agreement
    /// ≥ `minAgreement` (when given; an output with one value has no top-1 and never meets it).
    public static func meets(_ s: QuantMeasurement.Stats, maxError: Double?, minAgreement: Double?) -> Bool {
        if let e = maxError, !(s.maxError <= e) { return false }
        if let a = minAgreement, !((s.top1Agreement ?? -1) >= a) { return false }
        return true
    }

    /// Greedy: while the measured all-at-once configuration misses a budget (max‖f_Q(x) − f(x)‖₂
    /// over the feeds above `maxError`, or top-1 agreement with the float model below
    /// `minAgreement`), keep the quantized layer whose measured error alone is the largest
    /// (ties: the larger static share) in float32, and measure again. Costs (layers + 2)·N
    /// passes for the per-layer measurement plus N per step.
    public static func plan(_ graph: ModelGraph, analysis: QuantAnalysis.Result, measured: QuantMeasurement.Result,
                            feeds: [[String: Value]], maxError: Double? = nil, minAgreement: Double? = nil,
                            domain: InputDomain?) throws -> Plan {
        var settings = analysis.settings
        var steps: [(String?, QuantMeasurement.Stats)] = [(nil, measured.all)]
        var excluded: [String] = []
        let reference = try QuantMeasurement.outputs(graph, output: analysis.output, feeds: feeds)
        let staticTerm = Dictionary(uniqueKeysWithValues: analysis.layers.map { ($0.node, $0.term ?? $0.weightTermPerUnit) })
        var order = measured.perLayer.filter { p in
            analysis.targets.contains { $0.layer.node == p.node && ($0.weights != .float32 || $0.activations != .float32) }
        }
        order.sort { a, b in
            a.stats.maxError != b.stats.maxError ? a.stats.maxError > b.stats.maxError : (staticTerm[a.node] ?? 0) > (staticTerm[b.node] ?? 0)
        }
        var current = measured.all
        var targets = analysis.targets
        for p in order where !meets(current, maxError: maxError, minAgreement: minAgreement) {
            settings.overrides[p.node] = .init(weights: .float32, activations: .float32)
            excluded.append(p.node)
            for k in targets.indices where targets[k].layer.node == p.node {
                targets[k].weights = .float32
                targets[k].activations = .float32
            }
            current = try QuantMeasurement.measureAll(graph, targets: targets, output: analysis.output, feeds: feeds, reference: reference)
            steps.append((p.node, current))
        }
        return Plan(maxError: maxError, minAgreement: minAgreement, excluded: excluded, steps: steps,
                    met: meets(current, maxError: maxError, minAgreement: minAgreement), settings: settings)
    }
}
