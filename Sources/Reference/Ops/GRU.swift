import ONNX

/// GRU (layout 0; see Recurrent.swift for shapes and sequence_lens). Gates in W/R/B order
/// z, r, h; activations f, g (default Sigmoid, Tanh per direction); `clip` bounds the gate
/// pre-activations. Per step, with Xₜ·Wₓᵀ + Wbₓ the input projections:
///   z = f(clip(Xₜ·W_zᵀ + Hₜ₋₁·R_zᵀ + Wb_z + Rb_z)), r = f(clip(… r …)),
///   linear_before_reset = 0: h̃ = g(clip(Xₜ·W_hᵀ + (r⊙Hₜ₋₁)·R_hᵀ + Rb_h + Wb_h)),
///   linear_before_reset = 1: h̃ = g(clip(Xₜ·W_hᵀ + r⊙(Hₜ₋₁·R_hᵀ + Rb_h) + Wb_h)),
///   Hₜ = (1 − z)⊙h̃ + z⊙Hₜ₋₁.
/// Outputs Y, Y_h. VJP per step: dz = dH⊙(Hₜ₋₁ − h̃)·f′, da_h = dH⊙(1 − z)·g′; with q =
/// Hₜ₋₁·R_hᵀ + Rb_h (lbr 1): dr = da_h⊙q·f′, dHₜ₋₁ gets (da_h⊙r)·R_h; lbr 0: u = da_h·R_h,
/// dr = u⊙Hₜ₋₁·f′, dHₜ₋₁ gets u⊙r; always dHₜ₋₁ += dH⊙z + [dz, dr]·[R_z; R_r]; dX = da·W.
struct GRUCell: RecurrentCell {
    /// R's z and r rows (2H × H), its h rows (H × H), and Rb.
    let rzr: [Float], rh: [Float], rb: [Float]
    let acts: [RNNActivation]
    let clip: Float
    let linearBeforeReset: Bool
    let hidden: Int
    var gates: Int { 3 }
    var hasCell: Bool { false }

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0), w = try c.shape(1)
        let reverse = try c.recurrentDirections()
        let d = reverse.count
        guard x.count == 3, w.count == 3, w[0] == d, w[2] == x[2], w[1] % 3 == 0 else { throw c.fail("X \(x) and W \(w) do not fit") }
        let h = c.node.int("hidden_size") ?? w[1] / 3
        guard h >= 1, w[1] == 3 * h else { throw c.fail("W \(w) does not hold 3 × hidden_size \(h) rows") }
        guard let wv = try c.perDirection(1, d, each: 3 * h * x[2]), let rv = try c.perDirection(2, d, each: 3 * h * h) else {
            throw c.fail("missing W or R")
        }
        try c.checkRecurrentStates(d: d, b: x[1], h: h)
        let bias = try c.perDirection(3, d, each: 6 * h)
        let acts = try RNNActivation.parse(c, defaults: ["Sigmoid", "Tanh"], directions: d)
        let cells = (0..<d).map { k in
            GRUCell(rzr: Array(rv[k][..<(2 * h * h)]), rh: Array(rv[k][(2 * h * h)...]),
                    rb: bias.map { Array($0[k][(3 * h)...]) } ?? .zeros(3 * h), acts: acts[k], clip: c.node.float("clip") ?? 0,
                    linearBeforeReset: (c.node.int("linear_before_reset") ?? 0) != 0, hidden: h)
        }
        return RecurrentKernel(cells: cells, reverse: reverse, t: x[0], b: x[1], i: x[2], h: h, w: wv,
                               wb: (0..<d).map { k in bias.map { Array($0[k][..<(3 * h)]) } ?? .zeros(3 * h) })
    }

    @inline(__always)
    func gate(_ raw: Float, _ a: RNNActivation) -> (value: Float, slope: Float) {
        let (v, inside) = clipped(raw, clip)
        return (a.value(v), inside ? a.derivative(v) : 0)
    }

    func step(_ xw: [Float], h: [Float], c: [Float], batch: Int, dir: Int) -> (h: [Float], c: [Float], saved: [Float]) {
        let n = hidden
        var zr = [Float](repeating: 0, count: batch * 2 * n), q = [Float](repeating: 0, count: batch * n)
        matmul(h, rzr, m: batch, n: 2 * n, k: n, transB: true, into: &zr)
        var saved = [Float](repeating: 0, count: batch * 5 * n)
        var rgate = [Float](repeating: 0, count: batch * n)
        for e in 0..<batch {
            for j in 0..<n {
                let s = e * 5 * n
                saved[s + j] = xw[e * 3 * n + j] + zr[e * 2 * n + j] + rb[j]
                saved[s + n + j] = xw[e * 3 * n + n + j] + zr[e * 2 * n + n + j] + rb[n + j]
                rgate[e * n + j] = gate(saved[s + n + j], acts[0]).value
                saved[s + 4 * n + j] = h[e * n + j]
            }
        }
        if linearBeforeReset {
            matmul(h, rh, m: batch, n: n, k: n, transB: true, into: &q)
        } else {
            var rhp = rgate
            for k in rhp.indices { rhp[k] *= h[k] }
            matmul(rhp, rh, m: batch, n: n, k: n, transB: true, into: &q)
        }
        var hn = [Float](repeating: 0, count: batch * n)
        for e in 0..<batch {
            for j in 0..<n {
                let s = e * 5 * n, k = e * n + j
                let qv = q[k] + rb[2 * n + j]
                saved[s + 3 * n + j] = qv
                saved[s + 2 * n + j] = xw[e * 3 * n + 2 * n + j] + (linearBeforeReset ? rgate[k] * qv : qv)
                let z = gate(saved[s + j], acts[0]).value
                hn[k] = (1 - z) * gate(saved[s + 2 * n + j], acts[1]).value + z * h[k]
            }
        }
        return (hn, [], saved)
    }

    func back(_ saved: [Float], dh: [Float], dc: [Float], batch: Int, rows: Int, dir: Int) -> (dxw: [Float], dh: [Float], dc: [Float]) {
        let n = hidden, m = rows * batch
        var da = [Float](repeating: 0, count: m * 3 * n)
        var dhp = [Float](repeating: 0, count: m * n)
        var dHin = [Float](repeating: 0, count: m * n)  // cotangent entering through R_h
        for e in 0..<batch {
            for j in 0..<n {
                let s = e * 5 * n
                let (z, sz) = gate(saved[s + j], acts[0]), (ht, sh) = gate(saved[s + 2 * n + j], acts[1])
                let (rg, _) = gate(saved[s + n + j], acts[0])
                let hp = saved[s + 4 * n + j]
                for r in 0..<rows {
                    let q = (r * batch + e) * n + j, a = (r * batch + e) * 3 * n
                    da[a + j] = dh[q] * (hp - ht) * sz
                    da[a + 2 * n + j] = dh[q] * (1 - z) * sh
                    dhp[q] = dh[q] * z
                    if linearBeforeReset { dHin[q] = da[a + 2 * n + j] * rg }
                }
            }
        }
        if !linearBeforeReset {
            // u = da_h·R_h: the cotangent of r⊙Hₜ₋₁.
            var dah = [Float](repeating: 0, count: m * n)
            for k in 0..<m { for j in 0..<n { dah[k * n + j] = da[k * 3 * n + 2 * n + j] } }
            matmul(dah, rh, m: m, n: n, k: n, transB: false, into: &dHin)
        }
        for e in 0..<batch {
            for j in 0..<n {
                let s = e * 5 * n
                let (rg, sr) = gate(saved[s + n + j], acts[0])
                let hp = saved[s + 4 * n + j], qv = saved[s + 3 * n + j]
                for r in 0..<rows {
                    let q = (r * batch + e) * n + j, a = (r * batch + e) * 3 * n
                    if linearBeforeReset {
                        da[a + n + j] = da[a + 2 * n + j] * qv * sr
                    } else {
                        da[a + n + j] = dHin[q] * hp * sr
                        dhp[q] += dHin[q] * rg
                    }
                }
            }
        }
        if linearBeforeReset { matmul(dHin, rh, m: m, n: n, k: n, transB: false, into: &dhp, accumulate: true) }
        var dzr = [Float](repeating: 0, count: m * 2 * n)
        for k in 0..<m { for j in 0..<(2 * n) { dzr[k * 2 * n + j] = da[k * 3 * n + j] } }
        matmul(dzr, rzr, m: m, n: n, k: 2 * n, transB: false, into: &dhp, accumulate: true)
        return (da, dhp, [])
    }
}
