import ONNX

/// com.microsoft DynamicQuantizeLSTM(X, W, R, B, sequence_lens, initial_h, initial_c, P,
/// W_scale, W_zero_point, R_scale, R_zero_point): the LSTM of ``LSTMCell`` with INT8/UINT8
/// weights stored transposed, W (D, I, 4H) and R (D, H, 4H), dequantized per direction
/// (scale and zero point of shape (D), or (D, 4H) per column), and X and the previous h
/// quantized dynamically to UINT8 (as DynamicQuantizeLinear) before their products, X once
/// for the whole sequence and h at every step — onnxruntime's arithmetic, whose rounding a
/// float evaluation can flip (hence the cases' loose tolerance). VJP: ``LSTMCell``'s,
/// straight through the dynamic quantization.
enum DynamicQuantizeLSTM {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0), w = try c.shape(1), r = try c.shape(2)
        let reverse = try c.recurrentDirections()
        let d = reverse.count
        guard x.count == 3, w.count == 3, r.count == 3, w[0] == d, w[1] == x[2], w[2] % 4 == 0, r[2] == w[2] else {
            throw c.fail("X \(x), W \(w) and R \(r) do not fit")
        }
        let h = c.node.int("hidden_size") ?? w[2] / 4
        guard w[2] == 4 * h, r[1] == h else { throw c.fail("W \(w) and R \(r) do not hold 4 × hidden_size \(h) columns") }
        let wq = try transposed(c, value: 1, scale: 8, zero: 9, d: d, rows: x[2], cols: 4 * h)
        let rq = try transposed(c, value: 2, scale: 10, zero: 11, d: d, rows: h, cols: 4 * h)
        var kernel = try LSTMCell.build(c, x: x, h: h, reverse: reverse, w: wq, r: rq)
        kernel.quantizeX = true
        kernel.quantizeH = true
        return kernel
    }

    /// Per direction, the dequantized (rows × cols) matrix transposed to cols × rows.
    static func transposed(_ c: KernelContext, value: Int, scale: Int, zero: Int, d: Int, rows: Int, cols: Int) throws(ReferenceError) -> [[Float]] {
        guard let q = try c.constantFloats(value), let s = try c.constantFloats(scale) else {
            throw c.fail("input \(value) and its scale must be constants")
        }
        let z = try c.constantFloats(zero) ?? [0]
        guard q.count == d * rows * cols, s.count == d || s.count == d * cols, z.count == 1 || z.count == s.count else {
            throw c.fail("input \(value): scale (\(s.count)) or zero point (\(z.count)) do not fit \(d) direction(s) of \(rows) × \(cols)")
        }
        return (0..<d).map { k in
            var out = [Float](repeating: 0, count: rows * cols)
            for i in 0..<rows {
                for j in 0..<cols {
                    let p = s.count == d ? k : k * cols + j
                    out[j * rows + i] = (q[(k * rows + i) * cols + j] - z[z.count == 1 ? 0 : p]) * s[p]
                }
            }
            return out
        }
    }
}
