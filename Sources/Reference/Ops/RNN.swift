import ONNX

/// RNN (layout 0; see Recurrent.swift for shapes and sequence_lens): one gate, activation
/// f (default Tanh per direction), `clip` on the pre-activation:
///   Hₜ = f(clip(Xₜ·Wᵀ + Hₜ₋₁·Rᵀ + Wb + Rb)).
/// Outputs Y, Y_h. VJP per step: da = dH⊙f′(a)·[inside clip], dHₜ₋₁ = da·R, dX = da·W.
struct RNNCell: RecurrentCell {
    let r: [Float], rb: [Float]
    let act: RNNActivation
    let clip: Float
    let hidden: Int
    var gates: Int { 1 }
    var hasCell: Bool { false }

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0), w = try c.shape(1)
        let reverse = try c.recurrentDirections()
        let d = reverse.count
        guard x.count == 3, w.count == 3, w[0] == d, w[2] == x[2] else { throw c.fail("X \(x) and W \(w) do not fit") }
        let h = c.node.int("hidden_size") ?? w[1]
        guard h >= 1, w[1] == h else { throw c.fail("W \(w) does not hold hidden_size \(h) rows") }
        guard let wv = try c.perDirection(1, d, each: h * x[2]), let rv = try c.perDirection(2, d, each: h * h) else {
            throw c.fail("missing W or R")
        }
        try c.checkRecurrentStates(d: d, b: x[1], h: h)
        let bias = try c.perDirection(3, d, each: 2 * h)
        let acts = try RNNActivation.parse(c, defaults: ["Tanh"], directions: d)
        let cells = (0..<d).map { k in
            RNNCell(r: rv[k], rb: bias.map { Array($0[k][h...]) } ?? .zeros(h), act: acts[k][0],
                    clip: c.node.float("clip") ?? 0, hidden: h)
        }
        return RecurrentKernel(cells: cells, reverse: reverse, t: x[0], b: x[1], i: x[2], h: h, w: wv,
                               wb: (0..<d).map { k in bias.map { Array($0[k][..<h]) } ?? .zeros(h) })
    }

    func step(_ xw: [Float], h: [Float], c: [Float], batch: Int, dir: Int) -> (h: [Float], c: [Float], saved: [Float]) {
        var a = xw
        matmul(h, r, m: batch, n: hidden, k: hidden, transB: true, into: &a, accumulate: true)
        for e in 0..<batch { for j in 0..<hidden { a[e * hidden + j] += rb[j] } }
        return (a.map { act.value(clipped($0, clip).0) }, [], a)
    }

    func back(_ saved: [Float], dh: [Float], dc: [Float], batch: Int, rows: Int, dir: Int) -> (dxw: [Float], dh: [Float], dc: [Float]) {
        let n = batch * hidden
        let slope = saved.map { v -> Float in
            let (x, inside) = clipped(v, clip)
            return inside ? act.derivative(x) : 0
        }
        var da = dh
        for r in 0..<rows { for k in 0..<n { da[r * n + k] *= slope[k] } }
        var dhp = [Float](repeating: 0, count: rows * n)
        matmul(da, self.r, m: rows * batch, n: hidden, k: hidden, transB: false, into: &dhp)
        return (da, dhp, [])
    }
}
