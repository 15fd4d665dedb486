import Dispatch
import Foundation
import Linalg
import ONNX

/// The Eq. 7 bound before and after each tightening of DESIGN.md §1.9.
public struct RescalingResult: Sendable {
    /// BatchNormalization and constant Mul/Div folded into the adjacent linear layer: each
    /// diagonal layer's scale moved (as a positive D) onto the layer that produces its input
    /// (σ(diag|s|·W) instead of max|s|·σ(W)), or through a ReLU/pool into the next one when no
    /// layer produces it; the sign stays on the diagonal (gain 1).
    public var folded: ModePair
    /// The best positive diagonal rescaling found (never above `folded` nor the plain bound).
    public var rescaled: ModePair
    /// Per weight layer (plan order), its Lipschitz constant at the folded and the best point.
    public var foldedLayers: [ModePair]
    public var rescaledLayers: [ModePair]
    /// Free scaling groups (channels tied by equalities count once), diagonal channels folded,
    /// evaluations of the bound during the search.
    public var freeScalings: Int
    public var foldedChannels: Int
    public var evaluations: Int
    /// Which point gave `rescaled`: "original", "folded", "equalised" or "descent".
    public var best: String
}

/// Chooses positive diagonal scalings D (``ChannelScaling``) to tighten Eq. 7.
///
/// Soundness: for every D the rescaled network is the same function (``ChannelScaling``), and
/// the gains given to its nodes are Lipschitz constants of the rescaled nodes: σ(D_out·W·D_in⁻¹)
/// (for a convolution, √c·σ_matrix of the scaled kernel, or its operator norm, by the same
/// ``WeightLayer/computeNorms`` as unscaled layers), max_c |d_out,c·s_c/d_in,c| for a diagonal
/// layer, and the unchanged rule of every node that commutes with D. So the reported bound of
/// any D, in particular the best, is a valid Eq. 7 bound of the original network — the
/// optimisation only has to find a good D, never to be exact.
///
/// Search: (1) the folded point: every diagonal layer's out-channel tied to its in-channel with
/// log d_out = log d_in − log|s| (its gain becomes 1), the tie group's value fixed so the last
/// diagonal output has d = 1; (2) equalisation as data-free quantization does: a few Jacobi
/// sweeps setting each free channel's d so that the largest |entry| of the rows it scales up
/// equals that of the columns it scales down; (3) from the better of the two, descent on the
/// log of a smoothed bound — every layer's σ replaced by (Σ σᵢ²⁴)^(1/24) over the top three
/// singular values of each block (a kink-free upper envelope of σ), the same for the diagonal
/// layers' max — with the gradient from the singular pairs: ∂log σᵢ/∂log d = u_r² on the
/// output rows, −Σ v_c² on the input columns, weighted by each layer's share
/// γ·g(in)·h(out)/g(y) of the DAG bound (1 for every layer of a chain), each channel's step
/// divided by the root mean square of its recent gradients; the step grows by 1.2 on success
/// and halves on failure (after one re-estimate of the current point), at most
/// ``AnalysisOptions/rescaleEvaluations`` evaluations. The best true (unsmoothed) bound seen is
/// kept. The norms while searching come from warm-started float32 subspace iterations; the
/// folded and the best point are re-normed by the reporting path, and the result is the least
/// of the plain, folded and best bounds.
enum Rescaling {
    static func run(_ graph: ModelGraph, plan: SensitivityAnalysis.Plan, rules base: [Int: NodeRule], norms: [WeightNorms],
                    original: ModePair, options: AnalysisOptions) -> RescalingResult? {
        let layers = plan.weightLayers
        var scaling = ChannelScaling(plan: plan)
        let roots = scaling.variables.freeRoots()
        guard !scaling.matrices.isEmpty || !scaling.diagonals.isEmpty else { return nil }
        let entries = plan.context.dependence.entries.map(\.tensor)
        let y = plan.output.tensor
        let nodeOfLayer = plan.nodes.compactMap { p -> (Int, WeightLayer)? in
            if case let .weight(l) = p.role { return (p.index, l) } else { return nil }
        }
        let states = scaling.matrices.map { ScaledMatrixState($0, weight: layers[$0.layer].weight) }
        let rootIndex = Dictionary(uniqueKeysWithValues: roots.enumerated().map { ($1, $0) })
        var vars = scaling.variables
        let rootOf = (0..<vars.count).map { vars.find($0).root }

        // Fold point: each tie group's value makes its last diagonal output d = 1.
        var foldRoots: [Int: Double] = [:]
        for v in scaling.foldReferences {
            let (r, o) = vars.find(v)
            if r != ScalingVariables.one, foldRoots[r] == nil { foldRoots[r] = -o }
        }
        func ld(_ x: [Double]) -> [Double] {
            var rv: [Int: Double] = [:]
            for (i, r) in roots.enumerated() { rv[r] = x[i] }
            return vars.values(roots: rv)
        }
        let x0 = roots.map { foldRoots[$0] ?? 0 }

        // Gains of every scaled node at a point (from the subspace iterations): the true ones
        // (max over singular values and blocks) and smoothed ones, S = (Σ σᵢᵖ)^(1/p) over the
        // top singular values of every block (≥ σ, ≤ (#values)^(1/p)·σ), whose gradient does not
        // jump where the top singular value is multiple — the optimum of a balancing usually is.
        let p = 24.0
        struct Point { var x: [Double]; var bound: Double; var smooth: Double; var gains: SensitivityAnalysis.Gains; var rules: [Int: NodeRule] }
        func gainFactor(_ l: WeightLayer) -> Double {
            l.scale * (l.overlap.map { Double($0).squareRoot() } ?? 1)
        }
        func softmax(_ values: [Double]) -> (max: Double, smooth: Double, weights: [Double]) {
            let top = values.max() ?? 0
            guard top > 0, top.isFinite else { return (top, top, values.map { _ in 0 }) }
            let e = values.map { Foundation.pow($0 / top, p) }
            let sum = e.reduce(0, +)
            return (top, top * Foundation.pow(sum, 1 / p), e.map { $0 / sum })
        }
        func diagonalGains(_ dg: ChannelScaling.ScaledDiagonal, _ d: [Double]) -> [Double] {
            dg.s.indices.map { abs(dg.s[$0]) * Foundation.exp(d[dg.outVars[$0]] - d[dg.inVars[$0]]) }
        }
        func evaluate(_ x: [Double], iterations: Int, tolerance: Double = 1e-5) -> Point {
            let d = ld(x)
            BLAS.withSingleThread {
                DispatchQueue.concurrentPerform(iterations: states.count) { i in
                    states[i].power(ld: d, iterations: iterations, tolerance: tolerance)
                }
            }
            var trueRules = base, smoothRules = base
            for s in states {
                let (idx, l) = nodeOfLayer[s.m.layer]
                let sm = softmax(s.sigmas.flatMap { $0 })
                trueRules[idx] = NodeRule(terms: [.init(l.input, ModePair(gainFactor(l) * sm.max))])
                smoothRules[idx] = NodeRule(terms: [.init(l.input, ModePair(gainFactor(l) * sm.smooth))])
            }
            for dg in scaling.diagonals {
                let (idx, l) = nodeOfLayer[dg.layer]
                let sm = softmax(diagonalGains(dg, d))
                trueRules[idx] = NodeRule(terms: [.init(l.input, ModePair(sm.max))])
                smoothRules[idx] = NodeRule(terms: [.init(l.input, ModePair(sm.smooth))])
            }
            let bound = SensitivityAnalysis.propagate(graph, rules: trueRules, entries: entries, output: y).forward[y]?.operator ?? .infinity
            let gains = SensitivityAnalysis.propagate(graph, rules: smoothRules, entries: entries, output: y)
            return Point(x: x, bound: bound, smooth: gains.forward[y]?.operator ?? .infinity, gains: gains, rules: smoothRules)
        }
        /// ∂ log(smoothed bound) / ∂ x (the free roots' log d), at the point just evaluated.
        func gradient(_ pt: Point) -> [Double] {
            var grad = [Double](repeating: 0, count: roots.count)
            let gy = pt.smooth
            guard gy.isFinite, gy > 0 else { return grad }
            func add(_ v: Int, _ amount: Double) { if let i = rootIndex[rootOf[v]] { grad[i] += amount } }
            func weight(_ layer: Int) -> Double {
                let (idx, l) = nodeOfLayer[layer]
                let out = graph.graph.nodes[idx].outputs.first ?? ""
                let gamma = pt.rules[idx]?.terms.first?.gain.operator ?? 0
                let w = gamma * (pt.gains.forward[l.input]?.operator ?? 0) * (pt.gains.backward[out]?.operator ?? 0) / gy
                return w.isFinite ? w : 0
            }
            for s in states where s.sigma > 0 {
                let w = weight(s.m.layer)
                guard w > 0 else { continue }
                let k = s.sigmas.first?.count ?? 0
                let omega = softmax(s.sigmas.flatMap { $0 }).weights
                for b in 0..<s.m.blocks {
                    for j in 0..<k where omega[b * k + j] > 1e-12 {
                        let wj = w * omega[b * k + j]
                        let u = s.us[b], v = s.v[b]
                        for r in 0..<s.m.rows { add(s.m.rowVars[b * s.m.rows + r], wj * s.m.rowSign * Double(u[r * k + j] * u[r * k + j])) }
                        for c in 0..<s.m.cols { add(s.m.colVars[b * s.m.cols + c], wj * s.m.colSign * Double(v[c * k + j] * v[c * k + j])) }
                    }
                }
            }
            let d = ld(pt.x)
            for dg in scaling.diagonals {
                let w = weight(dg.layer)
                guard w > 0 else { continue }
                let omega = softmax(diagonalGains(dg, d)).weights
                for c in dg.s.indices where omega[c] > 1e-12 {
                    add(dg.outVars[c], w * omega[c])
                    add(dg.inVars[c], -w * omega[c])
                }
            }
            return grad
        }

        var evaluations = 0
        let folded = evaluate(x0, iterations: 4 * options.rescaleIterations, tolerance: 1e-6)
        evaluations += 1
        // Equalisation sweeps from the fold point.
        var xe = x0
        for _ in 0..<6 where !roots.isEmpty {
            let d = ld(xe)
            var plus = [Double](repeating: 0, count: roots.count), minus = plus
            for s in states {
                let (rm, cm) = s.ranges(ld: d)
                for (k, v) in s.m.rowVars.enumerated() {
                    guard let i = rootIndex[rootOf[v]] else { continue }
                    if s.m.rowSign > 0 { plus[i] = max(plus[i], rm[k]) } else { minus[i] = max(minus[i], rm[k]) }
                }
                for (k, v) in s.m.colVars.enumerated() {
                    guard let i = rootIndex[rootOf[v]] else { continue }
                    if s.m.colSign > 0 { plus[i] = max(plus[i], cm[k]) } else { minus[i] = max(minus[i], cm[k]) }
                }
            }
            for i in roots.indices where plus[i] > 0 && minus[i] > 0 && plus[i].isFinite && minus[i].isFinite {
                xe[i] += 0.5 * Foundation.log(minus[i] / plus[i])
            }
        }
        let equalised = evaluate(xe, iterations: 4 * options.rescaleIterations, tolerance: 1e-6)
        evaluations += 1
        var current = equalised.smooth < folded.smooth ? equalised : folded
        var best = equalised.bound < folded.bound ? equalised : folded
        var bestName = equalised.bound < folded.bound ? "equalised" : "folded"
        // Descent on the smoothed bound; the best true bound seen is kept.
        var step = 0.5
        var refreshed = false
        var grad = gradient(current)
        // Per-coordinate step sizes (as RMSprop/Adam): a running mean of the squared gradient
        // at the accepted points scales each channel's move, so channels with small but steady
        // gradients move as far as the dominant ones.
        var second = grad.map { $0 * $0 }
        while evaluations < options.rescaleEvaluations, !roots.isEmpty, step > 1e-3 {
            let norm = grad.reduce(0) { max($0, abs($1)) }
            guard norm > 1e-9 else { break }
            let scale = second.reduce(0) { max($0, $1) }.squareRoot()
            let trial = current.x.indices.map { i in current.x[i] - step * grad[i] / (second[i].squareRoot() + 1e-3 * scale + 1e-300) }
            let pt = evaluate(trial, iterations: options.rescaleIterations)
            evaluations += 1
            if pt.bound < best.bound * (1 - 1e-9) { best = pt; bestName = "descent" }
            if pt.smooth < current.smooth * (1 - 1e-9) {
                current = pt
                grad = gradient(current)
                for i in second.indices { second[i] = 0.8 * second[i] + 0.2 * grad[i] * grad[i] }
                step *= 1.2
                refreshed = false
            } else if step < 0.1, !refreshed, evaluations < options.rescaleEvaluations {
                // The iterations' values are lower estimates that grow with the iterations
                // spent: re-estimate the current point from the latest vectors before shrinking
                // further, so that steps are not refused against a stale, too low value.
                current = evaluate(current.x, iterations: options.rescaleIterations)
                evaluations += 1
                if current.bound < best.bound * (1 - 1e-9) { best = current }
                grad = gradient(current)
                refreshed = true
            } else {
                step *= 0.5
            }
        }

        // Exact norms at the kept points, by the reporting path.
        func exact(_ x: [Double]) -> (ModePair, [ModePair]) {
            let d = ld(x)
            var scaledLayers: [WeightLayer] = []
            var which: [Int] = []
            for s in states where !s.isIdentity(d) {
                var l = layers[s.m.layer]
                l.weight = s.materialise(ld: d, like: l.weight)
                scaledLayers.append(l)
                which.append(s.m.layer)
            }
            var layerNorms = norms
            let computed = WeightLayers.computeNorms(scaledLayers, mode: options.norm, options: options.spectral, threads: options.threads)
            for (k, i) in which.enumerated() { layerNorms[i] = computed[k] }
            var rules = SensitivityAnalysis.rules(plan, norms: layerNorms)
            for dg in scaling.diagonals {
                let (idx, l) = nodeOfLayer[dg.layer]
                let g = dg.s.indices.reduce(0.0) { max($0, abs(dg.s[$1]) * Foundation.exp(d[dg.outVars[$1]] - d[dg.inVars[$1]])) }
                rules[idx] = NodeRule(terms: [.init(l.input, ModePair(g))])
            }
            let gains = SensitivityAnalysis.propagate(graph, rules: rules, entries: entries, output: y)
            let perLayer = nodeOfLayer.map { rules[$0.0]?.lipschitz ?? .unbounded }
            return (gains.forward[y] ?? .unbounded, perLayer)
        }
        let (foldedBound, foldedLayers) = exact(x0)
        var (rescaledBound, rescaledLayers) = bestName == "folded" ? (foldedBound, foldedLayers) : exact(best.x)
        if foldedBound.operator < rescaledBound.operator { (rescaledBound, rescaledLayers, bestName) = (foldedBound, foldedLayers, "folded") }
        if original.operator <= rescaledBound.operator {
            rescaledBound = original
            rescaledLayers = nodeOfLayer.map { base[$0.0]?.lipschitz ?? .unbounded }
            bestName = "original"
        }
        return RescalingResult(folded: foldedBound, rescaled: rescaledBound, foldedLayers: foldedLayers, rescaledLayers: rescaledLayers,
                               freeScalings: roots.count, foldedChannels: scaling.tiesMade, evaluations: evaluations, best: bestName)
    }
}
