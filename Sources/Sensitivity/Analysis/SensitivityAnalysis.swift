import Foundation
import Linalg
import ONNX

/// DESIGN.md §1: per-layer norms, the Lipschitz table, Eq. 7 and Eq. 8 on the DAG — in named
/// stages, each with one typed result:
/// 1. ``classify(_:output:)``: every node that depends on the perturbation and feeds the
///    analysed output becomes a weight layer or gets its Lipschitz-table rule;
/// 2. norms of the weight layers (in parallel, ``WeightLayers/computeNorms``);
/// 3. ``rules(_:norms:)``: weight layers' rules from their norms;
/// 4. ``propagate(_:rules:entries:output:)``: g (Eq. 7, forward) and h (Eq. 8, backward);
/// 5. ``table(_:rules:gains:)``: one ``NodeAnalysis`` per reported node; findings come from
///    ``Findings``, in one place.
///
/// Gains are propagated in Double: a product of 40 layer norms of ~10 each is 1e40, far below
/// Double's 1.8e308, so no log domain is needed; an overflow or an unbounded node gives +∞,
/// reported as JSON null plus a finding.
public enum SensitivityAnalysis {
    /// A live node and what it is, from stage 1.
    public struct PlannedNode: Sendable {
        public enum Role: Sendable {
            case weight(WeightLayer)
            case rule(NodeRule)
        }
        public var index: Int
        public var node: Node
        public var role: Role
    }

    /// Stage 1's result: the live nodes in topological order and the analysis context.
    public struct Plan: Sendable {
        public var context: GraphContext
        public var output: AnalysedOutput
        public var nodes: [PlannedNode]
        public var weightLayers: [WeightLayer] {
            nodes.compactMap { if case let .weight(l) = $0.role { return l } else { return nil } }
        }
    }

    /// Gains of stage 4.
    public struct Gains: Sendable {
        public var forward: [String: ModePair]
        public var backward: [String: ModePair]
    }

    /// Stages 0–1: where the perturbation enters, the analysed output, and the classified nodes.
    /// Cheap (no norms): `validate` and `check` run it first to refuse a model early.
    public static func plan(_ graph: ModelGraph, options: AnalysisOptions = .init()) throws(SensitivityError) -> Plan {
        let dependence = try Dependence(graph, perturb: options.perturb)
        guard !dependence.entries.isEmpty else { throw .noPerturbation(path: graph.path) }
        let ctx = GraphContext(graph, dependence: dependence, bounds: options.bounds)
        let y = try AnalysedOutput.select(graph, dependence: dependence, requested: options.output)
        return Plan(context: ctx, output: y, nodes: classify(ctx, output: y.tensor))
    }

    public static func run(_ graph: ModelGraph, options: AnalysisOptions = .init(),
                           progress: (@Sendable (Int, Int, String) -> Void)? = nil) throws(SensitivityError) -> AnalysisResult {
        let plan = try plan(graph, options: options)
        let layers = plan.weightLayers
        let norms = WeightLayers.computeNorms(layers, mode: options.norm, options: options.spectral,
                                              threads: options.threads, progress: progress)
        let rules = rules(plan, norms: norms)
        let y = plan.output.tensor
        let gains = propagate(graph, rules: rules, entries: plan.context.dependence.entries.map(\.tensor), output: y)
        let (points, eq8) = roundingPoints(plan, gains: gains)
        var network = NetworkResult(output: plan.output, entries: plan.context.dependence.entries,
                                    eq7: gains.forward[y] ?? .zero, eq8: eq8, roundingPoints: points.count)
        let rescale = options.rescale ?? (layers.reduce(0) { $0 + $1.weight.count } <= AnalysisOptions.autoRescaleLimit)
        if rescale, network.eq7.isFinite, network.eq7.operator > 0 {
            network.tightening = Rescaling.run(graph, plan: plan, rules: rules, norms: norms, original: network.eq7, options: options)
        }
        let nodes = table(plan, rules: rules, gains: gains, norms: norms, eq7: network.eq7, tightening: network.tightening)
        return AnalysisResult(norm: options.norm, nodes: nodes, network: network,
                              findings: Findings.analysis(nodes: nodes, network: network, domainDeclared: options.bounds != nil),
                              notes: [plan.output.note].compactMap { $0 })
    }

    // MARK: Stage 1

    /// The nodes that depend on the perturbation and lie upstream of `output` along the rules'
    /// terms, each a weight layer or a Lipschitz-table rule. The walk goes back from the output
    /// through the inputs each node's rule actually uses, so nodes a pattern rule absorbs (the
    /// squares under a √(a² + b²), the mean and variance of a written-out LayerNorm) are not
    /// analysed on their own. Input-independent nodes are not analysed either (gain 0).
    static func classify(_ ctx: GraphContext, output: String) -> [PlannedNode] {
        let graph = ctx.graph
        let nodes = graph.graph.nodes
        let entries = Set(ctx.dependence.entries.map(\.tensor))
        var planned: [Int: PlannedNode] = [:]
        var stack = [output]
        var seen = Set<String>()
        while let t = stack.popLast() {
            guard seen.insert(t).inserted, !entries.contains(t), ctx.isVariable(t), let idx = graph.producer[t], planned[idx] == nil else { continue }
            let n = nodes[idx]
            guard !ctx.variableInputs(n).isEmpty else { continue }
            let p: PlannedNode
            if let l = WeightLayers.layer(n, index: idx, ctx: ctx) {
                p = PlannedNode(index: idx, node: n, role: .weight(l))
                stack.append(l.input)
                stack.append(contentsOf: l.extraTerms.map(\.input))
            } else {
                let rule = LipschitzTable.rule(for: n, in: ctx)
                p = PlannedNode(index: idx, node: n, role: .rule(rule))
                stack.append(contentsOf: rule.terms.map(\.input) + (rule.outputTerms ?? []).flatMap { $0.map(\.input) })
            }
            planned[idx] = p
        }
        return graph.order.compactMap { planned[$0] }
    }

    // MARK: Stage 3

    /// Every planned node's rule; weight layers get g(out) = scale·σ·g(x) (+ extra terms).
    static func rules(_ plan: Plan, norms: [WeightNorms]) -> [Int: NodeRule] {
        var rules: [Int: NodeRule] = [:]
        var w = 0
        for p in plan.nodes {
            switch p.role {
            case let .rule(r):
                rules[p.index] = r
            case let .weight(l):
                let r = norms[w]
                w += 1
                if let s = r.sigmaMatrix, let u = r.sigmaOpUpper, r.failure == nil {
                    var rule = NodeRule(terms: [.init(l.input, ModePair(matrix: l.scale * s, operator: l.scale * u))] + l.extraTerms)
                    if l.extraTerms.contains(where: { !$0.gain.isFinite }) {
                        rule.status = .unbounded
                        rule.reason = "the variable operand '\(l.extraTerms[0].input)' is broadcast by a factor that is not known (unknown shapes; fix them with --input-shape)"
                    }
                    rules[p.index] = rule
                } else {
                    rules[p.index] = .unbounded([l.input] + l.extraTerms.map(\.input), r.failure ?? "no norm could be computed")
                }
            }
        }
        return rules
    }

    // MARK: Stage 4

    /// g(t) for every tensor (forward, Eq. 7; g = 1 at the entries) and h(t) (backward, Eq. 8)
    /// with h(y) = 1.
    public static func propagate(_ graph: ModelGraph, rules: [Int: NodeRule], entries: [String], output y: String) -> Gains {
        var g: [String: ModePair] = [:]
        for e in entries { g[e] = .one }
        let nodes = graph.graph.nodes
        let entrySet = Set(entries)
        for idx in graph.order {
            guard let rule = rules[idx] else { continue }
            for (k, o) in nodes[idx].outputs.enumerated() where !o.isEmpty && graph.constants[o] == nil && !entrySet.contains(o) {
                var acc = ModePair.zero
                for t in rule.terms(forOutput: k) {
                    let v = t.gain * (g[t.input] ?? .zero)
                    switch rule.combine {
                    case .sum: acc = acc + v
                    case .rootSumSquare: acc = acc + v * v
                    case .max: acc = ModePair.max(acc, v)
                    }
                }
                if rule.combine == .rootSumSquare { acc = acc.map { $0.squareRoot() } }
                g[o] = acc
            }
        }
        var h: [String: ModePair] = [y: .one]
        for idx in graph.order.reversed() {
            guard let rule = rules[idx] else { continue }
            for (k, o) in nodes[idx].outputs.enumerated() where !o.isEmpty {
                guard let hOut = h[o], hOut != .zero else { continue }
                for t in rule.terms(forOutput: k) { h[t.input] = (h[t.input] ?? .zero) + t.gain * hOut }
            }
        }
        return Gains(forward: g, backward: h)
    }

    /// Eq. 8's rounding points (DESIGN.md §1.4): the inputs of weight layers, and every
    /// activation quantizer (``QuantizedRounding``: the output of a QuantizeLinear→DequantizeLinear
    /// pair, of a QuantizeLinear feeding integer ops, of every re-quantizing QLinear op), with
    /// E = Σ h(r)·u_r (u_r = 1 on real tensors, 1/scale on integer ones: real units throughout).
    static func roundingPoints(_ plan: Plan, gains: Gains) -> (Set<String>, ModePair) {
        var points = Set<String>()
        for p in plan.nodes {
            let ctx = plan.context
            if case let .weight(l) = p.role { points.insert(l.input) }
            points.formUnion(QuantizedRounding.points(of: p.node, ctx))
            if case let .rule(r) = p.role {
                let n = p.node
                if RecurrentNode.Op(rawValue: n.opType) != nil || (n.domain == "com.microsoft" && n.opType == "DynamicQuantizeLSTM") { points.formUnion(ctx.variableInputs(n)) }  // X, h0, c0 meet W, R
                // The rounding ops Kappa treats as quantizers (Floor/Ceil/Round, Cast to an integer).
                if r.roundingPoint, let out = n.outputs.first, ctx.isVariable(out) { points.insert(out) }
            }
        }
        var eq8 = ModePair.zero
        for r in points.sorted() { eq8 = eq8 + (gains.backward[r] ?? .zero) * ModePair(QuantizedRounding.unit(of: r, plan.context)) }
        return (points, eq8)
    }

    // MARK: Stage 5

    static func table(_ plan: Plan, rules: [Int: NodeRule], gains: Gains, norms: [WeightNorms], eq7: ModePair,
                      tightening: RescalingResult? = nil) -> [NodeAnalysis] {
        var rows: [NodeAnalysis] = []
        var w = 0
        for p in plan.nodes {
            guard let rule = rules[p.index] else { continue }
            var weight: WeightRow?
            if case let .weight(l) = p.role {
                weight = WeightRow(weight: l.weight.name, shape: l.weight.dims, norms: norms[w])
                w += 1
            }
            guard weight != nil || rule.status != .ok || !(rule.terms.allSatisfy { $0.gain.isOne }) || rule.outputTerms != nil
                    || rule.roundingPoint else { continue }
            let n = p.node
            let first = rule.terms.first?.input ?? plan.context.variableInputs(n).first
            let out = n.outputs.first { !$0.isEmpty } ?? ""
            rows.append(NodeAnalysis(index: rows.count + 1, node: n.name, op: n.opType, weight: weight, lipschitz: rule.lipschitz,
                                     gainFromInput: gains.forward[out] ?? .zero,
                                     gainToOutput: first.flatMap { gains.backward[$0] } ?? .zero,
                                     share: share(rule.lipschitz, eq7), status: rule.status, reason: rule.reason,
                                     domainWouldBound: rule.domainWouldBound))
            if weight != nil, let t = tightening, w - 1 < t.foldedLayers.count {
                rows[rows.count - 1].lipschitzFolded = t.foldedLayers[w - 1]
                rows[rows.count - 1].lipschitzRescaled = t.rescaledLayers[w - 1]
            }
        }
        return rows
    }

    static func share(_ l: ModePair, _ bound: ModePair) -> ModePair? {
        func one(_ a: Double, _ b: Double) -> Double {
            let lb = log2(b)
            guard lb.isFinite, abs(lb) > 1e-12, a > 0, a.isFinite else { return .nan }
            return log2(a) / lb
        }
        let r = ModePair(matrix: one(l.matrix, bound.matrix), operator: one(l.operator, bound.operator))
        return r.matrix.isNaN && r.operator.isNaN ? nil : r
    }
}
