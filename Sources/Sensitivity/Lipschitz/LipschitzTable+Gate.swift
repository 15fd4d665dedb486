import ONNX

/// Gated activations that exporters write as a Mul of two functions of one tensor r: SiLU
/// x·σ(x), GELU (x·0.5)·(1 + erf(x/√2)), HardSwish x·clip(x/6 + ½, 0, 1), Mish
/// x·tanh(softplus(x)), x·tanh(x) …
///
/// Each operand is traced back through scalar affine nodes (Add/Sub/Mul/Div by a constant
/// scalar, Identity/Dropout) and at most one nonlinearity f to a common root r: one operand is
/// affine, A(r) = p·r + q; the other is G(r) = s·f(αr + β) + γ. The Mul is then the scalar
/// function φ(r) = (p·r + q)·G(r) applied elementwise, so L = sup |φ'|. With u = αr + β:
///
///     φ'(r) = p·s·(f(u) + u·f'(u)) + p·γ + s·(qα − pβ)·f'(u),
///
/// hence L ≤ |ps|·sup|(uf)'| + |pγ| + |s(qα − pβ)|·sup|f'|, with the constants (computed to 30
/// digits with mpmath, rounded up):
/// - σ: sup|(uσ)'| = 1.0998393 (SiLU), sup σ' = 1/4;
/// - erf: sup|(u·erf u)'| = 2·sup GELU' − 1 = 1.2578083, sup erf' = 2/√π = 1.1283792 — so
///   (0.5x)(1 + erf(x/√2)) gets 0.5·(1.2579 + 1) = 1.12895, the GELU constant (tight);
/// - tanh: sup|(u·tanh u)'| = 1.1996786, sup tanh' = 1;
/// - tanh∘softplus (Mish): sup|(u·tanh(softplus u))'| = 1.0884982, sup of its derivative 0.3218700.
/// For f = clip(·, lo, hi) (Relu, Clip, HardSigmoid with its α, β folded in) φ is piecewise
/// quadratic/linear and sup |φ'| is exact: φ' is linear on the interior, so
/// L = max over u ∈ {lo, hi} of max(|ps(2u − β) + pγ + qsα|, |p(su + γ)|) (HardSwish: 1.5);
/// unbounded when lo or hi is infinite (x·relu(x) = x² for x > 0).
extension LipschitzTable {
    struct GateChain {
        enum Kind { case clip(Double, Double), sigmoid, erf, tanh, mish }
        var alpha = 1.0, beta = 0.0
        var kind: Kind?
        var scale = 1.0, offset = 0.0

        /// sup |(u f)'| and sup |f'| of the smooth kinds.
        static func constants(_ k: Kind) -> (Double, Double)? {
            switch k {
            case .sigmoid: return (siluConstant, 0.25)
            case .erf: return (uErfConstant, erfConstant)
            case .tanh: return (1.19968, 1)
            case .mish: return (mishConstant, 0.32188)
            case .clip: return nil
            }
        }

        /// L of φ(r) = (p·r + q)·(this chain's G(r)).
        func lipschitz(p: Double, q: Double) -> Double? {
            guard let kind else { return nil }
            let s = scale, g = offset
            switch kind {
            case let .clip(lo, hi):
                guard alpha != 0 else {
                    // G is constant: φ is affine with slope p·G.
                    return abs(p * (s * min(max(beta, lo), hi) + g))
                }
                guard lo.isFinite, hi.isFinite, lo <= hi else { return nil }
                return [lo, hi].map { u in max(abs(p * s * (2 * u - beta) + p * g + q * s * alpha), abs(p * (s * u + g))) }.max()
            default:
                guard let (uf, df) = Self.constants(kind) else { return nil }
                return abs(p * s) * uf + abs(p * g) + abs(s * (q * alpha - p * beta)) * df
            }
        }

        mutating func affine(mul: Double, add: Double) {
            if kind == nil { alpha *= mul; beta = beta * mul + add } else { scale *= mul; offset = offset * mul + add }
        }
    }

    static func gate(_ mul: Node, _ ctx: GraphContext) -> NodeRule? {
        guard let a = mul.input(0), let b = mul.input(1) else { return nil }
        for (affine, gated) in [(a, b), (b, a)] {
            guard let lin = trace(affine, ctx), lin.chain.kind == nil,
                  let gate = trace(gated, ctx), gate.chain.kind != nil, gate.root == lin.root else { continue }
            // A(r) = p·r + q from the affine chain (its α, β).
            guard let l = gate.chain.lipschitz(p: lin.chain.alpha, q: lin.chain.beta), l.isFinite else { continue }
            let what: String
            switch gate.chain.kind {
            case .sigmoid?: what = "x·σ(x) pattern (SiLU/Swish)"
            case .erf?: what = "x·erf(x) pattern (GELU)"
            case .tanh?: what = "x·tanh(x) pattern"
            case .mish?: what = "x·tanh(softplus(x)) pattern (Mish)"
            default: what = "x·clip(αx+β) pattern (HardSwish)"
            }
            return NodeRule(terms: [.init(lin.root, ModePair(l))], reason: what)
        }
        return nil
    }

    /// Follows single-variable-input producers back from `t` through scalar affine nodes and at
    /// most one nonlinearity (Softplus→Tanh counts as one, Mish's), to the first tensor made by
    /// anything else (the root). At most 12 nodes.
    static func trace(_ t: String, _ ctx: GraphContext) -> (root: String, chain: GateChain)? {
        var nodes: [(Node, String)] = []  // node and its variable input, from t backwards
        var cur = t
        var nonlinear = 0
        while nodes.count < 12, let p = ctx.producer(cur) {
            let vars = ctx.variableInputs(p)
            guard vars.count == 1, let v = vars.first else { break }
            let isAffine = ["Identity", "Dropout"].contains(p.opType)
                || (["Add", "Sub", "Mul", "Div"].contains(p.opType) && ctx.scalar(p.inputs.first { !$0.isEmpty && $0 != v }) != nil
                    && (p.opType != "Div" || p.input(0) == v))
            let isNonlinear = ["Relu", "Clip", "HardSigmoid", "Sigmoid", "Erf", "Tanh", "Softplus"].contains(p.opType)
            if isAffine {
                nodes.append((p, v))
            } else if isNonlinear && nonlinear == 0 {
                nodes.append((p, v))
                nonlinear = 1
                // Mish: Tanh of a Softplus.
                if p.opType == "Tanh", let q = ctx.producer(v), q.opType == "Softplus", let w = ctx.variableInputs(q).first,
                   ctx.variableInputs(q).count == 1 {
                    nodes.append((q, w))
                    cur = w
                    continue
                }
            } else {
                break
            }
            cur = v
        }
        var c = GateChain()
        var i = nodes.count - 1
        while i >= 0 {
            let (n, v) = nodes[i]
            let other = n.inputs.first { !$0.isEmpty && $0 != v }
            switch n.opType {
            case "Identity", "Dropout":
                break
            case "Add":
                c.affine(mul: 1, add: ctx.scalar(other) ?? 0)
            case "Sub":
                let k = ctx.scalar(other) ?? 0
                if n.input(0) == v { c.affine(mul: 1, add: -k) } else { c.affine(mul: -1, add: k) }
            case "Mul":
                c.affine(mul: ctx.scalar(other) ?? 1, add: 0)
            case "Div":
                guard let k = ctx.scalar(other), k != 0 else { return nil }
                c.affine(mul: 1 / k, add: 0)
            case "Softplus":
                // With the Tanh above it (the only way it enters): Mish's nonlinearity.
                c.kind = .mish
                i -= 1  // the Tanh is part of it
            case "Relu": c.kind = .clip(0, .infinity)
            case "Clip":
                let lo = ctx.scalar(n.input(1)) ?? n.float("min").map(Double.init) ?? -.infinity
                let hi = ctx.scalar(n.input(2)) ?? n.float("max").map(Double.init) ?? .infinity
                c.kind = .clip(lo, hi)
            case "HardSigmoid":
                c.affine(mul: Double(n.float("alpha") ?? 0.2), add: Double(n.float("beta") ?? 0.5))
                c.kind = .clip(0, 1)
            case "Sigmoid": c.kind = .sigmoid
            case "Erf": c.kind = .erf
            case "Tanh": c.kind = .tanh
            default: return nil
            }
            i -= 1
        }
        return (cur, c)
    }
}
