import ONNX

/// Gated activations that exporters write as a Mul of x and a function of x:
/// SiLU/Swish x·σ(x), HardSwish x·HardSigmoid(x) or x·Clip(x + 3, 0, 6)/6 chains.
///
/// The gate is traced back from the Mul to x through scalar affine ops (Add/Sub/Mul/Div by a
/// constant scalar) and at most one nonlinearity, giving g(x) = s·f(αx + β) + γ; the Mul is
/// then the scalar function φ(x) = x·g(x) and L = sup |φ'|:
/// - f = clip(·, lo, hi) (Clip, Relu, HardSigmoid with its α, β folded into the affine part):
///   φ' = s·(2αx + β) + γ where lo < αx+β < hi, and s·lo + γ, s·hi + γ outside; the linear
///   piece is monotone, so sup |φ'| = max |s·v + γ| over v ∈ {lo, hi, 2lo − β, 2hi − β};
///   unbounded when lo or hi is infinite (x·relu(x) = x² for x > 0).
///   HardSwish (α = 1/6 or 0.2, β = 1/2, lo = 0, hi = 1) gives max(1, 2 − β, β) = 1.5.
/// - f = σ: φ' = s·(σ(u) + u·σ'(u) − β·σ'(u)) + γ with u = αx + β, and |σ + uσ'| ≤ 1.0999,
///   σ' ≤ 1/4, so L ≤ |s|·(1.0999 + |β|/4) + |γ| (SiLU: 1.0999).
extension LipschitzTable {
    struct GateChain {
        enum Kind { case clip(Double, Double), sigmoid }
        var alpha = 1.0, beta = 0.0
        var kind: Kind?
        var scale = 1.0, offset = 0.0

        var lipschitz: Double? {
            guard let kind else { return nil }
            switch kind {
            case let .clip(lo, hi):
                guard alpha != 0 else { return abs(scale * min(max(beta, lo), hi) + offset) }
                guard lo.isFinite, hi.isFinite, lo <= hi else { return nil }
                return [lo, hi, 2 * lo - beta, 2 * hi - beta].map { abs(scale * $0 + offset) }.max()
            case .sigmoid:
                return abs(scale) * (siluConstant + abs(beta) / 4) + abs(offset)
            }
        }

        mutating func affine(mul: Double, add: Double) {
            if kind == nil { alpha *= mul; beta = beta * mul + add } else { scale *= mul; offset = offset * mul + add }
        }
    }

    static func gate(_ mul: Node, _ ctx: GraphContext) -> NodeRule? {
        guard let a = mul.input(0), let b = mul.input(1) else { return nil }
        for (x, g) in [(a, b), (b, a)] {
            if let chain = trace(g, to: x, ctx), let l = chain.lipschitz {
                let what: String
                switch chain.kind {
                case .sigmoid?: what = "x·σ(x) (SiLU/Swish)"
                default: what = "x·clip(αx+β) (HardSwish pattern)"
                }
                return NodeRule(terms: [.init(x, ModePair(l))], reason: what)
            }
        }
        return nil
    }

    /// Follows single-variable-input producers from `t` back to `x` (at most 8 nodes).
    static func trace(_ t: String, to x: String, _ ctx: GraphContext) -> GateChain? {
        var nodes: [(Node, String)] = []  // node and its variable input
        var cur = t
        while cur != x {
            guard nodes.count < 8, let p = ctx.producer(cur) else { return nil }
            let vars = ctx.variableInputs(p)
            guard vars.count == 1 else { return nil }
            nodes.append((p, vars[0]))
            cur = vars[0]
        }
        guard !nodes.isEmpty else { return nil }
        var c = GateChain()
        for (n, v) in nodes.reversed() {
            let other = n.inputs.first { !$0.isEmpty && $0 != v }
            switch n.opType {
            case "Identity", "Dropout":
                continue
            case "Add":
                guard let k = ctx.scalar(other) else { return nil }
                c.affine(mul: 1, add: k)
            case "Sub":
                guard let k = ctx.scalar(other) else { return nil }
                if n.input(0) == v { c.affine(mul: 1, add: -k) } else { c.affine(mul: -1, add: k) }
            case "Mul":
                guard let k = ctx.scalar(other) else { return nil }
                c.affine(mul: k, add: 0)
            case "Div":
                guard n.input(0) == v, let k = ctx.scalar(other), k != 0 else { return nil }
                c.affine(mul: 1 / k, add: 0)
            case "Relu", "Clip", "HardSigmoid", "Sigmoid":
                guard c.kind == nil else { return nil }
                switch n.opType {
                case "Relu": c.kind = .clip(0, .infinity)
                case "Clip":
                    let lo = ctx.scalar(n.input(1)) ?? n.float("min").map(Double.init) ?? -.infinity
                    let hi = ctx.scalar(n.input(2)) ?? n.float("max").map(Double.init) ?? .infinity
                    c.kind = .clip(lo, hi)
                case "HardSigmoid":
                    c.affine(mul: Double(n.float("alpha") ?? 0.2), add: Double(n.float("beta") ?? 0.5))
                    c.kind = .clip(0, 1)
                default: c.kind = .sigmoid
                }
            default:
                return nil
            }
        }
        return c
    }
}
