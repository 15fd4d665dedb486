import Foundation
import Linalg
import ONNX

/// DESIGN.md §1: per-layer norms, the Lipschitz table, Eq. 7 and Eq. 8 on the DAG.
///
/// Gains are propagated in Double: a product of 40 layer norms of ~10 each is 1e40, far below
/// Double's 1.8e308, so no log domain is needed; an overflow or an unbounded node gives +∞,
/// reported as JSON null plus a finding.
public enum SensitivityAnalysis {
    public static func run(_ graph: ModelGraph, options: AnalysisOptions = .init(),
                           progress: (@Sendable (Int, Int, String) -> Void)? = nil) throws(SensitivityError) -> AnalysisResult {
        let ctx = GraphContext(graph)
        let nodes = graph.graph.nodes
        let y = try outputTensor(graph, requested: options.output)

        // 1. Classify every live node: weight layer or Lipschitz table.
        var layers: [WeightLayer] = []
        var rules: [Int: NodeRule] = [:]
        for idx in graph.order {
            let n = nodes[idx]
            if ctx.isFolded(n) { continue }
            if let l = WeightLayers.layer(n, index: idx, ctx: ctx) {
                rules[idx] = NodeRule(terms: [], weightLayer: layers.count)
                layers.append(l)
            } else {
                rules[idx] = LipschitzTable.rule(for: n, in: ctx)
            }
        }

        // 2. Norms, in parallel.
        let norms = WeightLayers.computeNorms(layers, mode: options.norm, options: options.spectral,
                                              threads: options.threads, progress: progress)
        var issues: [AnalysisIssue] = []
        for (i, l) in layers.enumerated() {
            let r = norms[i]
            var rule = NodeRule(terms: [], weightLayer: i)
            if let s = r.sigmaMatrix, let u = r.sigmaOpUpper, r.failure == nil {
                rule.terms = [.init(l.input, ModePair(matrix: l.scale * s, sound: l.scale * u))] + l.extraTerms
            } else {
                rule = .unbounded([l.input] + l.extraTerms.map(\.input), r.failure ?? "no norm")
                rule.weightLayer = i
                if r.nonFinite > 0 {
                    issues.append(AnalysisIssue(kind: .nonFiniteWeight, node: l.node, message: "node '\(l.node)' (\(l.op)): \(r.failure ?? "")"))
                }
            }
            rules[l.nodeIndex] = rule
        }

        // 3. Eq. 7 forward and Eq. 8 backward.
        let (g, h) = propagate(graph, rules: rules, output: y)
        var rounding = Set<String>()
        for l in layers { rounding.insert(l.input) }
        for idx in graph.order where nodes[idx].opType == "DequantizeLinear" {
            let n = nodes[idx]
            if let q = n.input(0).flatMap({ ctx.producer($0) }), q.opType == "QuantizeLinear", let out = n.outputs.first,
               !ctx.isConstant(out) {
                rounding.insert(out)
            }
        }
        var eq8 = ModePair.zero
        for r in rounding.sorted() { eq8 = eq8 + (h[r] ?? .zero) }
        let eq7 = g[y] ?? .zero
        let network = NetworkResult(output: y, eq7: eq7, eq8: eq8, roundingPoints: rounding.count)

        // 4. The layer table.
        var rows: [LayerRow] = []
        for idx in graph.order {
            guard let rule = rules[idx] else { continue }
            let n = nodes[idx]
            let l = rule.lipschitz
            let isWeight = rule.weightLayer != nil
            guard isWeight || rule.status != .ok || !(rule.terms.allSatisfy { $0.gain.isOne }) else { continue }
            let first = rule.terms.first?.input ?? n.inputs.first { !$0.isEmpty && !ctx.isConstant($0) }
            let out = n.outputs.first ?? ""
            var row = LayerRow(index: rows.count + 1, node: n.name, op: n.opType, lipschitz: l,
                               gainFromInput: g[out] ?? .zero, gainToOutput: first.flatMap { h[$0] } ?? .zero,
                               status: rule.status, reason: rule.reason)
            if let w = rule.weightLayer {
                row.weight = layers[w].weight.name
                row.weightShape = layers[w].weight.dims
                row.norms = norms[w]
            }
            row.share = share(l, eq7)
            rows.append(row)
            switch rule.status {
            case .unsupported: issues.append(AnalysisIssue(kind: .unsupported, node: n.name, message: "node '\(n.name)' (\(n.opType)) is unsupported: \(rule.reason ?? "")"))
            case .unbounded where norms.indices.contains(rule.weightLayer ?? -1) && norms[rule.weightLayer ?? 0].nonFinite > 0: break
            case .unbounded: issues.append(AnalysisIssue(kind: .unbounded, node: n.name, message: "node '\(n.name)' (\(n.opType)) is unbounded: \(rule.reason ?? "")"))
            case .ok: break
            }
        }
        return AnalysisResult(norm: options.norm, layers: rows, network: network, issues: issues)
    }

    static func share(_ l: ModePair, _ bound: ModePair) -> ModePair? {
        func one(_ a: Double, _ b: Double) -> Double {
            let lb = log2(b)
            guard lb.isFinite, abs(lb) > 1e-12, a > 0, a.isFinite else { return .nan }
            return log2(a) / lb
        }
        let r = ModePair(matrix: one(l.matrix, bound.matrix), sound: one(l.sound, bound.sound))
        return r.matrix.isNaN && r.sound.isNaN ? nil : r
    }

    /// The analysed output: `requested`, or the tensor feeding the final Softmax/LogSoftmax
    /// (looking through Identity/Flatten/Reshape/Squeeze after it), or the first graph output.
    public static func outputTensor(_ graph: ModelGraph, requested: String?) throws(SensitivityError) -> String {
        if let r = requested {
            guard graph.producer[r] != nil || graph.inputs.contains(where: { $0.name == r }) || graph.constants[r] != nil else {
                throw .unknownOutput(path: graph.path, name: r)
            }
            return r
        }
        guard let out = graph.graph.outputs.first?.name else { throw .noOutput(path: graph.path) }
        var t = out
        for _ in 0..<8 {
            guard let p = graph.producerNode(of: t), let i = p.input(0) else { break }
            if p.opType == "Softmax" || p.opType == "LogSoftmax" { return i }
            guard ["Identity", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Dropout"].contains(p.opType) else { break }
            t = i
        }
        return out
    }

    /// g(t) for every tensor (forward, Eq. 7) and h(t) (backward, Eq. 8) with h(y) = 1.
    static func propagate(_ graph: ModelGraph, rules: [Int: NodeRule], output y: String) -> ([String: ModePair], [String: ModePair]) {
        var g: [String: ModePair] = [:]
        for i in graph.inputs { g[i.name] = .one }
        let nodes = graph.graph.nodes
        for idx in graph.order {
            guard let rule = rules[idx] else { continue }
            var acc = ModePair.zero
            for t in rule.terms {
                let v = t.gain * (g[t.input] ?? .zero)
                acc = rule.combine == .sum ? acc + v : acc + v * v
            }
            if rule.combine == .rootSumSquare { acc = acc.map { $0.squareRoot() } }
            for o in nodes[idx].outputs where !o.isEmpty && graph.constants[o] == nil { g[o] = acc }
        }
        var h: [String: ModePair] = [y: .one]
        for idx in graph.order.reversed() {
            guard let rule = rules[idx] else { continue }
            var hOut = ModePair.zero
            for o in nodes[idx].outputs where !o.isEmpty { hOut = hOut + (h[o] ?? .zero) }
            if hOut == .zero { continue }
            for t in rule.terms { h[t.input] = (h[t.input] ?? .zero) + t.gain * hOut }
        }
        return (g, h)
    }
}
