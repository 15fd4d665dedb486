import ONNX

/// LSTM (layout 0; see Recurrent.swift for shapes and sequence_lens). Gates in W/R/B order
/// i, o, f, c; activations f, g, h (default Sigmoid, Tanh, Tanh per direction); peepholes
/// P = [p_i, p_o, p_f]; `clip` bounds the gate pre-activations; `input_forget` = 1 couples
/// f = 1 − i. Per step, with zₓ = Xₜ·Wₓᵀ + Hₜ₋₁·Rₓᵀ + Wbₓ + Rbₓ:
///   i = f(clip(z_i + p_i⊙Cₜ₋₁)), f = f(clip(z_f + p_f⊙Cₜ₋₁)), c̃ = g(clip(z_c)),
///   Cₜ = f⊙Cₜ₋₁ + i⊙c̃, o = f(clip(z_o + p_o⊙Cₜ)), Hₜ = o⊙h(Cₜ).
/// Outputs Y, Y_h, Y_c. VJP (per step, the driver does the rest):
///   dC = dc + dh⊙o⊙h′(C); dz_o = dh⊙h(C)⊙f′·[inside clip], dC += dz_o⊙p_o;
///   dz_i = dC⊙c̃⊙f′, dz_f = dC⊙Cₜ₋₁⊙f′ (input_forget: dz_i gets −dC⊙Cₜ₋₁ instead),
///   dz_c = dC⊙i⊙g′; dCₜ₋₁ = dC⊙f + dz_i⊙p_i + dz_f⊙p_f; dHₜ₋₁ = dz·R; dX = dz·W.
struct LSTMCell: RecurrentCell {
    let r: [Float], rb: [Float], p: [Float]?
    let acts: [RNNActivation]
    let clip: Float
    let inputForget: Bool
    let hidden: Int
    var gates: Int { 4 }
    var hasCell: Bool { true }

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0), w = try c.shape(1)
        let reverse = try c.recurrentDirections()
        let d = reverse.count
        guard x.count == 3, w.count == 3, w[0] == d, w[2] == x[2], w[1] % 4 == 0 else { throw c.fail("X \(x) and W \(w) do not fit") }
        let h = c.node.int("hidden_size") ?? w[1] / 4
        guard h >= 1, w[1] == 4 * h else { throw c.fail("W \(w) does not hold 4 × hidden_size \(h) rows") }
        guard let wv = try c.perDirection(1, d, each: 4 * h * x[2]), let rv = try c.perDirection(2, d, each: 4 * h * h) else {
            throw c.fail("missing W or R")
        }
        return try build(c, x: x, h: h, reverse: reverse, w: wv, r: rv)
    }

    /// The kernel for per-direction W (4H × I) and R (4H × H), the rest from the node.
    static func build(_ c: KernelContext, x: [Int], h: Int, reverse: [Bool], w: [[Float]], r: [[Float]],
                      peepholes: Int = 7) throws(ReferenceError) -> RecurrentKernel {
        let d = reverse.count
        try c.checkRecurrentStates(d: d, b: x[1], h: h, cell: 6)
        let bias = try c.perDirection(3, d, each: 8 * h)
        let p = c.has(peepholes) ? try c.perDirection(peepholes, d, each: 3 * h) : nil
        let acts = try RNNActivation.parse(c, defaults: ["Sigmoid", "Tanh", "Tanh"], directions: d)
        let cells = (0..<d).map { k in
            LSTMCell(r: r[k], rb: bias.map { Array($0[k][(4 * h)...]) } ?? .zeros(4 * h), p: p?[k], acts: acts[k],
                     clip: c.node.float("clip") ?? 0, inputForget: c.node.int("input_forget") == 1, hidden: h)
        }
        return RecurrentKernel(cells: cells, reverse: reverse, t: x[0], b: x[1], i: x[2], h: h, w: w,
                               wb: (0..<d).map { k in bias.map { Array($0[k][..<(4 * h)]) } ?? .zeros(4 * h) })
    }

    /// Gate values from a saved record: pre-activations (clipped), activations.
    @inline(__always)
    func gate(_ raw: Float, _ a: RNNActivation) -> (value: Float, slope: Float) {
        let (v, inside) = clipped(raw, clip)
        return (a.value(v), inside ? a.derivative(v) : 0)
    }

    func step(_ xw: [Float], h: [Float], c: [Float], batch: Int, dir: Int) -> (h: [Float], c: [Float], saved: [Float]) {
        let n = hidden
        var pre = xw
        matmul(h, r, m: batch, n: 4 * n, k: n, transB: true, into: &pre, accumulate: true)
        var hn = [Float](repeating: 0, count: batch * n), cn = hn
        var saved = [Float](repeating: 0, count: batch * 6 * n)
        for e in 0..<batch {
            for j in 0..<n {
                let z = e * 4 * n, cp = c[e * n + j]
                let ri = pre[z + j] + rb[j] + (p?[j] ?? 0) * cp
                let rf = pre[z + 2 * n + j] + rb[2 * n + j] + (p?[2 * n + j] ?? 0) * cp
                let rc = pre[z + 3 * n + j] + rb[3 * n + j]
                let i = gate(ri, acts[0]).value
                let f = inputForget ? 1 - i : gate(rf, acts[0]).value
                let cell = f * cp + i * gate(rc, acts[1]).value
                let ro = pre[z + n + j] + rb[n + j] + (p?[n + j] ?? 0) * cell
                hn[e * n + j] = gate(ro, acts[0]).value * acts[2].value(cell)
                cn[e * n + j] = cell
                let s = e * 6 * n
                saved[s + j] = ri; saved[s + n + j] = ro; saved[s + 2 * n + j] = rf; saved[s + 3 * n + j] = rc
                saved[s + 4 * n + j] = cp; saved[s + 5 * n + j] = cell
            }
        }
        return (hn, cn, saved)
    }

    func back(_ saved: [Float], dh: [Float], dc: [Float], batch: Int, rows: Int, dir: Int) -> (dxw: [Float], dh: [Float], dc: [Float]) {
        let n = hidden
        var dz = [Float](repeating: 0, count: rows * batch * 4 * n)
        var dcp = [Float](repeating: 0, count: rows * batch * n)
        for e in 0..<batch {
            for j in 0..<n {
                let s = e * 6 * n
                let (i, si) = gate(saved[s + j], acts[0]), (o, so) = gate(saved[s + n + j], acts[0])
                let (fv, sf) = gate(saved[s + 2 * n + j], acts[0]), (cc, sc) = gate(saved[s + 3 * n + j], acts[1])
                let f = inputForget ? 1 - i : fv
                let cp = saved[s + 4 * n + j], cell = saved[s + 5 * n + j]
                let hc = acts[2].value(cell), hd = acts[2].derivative(cell)
                for r in 0..<rows {
                    let q = (r * batch + e) * n + j, z = (r * batch + e) * 4 * n
                    let dzo = dh[q] * hc * so
                    let dC = dc[q] + dh[q] * o * hd + dzo * (p?[n + j] ?? 0)
                    var dI = dC * cc
                    let dF = dC * cp
                    var dzf: Float = 0
                    if inputForget { dI -= dF } else { dzf = dF * sf }
                    let dzi = dI * si
                    dz[z + j] = dzi; dz[z + n + j] = dzo; dz[z + 2 * n + j] = dzf; dz[z + 3 * n + j] = dC * i * sc
                    dcp[q] = dC * f + dzi * (p?[j] ?? 0) + dzf * (p?[2 * n + j] ?? 0)
                }
            }
        }
        var dhp = [Float](repeating: 0, count: rows * batch * n)
        matmul(dz, r, m: rows * batch, n: n, k: 4 * n, transB: false, into: &dhp)
        return (dz, dhp, dcp)
    }
}
