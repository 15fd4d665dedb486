import Foundation
import Linalg
import ONNX

/// `kappa quant`, static and data-free (DESIGN.md §1.10): per weight layer ΔW = Q(W) − W as
/// the scheme rounds it, its norms, and a sound bound on the output error of the quantized
/// network.
///
/// ## The bound
/// Let f be the float network and f_Q the network whose weight layer i computes
/// y_i = A_i(Q(W_i))·R_i(x̃_i) + b_i, where A_i(W) is the layer's linear map for weight W (scale
/// ·W∗x: a convolution, a matrix product), R_i the activation rounding of its input and x̃_i
/// that input in f_Q (x_i in f). Write δ_t = t̃ − t for every tensor t and ε_t for a bound on
/// ‖δ_t‖ over the inputs considered.
/// 1. **Rounding of an input.** For an integer grid of step s whose range contains every float
///    value x (ranges from the domain intervals, the zero point rounded: within s/2), clamping
///    x̃ to the grid's range is a projection onto a box holding x, so elementwise
///    |R(x̃) − x| ≤ |x̃ − x| + s/2. For a float format with unit roundoff u and subnormal half
///    step η, clamping to ±max then rounding gives |R(x̃) − x| ≤ (1+u)|x̃ − x| + u|x| + η
///    (+ (|x| − max)⁺ where x itself saturates). By the triangle inequality in ℓ2:
///    ‖R(x̃) − x‖ ≤ (1+u)‖δ_x‖ + e, e = (s/2)·√n (integers, u = 0) or u·sup‖x‖ + η·√n
///    (+ √n·(M − max)⁺, M = sup|x|) — plus (2⁻¹⁵·s + 2⁻²²·(M + s))·√n of float32 slack: the
///    scale is stored in float32 (the grid's ends move by ≤ 255·2⁻²⁴·s + 2⁻²⁴·M) and x/s and
///    (q − z)·s are evaluated in float32. A grid from calibrated ranges (`ranges`: the observed
///    min/max, onnxruntime's MinMax calibration) need not hold every x: then
///    |R(x̃) − x| ≤ s/2 + |x̃ − x| + dist(x, [a, b]) (R(x̃) is within s/2 of clamp(x̃, a, b), and
///    clamping is 1-Lipschitz), with dist(x, [a, b]) ≤ max(0, hi − b, a − lo) from the
///    intervals, and e gets ‖dist‖₂.
/// 2. **A weight layer.** δ_y = A(Q(W))(R(x̃) − x) + A(ΔW)x, so with
///    ‖A(Q(W))‖ ≤ ‖A(W)‖ + ‖A(ΔW)‖ (the triangle inequality) and the operator bounds of
///    ``WeightLayer/computeNorms(mode:options:)`` applied to W and to ΔW on the same geometry:
///    ε_y ≤ (σ_W + σ_ΔW)(1+u)·ε_x + [σ_ΔW·sup‖x‖ + (σ_W + σ_ΔW)·e].
///    The bracket is the layer's source term s_i; sup‖x‖ comes from the float network's
///    interval bounds on the domain (x is the *float* activation).
/// 3. **Every other node** keeps its float weights, so its global Lipschitz rule bounds the
///    difference of its outputs on the two trajectories: ε_out ≤ Σ_k L_k ε_in_k (Concat's
///    √Σ and If's max are ≤ the sum). Rules are the global ones (no domain): a domain rule is
///    proven on the float network's intervals, which the quantized activations may leave.
/// By induction over a topological order, ε is bounded by the linear recursion with these
/// gains and sources, whose solution at the output y is Σ_i h_i·s_i with h_i the backward
/// gain (DESIGN.md §1.4) from the output of layer i to y computed with the perturbed gains
/// (σ_W + σ_ΔW)(1+u) at every quantized layer. Hence ‖f_Q(x) − f(x)‖ ≤ Σ_i h_i·s_i for every x
/// of the domain: a sound bound, not a first-order estimate. The term h_i·s_i is layer i's
/// share. Assumed: the Lanczos σ_matrix at its converged value (as in every bound of the
/// operator column), exact arithmetic in f and f_Q apart from the rounding the scheme does
/// (float32 evaluation noise, ~1e-7 relative, is not in the bound).
///
/// Without a domain sup‖x_i‖ is unknown: the report gives h_i·σ_ΔW (the error per unit of
/// ‖x_i‖) and no network bound; integer activations need a domain for their scales.
public enum QuantAnalysis {
    /// One quantizable layer: where its weight and data operands sit and its schemes.
    public struct Target: Sendable {
        public var layer: WeightLayer
        public var weightInput: Int
        public var dataInput: Int
        public var axis: Int
        public var weights: WeightScheme
        public var activations: ActivationScheme
        /// Q(W) (float32 values, the weight's dims), computed on first use and kept: the static
        /// analysis keeps only ΔW and never asks; the fake-quantized graphs of a measurement
        /// (``QuantSimulation``: all layers, each layer alone, the plan's steps, κ) all read it.
        public var quantized: [Float] {
            cache.values(weight: layer.weight, scheme: weights, axis: axis)
        }
        /// Shared by copies of the target; keyed by weight, scheme and axis, so a copy whose
        /// scheme was changed (the plan's exclusions) never reads another scheme's values.
        let cache = QuantizedWeights()
        /// The activation grid (integer schemes), from the input's range.
        public var grid: IntegerGrid?
    }

    /// The Q(W) of one target, computed once per (weight, scheme, axis) and kept.
    final class QuantizedWeights: @unchecked Sendable {
        private let lock = NSLock()
        private var kept: (key: String, scheme: WeightScheme, axis: Int, values: [Float])?

        func values(weight: Tensor, scheme: WeightScheme, axis: Int) -> [Float] {
            lock.lock(); defer { lock.unlock() }
            if let k = kept, k.key == weight.name, k.scheme == scheme, k.axis == axis { return k.values }
            let values = weight.withFloats { w in
                var out = [Float](repeating: 0, count: w.count)
                out.withUnsafeMutableBufferPointer { o in
                    _ = WeightQuantizer.quantize(w, dims: weight.dims, scheme: scheme, axis: axis, into: o, codes: nil)
                }
                return out
            }
            kept = (weight.name, scheme, axis, values)
            return values
        }
    }

    public struct Layer: Sendable {
        public var node: String
        public var op: String
        public var weight: String
        public var shape: [Int]
        public var weights: WeightScheme
        public var activations: ActivationScheme
        public var frobenius: Double
        public var deltaFrobenius: Double
        /// σ_matrix(ΔW) (Lanczos/LAPACK) and the operator bound of ΔW on the layer's geometry.
        public var deltaSigma: Double
        public var deltaOperator: Double
        /// Lanczos iterations of σ_matrix(ΔW) (0: LAPACK).
        public var deltaIterations: Int
        public var maxAbsError: Double
        /// 20·log10(‖W‖_F / ‖ΔW‖_F); +∞ when ΔW = 0.
        public var sqnr: Double
        public var channelSpread: Double?
        /// σ_op upper bound of W.
        public var sigma: Double
        /// sup‖x_i‖ over the domain (nil without one).
        public var inputSupNorm: Double?
        /// e_i, the ℓ2 rounding error of the input (nil: unknown without a domain).
        public var activationError: Double?
        public var activationStep: Double?
        /// h_i: gain from the layer's output to the analysed output, with perturbed gains.
        public var gainToOutput: Double
        /// h_i·σ_ΔW: output error per unit of ‖x_i‖ (known without a domain).
        public var weightTermPerUnit: Double
        public var weightTerm: Double?
        public var activationTerm: Double?
        public var term: Double? { weightTerm.flatMap { w in activationTerm.map { w + $0 } } }
        public var share: Double?
    }

    public struct Result: Sendable {
        public var output: String
        public var settings: QuantSettings
        public var layers: [Layer]
        public var targets: [Target]
        /// Σ h_i s_i: the sound bound on ‖f_Q(x) − f(x)‖₂ over the domain; nil without a domain.
        public var bound: Double?
        /// sup‖y‖ of the float output over the domain (for a relative reading of the bound).
        public var outputSupNorm: Double?
        public var norm: NormMode
        public var notes: [String]
        public var findings: [Finding]
    }

    /// The quantizable weight layers of `plan`: Conv/ConvTranspose/Gemm/MatMul of the default
    /// domain with a constant float weight viewed as a matrix.
    public static func candidates(_ plan: SensitivityAnalysis.Plan) -> [(WeightLayer, Int, Int, Int)] {
        var out: [(WeightLayer, Int, Int, Int)] = []
        for l in plan.weightLayers where ["Conv", "ConvTranspose", "Gemm", "MatMul"].contains(l.op) {
            guard case .matrix = l.view, l.weight.dataType == .float else { continue }
            let n = plan.context.graph.graph.nodes[l.nodeIndex]
            guard n.domain.isEmpty || n.domain == "ai.onnx" else { continue }
            guard let data = n.inputs.firstIndex(of: l.input) else { continue }
            let w = (0..<min(2, n.inputs.count)).first { $0 != data && plan.context.constant(n.inputs[$0]) != nil }
            guard let w else { continue }
            let axis = WeightQuantizer.outputAxis(op: l.op, weightIsSecond: w == 1, rank: l.weight.dims.count,
                                                  transA: (n.int("transA") ?? 0) != 0, transB: (n.int("transB") ?? 0) != 0)
            out.append((l, w, data, axis))
        }
        return out
    }

    /// The static analysis. `bounds`: the float network's interval bounds on the domain
    /// (``IntervalEvaluator``), nil without one. `wNorms`: precomputed norms of every weight
    /// layer of the plan (reused across the plan search), nil to compute them.
    public static func run(_ graph: ModelGraph, settings: QuantSettings, output: String? = nil, perturb: [String]? = nil,
                           bounds: [String: TensorBounds]?, norm: NormMode = .matrix, spectral: SpectralOptions = .init(),
                           threads: Int = ProcessInfo.processInfo.activeProcessorCount,
                           wNorms: [WeightNorms]? = nil, ranges: [String: ClosedRange<Float>]? = nil) throws(QuantError) -> Result {
        let plan: SensitivityAnalysis.Plan
        do { plan = try SensitivityAnalysis.plan(graph, options: AnalysisOptions(norm: norm, output: output, perturb: perturb)) } catch {
            throw .analysis(error.localizedDescription)
        }
        let path = graph.path
        let cands = candidates(plan)
        guard !cands.isEmpty else { throw .noLayers(path: path) }
        let names = Set(cands.map(\.0.node))
        for n in settings.overrides.keys.sorted() where !names.contains(n) { throw .unknownNode(path: path, node: n) }
        let layers = plan.weightLayers

        // Q(W), ΔW and its norms per candidate.
        var targets: [Target] = []
        var deltaLayers: [WeightLayer] = []
        var stats: [(frob: Double, dfrob: Double, maxAbs: Double, spread: Double?)] = []
        let errors = quantizationErrors(cands.map { ($0.0, settings.weights(for: $0.0.node), $0.3) }, threads: threads)
        for (k, (l, w, d, axis)) in cands.enumerated() {
            let ws = settings.weights(for: l.node), acts = settings.activations(for: l.node)
            let e = errors[k]
            var dl = l
            dl.weight = e.delta
            deltaLayers.append(dl)
            stats.append((e.summary.frobenius, e.summary.deltaFrobenius, e.summary.maxAbsError, e.summary.spread))
            var grid: IntegerGrid?
            if case let .int(signed) = acts {
                let (qmin, qmax) = signed ? (-128, 127) : (0, 255)
                if let r = ranges?[l.input] {
                    grid = IntegerGrid(lo: Double(r.lowerBound), hi: Double(r.upperBound), qmin: qmin, qmax: qmax, symmetric: false)
                } else {
                    guard let b = bounds?[l.input], b.isFinite else { throw .needsDomain(path: path, node: l.node, scheme: acts.description) }
                    grid = IntegerGrid(lo: Double(b.lo.min() ?? 0), hi: Double(b.hi.max() ?? 0), qmin: qmin, qmax: qmax, symmetric: false)
                }
            }
            targets.append(Target(layer: l, weightInput: w, dataInput: d, axis: axis, weights: ws, activations: acts, grid: grid))
        }
        // One pool for the norms of every W and every ΔW (largest first across both sets).
        let norms: [WeightNorms], deltaNorms: [WeightNorms]
        if let wNorms {
            norms = wNorms
            deltaNorms = WeightLayers.computeNorms(deltaLayers, mode: norm, options: spectral, threads: threads)
        } else {
            let both = WeightLayers.computeNorms(layers + deltaLayers, mode: norm, options: spectral, threads: threads)
            norms = Array(both[..<layers.count])
            deltaNorms = Array(both[layers.count...])
        }

        // Perturbed rules: (σ_W + σ_ΔW)(1 + u) at every quantized layer.
        var rules = SensitivityAnalysis.rules(plan, norms: norms)
        var normOf: [Int: WeightNorms] = [:]
        for (p, r) in zip(layers, norms) { normOf[p.nodeIndex] = r }
        var rows: [Layer] = []
        var sources: [(tensor: String, s: Double?, perUnit: Double)] = []
        for (k, t) in targets.enumerated() {
            let l = t.layer
            let sw = (normOf[l.nodeIndex]?.sigmaOpUpper ?? .infinity) * l.scale
            let sd = (deltaNorms[k].sigmaOpUpper ?? .infinity) * l.scale
            let (u, e, step) = roundingError(t, bounds: bounds?[l.input])
            let g = (sw + sd) * (1 + u)
            if var rule = rules[l.nodeIndex], !rule.terms.isEmpty, rule.terms[0].input == l.input {
                rule.terms[0].gain = ModePair(g)
                rules[l.nodeIndex] = rule
            }
            let sup = bounds?[l.input].flatMap { $0.isFinite ? $0.supNorm : nil }
            let s: Double? = sup.flatMap { x in e.map { sd * x + (sw + sd) * $0 } }
            sources.append((l.weight.name, s, sd))
            let st = stats[k]
            rows.append(Layer(node: l.node, op: l.op, weight: l.weight.name, shape: l.weight.dims, weights: t.weights, activations: t.activations,
                              frobenius: st.frob, deltaFrobenius: st.dfrob, deltaSigma: deltaNorms[k].sigmaMatrix ?? .nan, deltaOperator: sd, deltaIterations: deltaNorms[k].matrixEstimate?.iterations ?? 0,
                              maxAbsError: st.maxAbs, sqnr: st.dfrob > 0 ? 20 * log10(st.frob / st.dfrob) : .infinity,
                              channelSpread: st.spread, sigma: sw, inputSupNorm: sup, activationError: e, activationStep: step,
                              gainToOutput: 0, weightTermPerUnit: 0, weightTerm: sup.map { sd * $0 },
                              activationTerm: e.map { (sw + sd) * $0 }, share: nil))
        }
        let y = plan.output.tensor
        let gains = SensitivityAnalysis.propagate(graph, rules: rules, entries: plan.context.dependence.entries.map(\.tensor), output: y)
        var total: Double? = 0
        for (k, t) in targets.enumerated() {
            let out = graph.graph.nodes[t.layer.nodeIndex].outputs.first ?? ""
            let h = gains.backward[out]?.operator ?? 0
            rows[k].gainToOutput = h
            rows[k].weightTermPerUnit = h * sources[k].perUnit
            rows[k].weightTerm = rows[k].weightTerm.map { h == 0 ? 0 : h * $0 }
            rows[k].activationTerm = rows[k].activationTerm.map { h == 0 ? 0 : h * $0 }
            if let term = rows[k].term { total = total.map { $0 + term } } else { total = nil }
        }
        if let total, total > 0 { for k in rows.indices { rows[k].share = rows[k].term.map { $0 / total } } }
        var notes: [String] = []
        var findings: [Finding] = []
        if bounds == nil {
            notes.append("no input domain: the output-error bound needs sup‖x‖ of every layer input; declare one with --input-range NAME=LO,HI (the table gives each layer's error per unit of its input norm)")
        }
        let unbounded = plan.nodes.filter { p in rules[p.index].map { $0.status != .ok } ?? false }
        for p in unbounded {
            findings.append(Finding(.unboundedOp, "node '\(p.node.name)' (\(p.node.opType)) has no global Lipschitz bound: \(rules[p.index]?.reason ?? ""); the quantization error bound through it is unbounded (domain rules are not used: the quantized activations may leave the float network's intervals)", node: p.node.name))
        }
        let outSup = bounds?[y].flatMap { $0.isFinite ? $0.supNorm : nil }
        return Result(output: y, settings: settings, layers: rows, targets: targets, bound: total, outputSupNorm: outSup, norm: norm,
                      notes: notes, findings: findings)
    }

    /// ΔW = Q(W) − W of every (layer, scheme, axis) as a float32 tensor named `<weight>.delta`,
    /// with its ``WeightQuantizer/ErrorSummary``: read from the weights' memory (no copy of W,
    /// no kept Q(W)), each layer in blocks on `threads` workers (the passes are memory bound).
    static func quantizationErrors(_ jobs: [(WeightLayer, WeightScheme, Int)], threads: Int)
        -> [(delta: Tensor, summary: WeightQuantizer.ErrorSummary)] {
        jobs.map { l, scheme, axis in
            let count = l.weight.count, bytes = count * MemoryLayout<Float>.stride
            let buffer = OwnedBuffer(byteCount: bytes, zeroed: false)
            let delta = buffer.raw.bindMemory(to: Float.self)
            let summary = l.weight.withFloats { values in
                WeightQuantizer.error(values, dims: l.weight.dims, scheme: scheme, axis: axis, into: delta, workers: threads)
            }
            let tensor = Tensor(name: l.weight.name + ".delta", dataType: .float, dims: l.weight.dims, storage: .folded,
                                bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buffer.raw)[0..<bytes]), owner: buffer)
            return (tensor, summary)
        }
    }

    /// (u, e, step) of the rounding of layer t's input (step 1 of the bound): e = nil when it
    /// needs a domain that is not given.
    static func roundingError(_ t: Target, bounds b: TensorBounds?) -> (Double, Double?, Double?) {
        let n = Double(b?.count ?? t.layer.weight.count)
        let slackUnit = 0x1p-22
        switch t.activations {
        case .float32:
            return (0, 0, nil)
        case .int:
            guard let g = t.grid, let b, b.isFinite else { return (0, nil, nil) }
            let s = Double(g.scale), m = b.maxMagnitude
            // Clipping: the float value's distance to the grid's range [a, b] (calibrated ranges
            // need not cover the domain's intervals): |R(x̃) − x| ≤ s/2 + |x̃ − x| + dist(x, [a, b]).
            let (a, top) = g.range
            var clip = 0.0
            for i in 0..<b.count {
                let d = max(0, Double(b.hi[i]) - top, a - Double(b.lo[i]))
                clip += d * d
            }
            return (0, (s / 2 * (1 + 0x1p-14) + slackUnit * (m + s)) * n.squareRoot() + clip.squareRoot(), s)
        case let .float(f):
            guard let b, b.isFinite else { return (f.unitRoundoff, nil, nil) }
            let m = b.maxMagnitude, u = f.unitRoundoff
            let over = max(0, m - f.maxFinite)
            let e = u * b.supNorm + (f.subnormalHalfStep + over + slackUnit * m) * n.squareRoot()
            return (u, e, nil)
        }
    }
}
