import Foundation
import ONNX

/// Lipschitz rules that hold on a bounded input domain (DESIGN.md §1.8; derivations and a numpy
/// check of 18,106 random instances in the development notes, "domain rules"). They read the
/// sound elementwise bounds of the node's inputs over the domain (`ctx.bounds`): M = max(|lo|,
/// |hi|) and m = min |·| per element.
///
/// **Why node-local constants suffice.** For x, x' in the domain every tensor's two values lie in
/// its interval box, which is convex; a bound ‖F(u) − F(u')‖ ≤ Σ_k c_k‖u_k − u'_k‖ that holds for
/// all u, u' in the boxes of F's inputs composes over the graph exactly like the global rules,
/// so g stays a sound Lipschitz bound on the domain. No differentiability is needed.
///
/// **Lemma B (broadcast products).** For y_i = f(a_{α(i)}, b_{β(i)}) with |∂f/∂a| ≤ U_i and
/// |∂f/∂b| ≤ V_i on the boxes: ‖δy‖ ≤ K_a‖δa‖ + K_b‖δb‖ with K_a = max_j √(Σ_{i∈α⁻¹(j)} U_i²)
/// (the largest fiber norm) and likewise K_b. Mul: U = M_b, V = M_a; Div a/b: U = 1/m_b,
/// V = M_a/m_b² (unbounded when b's interval contains 0). A squeeze-excitation gate
/// y[c,h,w] = x[c,h,w]·s[c] gets max|s|·g(x) + max_c √(Σ_hw M_x²)·g(s).
extension LipschitzTable {
    /// The domain rule of `n`, or nil when `n` has none or a bound it needs is missing.
    static func domainRule(_ n: Node, _ vars: [String], _ ctx: GraphContext) -> NodeRule? {
        guard let x = vars.first else { return nil }
        switch n.opType {
        case "Mul" where vars.count == 2:
            if gate(n, ctx) != nil { return nil }  // the global gate constant applies
            return product(n, ctx, divide: false)
        case "Div" where n.input(1).map(ctx.isVariable) == true:
            if let fused = normalizationPattern(n, ctx) { return fused }
            return product(n, ctx, divide: true)
        case "Mul" where vars.count == 1:
            // x·(1/√(mean(x²) + ε)) and (x − μ)·(1/σ) written with Reciprocal/Pow(−0.5).
            return normalizationPattern(n, ctx)
        case "MatMul" where vars.count == 2:
            return matmul(n, ctx)
        case "Exp", "Log", "Sqrt", "Reciprocal", "Pow", "Tan":
            return unaryOnDomain(n, x, ctx)
        case "LayerNormalization", "InstanceNormalization", "GroupNormalization":
            return normalization(n, x, ctx)
        case "Softmax":
            return softmaxOnDomain(n, x, ctx)
        case "ReduceSumSquare":
            guard let b = ctx.bounds(x), let k = reducedCount(n, x, ctx), k > 0 else { return nil }
            // ∇y_s = 2x_s: |δy_s| ≤ 2·sup‖x_s‖·‖δx_s‖; slices are disjoint.
            let slices = b.count / max(k, 1)
            var worst = 0.0
            if slices * k == b.count, n.ints("axes") == nil || (n.ints("axes") ?? []).map({ Shapes.axis($0, rank: b.shape.count) }) == [b.shape.count - 1] || slices == 1 {
                for s in 0..<slices { worst = max(worst, (s * k..<(s + 1) * k).reduce(0) { $0 + b.magnitude($1) * b.magnitude($1) }) }
            } else {
                worst = b.supNorm * b.supNorm
            }
            return .lipschitz(x, 2 * worst.squareRoot().nextUp, "2·sup‖x_slice‖ on the domain")
        default:
            return nil
        }
    }

    // MARK: Products and quotients

    /// Lemma B for Mul/Div of two tensors that both depend on the input.
    static func product(_ n: Node, _ ctx: GraphContext, divide: Bool) -> NodeRule? {
        guard let a = n.input(0), let b = n.input(1), let ba = ctx.bounds(a), let bb = ctx.bounds(b),
              let out = Shapes.broadcast(ba.shape, bb.shape), let count = Shapes.checkedProduct(out), count <= 1 << 26 else { return nil }
        // Every element of b reaches the output when it is not empty (broadcasting only copies).
        if divide, count > 0, (0..<bb.count).contains(where: { !(bb.minMagnitude($0) > 0) }) {
            return .needsDomain(ctx.variableInputs(n), "Div whose divisor's interval on the domain contains 0")
        }
        var accA = [Double](repeating: 0, count: ba.count), accB = [Double](repeating: 0, count: bb.count)
        Shapes.forEachBroadcastPair(ba.shape, bb.shape, to: out) { _, ia, ib in
            let u: Double, v: Double
            if divide {
                let mb = bb.minMagnitude(ib)
                u = 1 / mb
                v = ba.magnitude(ia) / (mb * mb)
            } else {
                u = bb.magnitude(ib)
                v = ba.magnitude(ia)
            }
            accA[ia] += u * u
            accB[ib] += v * v
        }
        let margin = 1 + Double(count + 8) * 0x1p-52
        let ka = ((accA.max() ?? 0) * margin).squareRoot().nextUp, kb = ((accB.max() ?? 0) * margin).squareRoot().nextUp
        guard ka.isFinite, kb.isFinite else { return .needsDomain(ctx.variableInputs(n), "an operand is unbounded on the domain") }
        var terms: [NodeRule.Term] = []
        if ctx.isVariable(a) { terms.append(.init(a, ModePair(ka))) }
        if ctx.isVariable(b) { terms.append(.init(b, ModePair(kb))) }
        return NodeRule(terms: terms, reason: "\(divide ? "quotient" : "product") on the domain: K_a = \(NumberText.value(ka)), K_b = \(NumberText.value(kb)) (largest fiber norms)")
    }

    // MARK: MatMul of two variables

    /// ‖δ(AB)‖ ≤ K_A‖δA‖ + K_B‖δB‖ with K_A = max over A's items of ‖M_B of the items using it,
    /// side by side‖₂ and K_B = max over B's items of ‖M_A of the items using it, stacked‖₂
    /// (AB − A'B' = (A − A')B + A'(B − B'), Frobenius/spectral submultiplicativity, grouped by
    /// item). Combining per item max(β_k g_A + α_k g_B) instead would be false.
    static func matmul(_ n: Node, _ ctx: GraphContext) -> NodeRule? {
        guard let a = n.input(0), let b = n.input(1), let ba = ctx.bounds(a), let bb = ctx.bounds(b) else { return nil }
        let sa = ba.shape.count == 1 ? [1] + ba.shape : ba.shape
        let sb = bb.shape.count == 1 ? bb.shape + [1] : bb.shape
        guard sa.count >= 2, sb.count >= 2, sa[sa.count - 1] == sb[sb.count - 2] else { return nil }
        let (m, k, p) = (sa[sa.count - 2], sa[sa.count - 1], sb[sb.count - 1])
        let batchA = Array(sa.dropLast(2)), batchB = Array(sb.dropLast(2))
        guard let batch = Shapes.broadcast(batchA, batchB), let items = Shapes.checkedProduct(batch) else { return nil }
        let ta = Shapes.broadcastStrides(batchA, to: batch), tb = Shapes.broadcastStrides(batchB, to: batch)
        let st = Shapes.strides(batch)
        var usersOfA: [Int: [Int]] = [:], usersOfB: [Int: [Int]] = [:]
        for i in 0..<items {
            var rem = i, ia = 0, ib = 0
            for d in 0..<batch.count { let c = rem / max(st[d], 1); rem -= c * st[d]; ia += c * ta[d]; ib += c * tb[d] }
            usersOfA[ia, default: []].append(ib)
            usersOfB[ib, default: []].append(ia)
        }
        func magnitudes(_ t: TensorBounds, item: Int, rows: Int, cols: Int) -> [Double] {
            (0..<(rows * cols)).map { t.magnitude(item * rows * cols + $0) }
        }
        // K_A: for each A item, the B items it meets side by side (k × (p·count)).
        var kA = 0.0
        for (_, bs) in usersOfA {
            var wide = [Double](repeating: 0, count: k * p * bs.count)
            for (j, ib) in bs.enumerated() {
                let mb = magnitudes(bb, item: ib, rows: k, cols: p)
                for r in 0..<k { for c in 0..<p { wide[r * p * bs.count + j * p + c] = mb[r * p + c] } }
            }
            kA = max(kA, NonnegativeNorm.upper(wide, rows: k, cols: p * bs.count))
        }
        var kB = 0.0
        for (_, as_) in usersOfB {
            var tall = [Double](repeating: 0, count: m * k * as_.count)
            for (j, ia) in as_.enumerated() {
                let ma = magnitudes(ba, item: ia, rows: m, cols: k)
                for i in 0..<(m * k) { tall[j * m * k + i] = ma[i] }
            }
            kB = max(kB, NonnegativeNorm.upper(tall, rows: m * as_.count, cols: k))
        }
        guard kA.isFinite, kB.isFinite else { return .needsDomain(ctx.variableInputs(n), "an operand of the product is unbounded on the domain") }
        var terms: [NodeRule.Term] = []
        if ctx.isVariable(a) { terms.append(.init(a, ModePair(kA))) }
        if ctx.isVariable(b) { terms.append(.init(b, ModePair(kB))) }
        return NodeRule(terms: terms, reason: "product of variables on the domain: sup‖B‖₂ = \(NumberText.value(kA)), sup‖A‖₂ = \(NumberText.value(kB))")
    }

    // MARK: Elementwise functions

    /// L = max over elements of sup |f'| on the element's interval; unbounded with the reason
    /// when an interval reaches a pole.
    static func unaryOnDomain(_ n: Node, _ x: String, _ ctx: GraphContext) -> NodeRule? {
        guard n.input(0) == x, let b = ctx.bounds(x) else { return nil }
        var worst = 0.0
        let op = n.opType
        var p = 1.0
        if op == "Pow" {
            guard let e = ctx.scalar(n.input(1)) else { return nil }
            p = e
        }
        for i in 0..<b.count {
            let lo = Double(b.lo[i]), hi = Double(b.hi[i])
            guard lo.isFinite, hi.isFinite else { return .needsDomain([x], "\(op)'s input is unbounded on the domain") }
            let d: Double
            switch op {
            case "Exp": d = Foundation.exp(hi)
            case "Log":
                guard lo > 0 else { return .needsDomain([x], "log's input interval on the domain reaches 0 (a pole)") }
                d = 1 / lo
            case "Sqrt":
                guard lo > 0 else { return .needsDomain([x], "sqrt's input interval on the domain reaches 0 (an infinite derivative)") }
                d = 1 / (2 * lo.squareRoot())
            case "Reciprocal":
                let m = b.minMagnitude(i)
                guard m > 0 else { return .needsDomain([x], "1/x's input interval on the domain contains 0 (a pole)") }
                d = 1 / (m * m)
            case "Tan":
                // sec² is finite and convex between poles; the interval must avoid π/2 + kπ.
                let k0 = ((lo - .pi / 2) / .pi).rounded(.up), k1 = ((hi - .pi / 2) / .pi).rounded(.down)
                guard k0 > k1 else { return .needsDomain([x], "tan's input interval on the domain contains a pole") }
                d = max(1 / (Foundation.cos(lo) * Foundation.cos(lo)), 1 / (Foundation.cos(hi) * Foundation.cos(hi)))
            default:  // Pow with a constant exponent p: |p|·|x|^(p−1)
                if p == Double(Int(p)) || lo >= 0 {
                    let m = b.magnitude(i), mn = b.minMagnitude(i)
                    if p >= 1 {
                        d = abs(p) * Foundation.pow(m, p - 1)
                    } else {
                        guard mn > 0 else { return .needsDomain([x], "x^\(NumberText.value(p)) has an infinite derivative at 0, inside the input interval") }
                        d = abs(p) * Foundation.pow(mn, p - 1)
                    }
                } else {
                    return .needsDomain([x], "x^\(NumberText.value(p)) is undefined for negative x, inside the input interval")
                }
            }
            worst = max(worst, d)
        }
        let l = (worst * (1 + 1e-12)).nextUp
        guard l.isFinite else { return .needsDomain([x], "\(op)'s derivative overflows on the domain") }
        return .lipschitz(x, l, "sup |\(op)'| on the domain")
    }

    // MARK: Normalisations

    /// LayerNormalization/InstanceNormalization/GroupNormalization on the domain: per slice,
    /// J = diag(γ)(1/σ)(P − zzᵀ/K) with eigenvalues 0, ε/(v+ε) and 1 of the middle factor, so
    /// ‖J‖₂ ≤ max|γ| / √(var_lower + ε), var_lower the exact minimum of the slice variance over
    /// its box (`VarianceBound`); slices are disjoint.
    static func normalization(_ n: Node, _ x: String, _ ctx: GraphContext) -> NodeRule? {
        guard n.input(0) == x, let b = ctx.bounds(x), b.shape.count >= 1 else { return nil }
        let eps = Double(n.float("epsilon") ?? 1e-5)
        let shape = b.shape
        // Slices: (outer, inner count K) and γ per slice element or per channel.
        var sliceCount = 0, k = 0
        var gammaOf: (Int, Int) -> Double
        let gamma = ctx.constant(n.input(1))
        func maxAbs(_ t: Tensor?) -> Double { t.map { t in (0..<t.count).reduce(0.0) { max($0, abs(t.double(at: $1))) } } ?? 1 }
        switch n.opType {
        case "LayerNormalization":
            guard let axis = Shapes.axis(n.int("axis") ?? -1, rank: shape.count) else { return nil }
            sliceCount = shape[..<axis].reduce(1, *)
            k = shape[axis...].reduce(1, *)
            let g = maxAbs(gamma)
            gammaOf = { _, _ in g }
        case "InstanceNormalization":
            guard shape.count >= 3 else { return nil }
            sliceCount = shape[0] * shape[1]
            k = shape[2...].reduce(1, *)
            gammaOf = { s, _ in gamma.map { abs($0.double(at: s % shape[1])) } ?? 1 }
        default:  // GroupNormalization
            guard shape.count >= 3, let groups = n.int("num_groups"), groups >= 1, shape[1] % groups == 0 else { return nil }
            sliceCount = shape[0] * groups
            k = shape[1] / groups * shape[2...].reduce(1, *)
            let perGroup = shape[1] / groups
            gammaOf = { s, _ in
                guard let t = gamma else { return 1 }
                let g = s % groups
                if t.count == groups { return abs(t.double(at: g)) }
                return (g * perGroup..<(g + 1) * perGroup).reduce(0.0) { max($0, abs(t.double(at: min($1, t.count - 1)))) }
            }
        }
        guard sliceCount * k == b.count, k >= 1 else { return nil }
        var worst = 0.0
        for s in 0..<sliceCount {
            let range = (s * k)..<((s + 1) * k)
            let v = VarianceBound.lower(lo: b.lo[range].map(Double.init), hi: b.hi[range].map(Double.init))
            guard v + eps > 0 else {
                return .needsDomain([x], "\(n.opType) with ε = 0 on a domain where a slice's variance can vanish")
            }
            worst = max(worst, gammaOf(s, 0) / (v + eps).squareRoot())
        }
        return .lipschitz(x, (worst * (1 + 1e-12)).nextUp, "max|γ|/√(var_lower + ε) on the domain")
    }

    /// The decomposed LayerNorm/RMSNorm exporters write, read as one normalisation of x:
    /// (x − mean(x)) / √(mean((x − mean(x))²) + ε) and x / √(mean(x²) + ε), with the divisor also
    /// as Mul by Reciprocal(√·) or Pow(·, −0.5). A valid bound for the output whatever the
    /// intermediate tensors do (they keep their own rules); on the domain.
    static func normalizationPattern(_ n: Node, _ ctx: GraphContext) -> NodeRule? {
        guard let num = n.input(0), let den = n.input(1) else { return nil }
        // The denominator as √(s + ε) with s a ReduceMean: from Div directly, or Mul by its reciprocal.
        var root: Node?
        if n.opType == "Div" {
            root = ctx.producer(den)
        } else if let r = ctx.producer(den) {
            if r.opType == "Reciprocal", let q = r.input(0) { root = ctx.producer(q) }
            if r.opType == "Pow", ctx.scalar(r.input(1)) == -0.5, let q = r.input(0) {
                root = Node(name: r.name, opType: "Sqrt", inputs: [q], outputs: r.outputs)  // √ of the same
            }
        }
        guard let sqrt = root, sqrt.opType == "Sqrt", let sumIn = sqrt.input(0), let add = ctx.producer(sumIn) else { return nil }
        var meanTensor = sumIn
        var eps = 0.0
        if add.opType == "Add", let e = add.inputs.compactMap({ ctx.scalar($0) }).first,
           let other = add.inputs.first(where: { !$0.isEmpty && ctx.isVariable($0) }) {
            eps = e
            meanTensor = other
        }
        guard eps >= 0, let mean = ctx.producer(meanTensor), mean.opType == "ReduceMean", let sq = mean.input(0),
              let square = ctx.producer(sq), let base = squaredOperand(square, ctx) else { return nil }
        let axes = mean.ints("axes") ?? ctx.constant(mean.input(1))?.int64s().map { Int($0) }
        // LayerNorm: base = num = x − ReduceMean(x) over the same axes; RMSNorm: base = num = x.
        guard base == num, let nb = ctx.bounds(num), let axesList = axes else { return nil }
        let r = nb.shape.count
        let norm = Set(axesList.compactMap { Shapes.axis($0, rank: r) })
        guard !norm.isEmpty, norm == Set((r - norm.count)..<r) else { return nil }  // trailing axes
        let k = norm.map { nb.shape[$0] }.reduce(1, *)
        let slices = nb.count / max(k, 1)
        var centered = false
        var x = num
        if let sub = ctx.producer(num), sub.opType == "Sub", let x0 = sub.input(0), let mu = sub.input(1),
           let m2 = ctx.producer(mu), m2.opType == "ReduceMean", m2.input(0) == x0 {
            centered = true
            x = x0
        }
        guard let xb = ctx.bounds(x), xb.count == nb.count else { return nil }
        var worst = 0.0
        for s in 0..<slices {
            let range = (s * k)..<((s + 1) * k)
            let v: Double
            if centered {
                v = VarianceBound.lower(lo: xb.lo[range].map(Double.init), hi: xb.hi[range].map(Double.init))
            } else {
                v = range.reduce(0.0) { $0 + xb.minMagnitude($1) * xb.minMagnitude($1) } / Double(k) * (1 - Double(k + 4) * 0x1p-52)
            }
            guard v + eps > 0 else { return nil }
            worst = max(worst, 1 / (v + eps).squareRoot())
        }
        return NodeRule(terms: [.init(x, ModePair((worst * (1 + 1e-12)).nextUp))],
                        reason: "\(centered ? "LayerNorm" : "RMSNorm") pattern on the domain: 1/√(\(centered ? "var" : "mean-square")_lower + ε)")
    }

    /// `a` when `n` is Pow(a, 2) or Mul(a, a).
    static func squaredOperand(_ n: Node, _ ctx: GraphContext) -> String? {
        if n.opType == "Pow", ctx.scalar(n.input(1)) == 2 { return n.input(0) }
        if n.opType == "Mul", let a = n.input(0), n.input(1) == a { return a }
        return nil
    }

    /// Softmax with bounds on its output p: per slice the Jacobian diag(p) − ppᵀ has
    /// λ_max ≤ min(½, max_i p_i, 2·max_i p_i(1 − p_i)) (Popoviciu; J ≼ diag(p); the pairwise
    /// variance form).
    static func softmaxOnDomain(_ n: Node, _ x: String, _ ctx: GraphContext) -> NodeRule? {
        guard let out = n.outputs.first, let p = ctx.bounds(out), let s = ctx.shape(x),
              let a = Shapes.axis(n.int("axis") ?? -1, rank: s.count), p.count == s.reduce(1, *) else { return nil }
        let k = s[a], inner = s[(a + 1)...].reduce(1, *), outer = s[..<a].reduce(1, *)
        var worst = 0.0
        for o in 0..<outer {
            for i in 0..<inner {
                var maxHi = 0.0, maxVar = 0.0
                for j in 0..<k {
                    let idx = (o * k + j) * inner + i
                    let lo = Double(max(p.lo[idx], 0)), hi = Double(min(p.hi[idx], 1))
                    maxHi = max(maxHi, hi)
                    let q = (lo <= 0.5 && hi >= 0.5) ? 0.25 : max(lo * (1 - lo), hi * (1 - hi))
                    maxVar = max(maxVar, q)
                }
                worst = max(worst, min(0.5, maxHi, 2 * maxVar))
            }
        }
        return .lipschitz(x, (worst * (1 + 1e-12)).nextUp, "Softmax on the domain: min(½, max p, 2·max p(1−p))")
    }
}
