import Foundation
import Linalg
import ONNX
import Sensitivity

/// The centre–radius enclosure of a signed linear map evaluated in float32.
///
/// For y = W·x + b with x ∈ [lo, hi]: write [lo, hi] ⊂ [c − r, c + r] with float32 c and r
/// (``TensorBounds/centreRadius()``). Then, exactly, W·x ∈ W·c ± |W|·r. The float32 product
/// fl(W·c) (BLAS or im2col + sgemm: sums of K products in any order) is within γ_K·|W|·|c| of
/// W·c (``Outward/gamma(_:)``), so W·x ∈ fl(W·c) ± |W|·s with s = r + γ_K·|c| rounded up.
/// The float32 product Q = fl(|W|·s) of non-negative terms is ≥ (1 − γ_K)·|W|·s, and
/// 1/(1 − γ) ≤ 1 + 2γ for γ ≤ 1/2, so |W|·s ≤ Q·(1 + 2γ_K); operations that underflow (or are
/// flushed to zero) cost at most 2⁻¹²⁶ each, 2K per output and per product, hence
///
///     y ∈ fl(W·c) + b ± (Q·(1 + 2γ_K) + 8K·2⁻¹²⁶),
///
/// summed in Double and rounded outward (``Outward/enclose(_:_:)``). Inputs with an infinite
/// bound get c = r = 0, and every output that reads one with a non-zero weight is unbounded:
/// |W| applied to 2¹⁰⁰ at those inputs is positive exactly there (no product of a non-zero
/// float weight with 2¹⁰⁰ underflows).
struct CentreRadius {
    /// Terms per output.
    let terms: Int
    /// Centre, radius (with the γ term) and infinite-input mask of the operand.
    let c: [Float]
    let s: [Float]
    let infinite: [Float]?

    init(_ x: TensorBounds, terms: Int) {
        self.terms = terms
        let (c, r, inf) = x.centreRadius()
        self.c = c
        self.s = CentreRadius.radius(r, c, Outward.gamma(terms))
        self.infinite = inf.map { $0.map { $0 ? 0x1p100 : 0 } }
    }

    /// Bounds from the float32 centre image `yc`, the |W|-image of s `q`, the |W|-image of the
    /// infinite mask (nil when none), a bias per output and an optional scale α (Gemm).
    func bounds(shape: [Int], yc: [Float], q: [Float], mask: [Float]?, alpha: Double = 1,
                bias: (Int) -> Interval = { _ in Interval(point: 0) }) -> TensorBounds {
        CentreRadius.enclosure(terms: terms, shape: shape, yc: yc, q: q, mask: mask, alpha: alpha, bias: bias)
    }

    /// y ∈ α·fl(W·c) + bias ± |α|·(q·(1 + 2γ_K) + 8K·2⁻¹²⁶) per output, rounded outward.
    static func enclosure(terms: Int, shape: [Int], yc: [Float], q: [Float], mask: [Float]?, alpha: Double = 1,
                          bias: (Int) -> Interval = { _ in Interval(point: 0) }) -> TensorBounds {
        let g = Outward.gamma(terms)
        // Underflow: each of the K products and K − 1 sums of fl(W·c) and of Q may lose 2⁻¹²⁶
        // (with flush-to-zero): (Q + 2K·2⁻¹²⁶)(1 + 2γ) + 2K·2⁻¹²⁶ ≤ Q(1 + 2γ) + 6K·2⁻¹²⁶.
        let grow = 1 + 2 * g, floor = 4 * Double(terms) * Outward.tiny32
        let a = abs(alpha)
        return TensorBounds(shape: shape, count: yc.count) { i in
            if let mask, mask[i] != 0 || mask[i].isNaN { return .entire }
            // α·fl(W·c) is rounded once more: its error joins the radius.
            let centre = Double(yc[i]) * alpha
            let radius = (Double(q[i]) * grow + floor) * a * (1 + 0x1p-50) + abs(centre) * 0x1p-52
            let b = bias(i)
            guard radius.isFinite, centre.isFinite else { return .entire }
            let lo = Outward.enclose(centre + b.lo, radius).0, hi = Outward.enclose(centre + b.hi, radius).1
            return Interval(Double(lo), Double(hi))
        }
    }

    /// Combines two non-negative radius images (a bilinear product's |Ac|·S₁ + Ar·S₂).
    static func sum(_ a: [Float], _ b: [Float]) -> [Float] {
        var out = a
        for i in out.indices { out[i] = Outward.floatUp(Outward.addUp(Double(a[i]), Double(b[i]))) }
        return out
    }

    /// |v| elementwise.
    static func absolute(_ v: [Float]) -> [Float] { v.map { abs($0) } }
}

/// Conv and ConvTranspose with a constant weight: the centre–radius enclosure above with
/// Linalg's `ConvOperator` for W and for |W|, K = (C_in/g)·Πk terms per output (an upper bound
/// for the transposed map too); the bias (constant or bounded) is added as an interval.
enum ConvRules {
    static let rules: [String: IntervalRule] = ["Conv": { c throws(ReferenceError) in try conv(c, transposed: false) },
                                                "ConvTranspose": { c throws(ReferenceError) in try conv(c, transposed: true) }]

    static func conv(_ c: IntervalNode, transposed: Bool) throws(ReferenceError) -> [TensorBounds?] {
        guard let x = c.bounds(0), let w = c.constant(1) else { return [] }
        let s = x.shape
        guard s.count >= 3, w.dims.count == s.count else { throw c.fail("input \(s) and weight \(w.dims) do not fit") }
        let groups = c.node.int("group") ?? 1
        let g: WindowGeometry
        do {
            g = transposed
                ? try WindowGeometry.resolveTranspose(node: c.node, input: Array(s[2...]), kernel: Array(w.dims[2...]), path: "")
                : try WindowGeometry.resolve(node: c.node, input: Array(s[2...]), kernel: Array(w.dims[2...]), path: "")
        } catch { throw c.fail(error.localizedDescription) }
        let outChannels = transposed ? w.dims[1] * groups : w.dims[0]
        let geometry = ConvGeometry(inChannels: s[1], outChannels: outChannels, groups: groups, input: g.input,
                                    kernel: g.kernel, strides: g.strides, dilations: g.dilations,
                                    padsBegin: g.padsBegin, padsEnd: g.padsEnd, output: g.output, transposed: transposed)
        let shape = [s[0], outChannels] + g.output
        guard let count = Shapes.checkedProduct(shape) else { throw c.fail("output shape \(shape) overflows") }
        if count > Engine.maxElements { throw .tooLarge(tensor: c.node.outputs.first ?? c.name, elements: count) }
        var bias: TensorBounds? = nil
        if c.has(2) {
            guard let b = c.bounds(2), b.count == outChannels else { return [] }
            bias = b
        }
        let terms = max(1, s[1] / max(groups, 1)) * g.kernel.reduce(1, *)
        let cr = CentreRadius(x, terms: terms)
        let weights = w.stableFloats()
        let op: ConvOperator, absOp: ConvOperator
        do {
            op = try ConvOperator(geometry: geometry, weight: weights.pointer, owner: weights)
            absOp = try ConvOperator(geometry: geometry, copying: CentreRadius.absolute(Array(weights.pointer)))
        } catch { throw c.fail(error.localizedDescription) }
        let yc = op.apply(cr.c, batch: s[0])
        let q = absOp.apply(cr.s, batch: s[0])
        let mask = cr.infinite.map { absOp.apply($0, batch: s[0]) }
        let spatial = g.output.reduce(1, *)
        return [cr.bounds(shape: shape, yc: yc, q: q, mask: mask) { i in
            bias.map { $0.interval((i / spatial) % outChannels) } ?? Interval(point: 0)
        }]
    }
}

extension CentreRadius {
    /// r + γ·|c| per element, rounded up (γ = 1: |c| + r).
    static func radius(_ r: [Float], _ c: [Float], _ g: Double) -> [Float] {
        var out = r
        for i in out.indices { out[i] = Outward.floatUp(Outward.addUp(Double(r[i]), Outward.mulUp(g, Double(abs(c[i]))))) }
        return out
    }
}
