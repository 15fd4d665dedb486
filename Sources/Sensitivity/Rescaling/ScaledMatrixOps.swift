import Foundation
import Linalg
import ONNX

/// Numerical work on one scaled weight matrix W̃ = D_row·W·D_col (``ChannelScaling/ScaledMatrix``)
/// without copying W: products go through `sgemv` with the scalings applied to the vectors.
/// Used only to steer the choice of D; the reported norms of the chosen D are computed on a
/// materialised copy by the same path as every other layer (``WeightLayer/computeNorms``).
final class ScaledMatrixState: @unchecked Sendable {
    let m: ChannelScaling.ScaledMatrix
    let data: FloatBuffer
    /// Singular triplets kept per block (subspace iteration).
    static let pairs = 3
    /// Per block, the current right singular vectors (cols × k row-major; warm start).
    var v: [[Float]]
    /// Results of the last ``power(ld:iterations:tolerance:)``: per block, the top k singular
    /// value estimates and their left (rows × k) and right (cols × k) vectors.
    var sigmas: [[Double]] = []
    var us: [[Float]] = []
    var sigma = 0.0

    init(_ m: ChannelScaling.ScaledMatrix, weight: Tensor) {
        self.m = m
        data = weight.stableFloats()
        var state: UInt64 = 0x9E37_79B9 &+ UInt64(m.layer)
        let k = min(Self.pairs, m.rows, m.cols)
        v = (0..<m.blocks).map { _ in
            var x = (0..<(m.cols * k)).map { _ in Float(Double(SplitMix64.next(&state) >> 11) / Double(1 << 53)) - 0.5 }
            _ = Self.orthonormalise(&x, rows: m.cols, k: k)
            return x
        }
    }

    /// Modified Gram–Schmidt on the k columns of a rows × k row-major matrix; their norms before
    /// normalisation (a zero column stays zero).
    static func orthonormalise(_ a: inout [Float], rows: Int, k: Int) -> [Double] {
        var norms = [Double](repeating: 0, count: k)
        for j in 0..<k {
            for i in 0..<j {
                var dot = 0.0
                for r in 0..<rows { dot += Double(a[r * k + i]) * Double(a[r * k + j]) }
                for r in 0..<rows { a[r * k + j] -= Float(dot) * a[r * k + i] }
            }
            var n = 0.0
            for r in 0..<rows { n += Double(a[r * k + j]) * Double(a[r * k + j]) }
            n = n.squareRoot()
            norms[j] = n
            if n > 0, n.isFinite { for r in 0..<rows { a[r * k + j] = Float(Double(a[r * k + j]) / n) } }
        }
        return norms
    }

    func scales(_ ld: [Double], block b: Int) -> (row: [Float], col: [Float]) {
        let row = (0..<m.rows).map { Float(Foundation.exp(m.rowSign * ld[m.rowVars[b * m.rows + $0]])) }
        let col = (0..<m.cols).map { Float(Foundation.exp(m.colSign * ld[m.colVars[b * m.cols + $0]])) }
        return (row, col)
    }

    /// The top k singular values of W̃ per block by subspace iteration on W̃ᵀW̃ from the previous
    /// vectors, with their singular vectors for the gradient; `sigma` = the largest.
    func power(ld: [Double], iterations: Int, tolerance: Double) {
        sigmas = []; us = []
        guard let base = data.pointer.baseAddress, m.rows > 0, m.cols > 0 else { sigma = 0; return }
        let k = min(Self.pairs, m.rows, m.cols)
        var top = 0.0
        for b in 0..<m.blocks {
            let (rs, cs) = scales(ld, block: b)
            let p = base + b * m.rows * m.cols
            var x = v[b]
            var y = [Float](repeating: 0, count: m.rows * k)
            var xs = [Float](repeating: 0, count: m.cols * k)
            var s = [Double](repeating: 0, count: k)
            var last = [Double](repeating: -1, count: k)
            for _ in 0..<max(1, iterations) {
                for i in 0..<m.cols { for j in 0..<k { xs[i * k + j] = x[i * k + j] * cs[i] } }
                xs.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
                    guard let xb = xp.baseAddress, let yb = yp.baseAddress else { return }
                    BLAS.sgemm(transA: false, transB: false, m: m.rows, n: k, k: m.cols, alpha: 1, a: p, lda: m.cols,
                               b: xb, ldb: k, beta: 0, c: yb, ldc: k)
                } }
                for r in 0..<m.rows { for j in 0..<k { y[r * k + j] *= rs[r] } }
                _ = Self.orthonormalise(&y, rows: m.rows, k: k)
                var z = y
                for r in 0..<m.rows { for j in 0..<k { z[r * k + j] *= rs[r] } }
                z.withUnsafeBufferPointer { zp in x.withUnsafeMutableBufferPointer { xp in
                    guard let zb = zp.baseAddress, let xb = xp.baseAddress else { return }
                    BLAS.sgemm(transA: true, transB: false, m: m.cols, n: k, k: m.rows, alpha: 1, a: p, lda: m.cols,
                               b: zb, ldb: k, beta: 0, c: xb, ldc: k)
                } }
                for i in 0..<m.cols { for j in 0..<k { x[i * k + j] *= cs[i] } }
                s = Self.orthonormalise(&x, rows: m.cols, k: k)
                guard s[0].isFinite, s[0] > 0 else { break }
                // The top value settled to `tolerance`, the others (which only smooth the
                // gain) to 100·tolerance, relative to the top one.
                if abs(s[0] - last[0]) <= tolerance * s[0],
                   zip(s, last).allSatisfy({ abs($0 - $1) <= 100 * tolerance * s[0] }) { break }
                last = s
            }
            v[b] = x
            sigmas.append(s)
            us.append(y)
            top = max(top, s[0])
        }
        sigma = top
    }

    /// Per row and per column of every block, the largest |W̃| entry (the channel ranges of
    /// data-free quantization's equalisation).
    func ranges(ld: [Double]) -> (rows: [Double], cols: [Double]) {
        var rowMax = [Double](repeating: 0, count: m.blocks * m.rows)
        var colMax = [Double](repeating: 0, count: m.blocks * m.cols)
        let p = data.pointer
        for b in 0..<m.blocks {
            let (rs, cs) = scales(ld, block: b)
            for r in 0..<m.rows {
                let o = (b * m.rows + r) * m.cols
                var rm: Float = 0
                for c in 0..<m.cols {
                    let a = abs(p[o + c]) * cs[c]
                    rm = max(rm, a)
                    let full = Double(a * rs[r])
                    if full > colMax[b * m.cols + c] { colMax[b * m.cols + c] = full }
                }
                rowMax[b * m.rows + r] = Double(rm * rs[r])
            }
        }
        return (rowMax, colMax)
    }

    /// A copy of the weight scaled by D (the tensor whose norms are reported).
    func materialise(ld: [Double], like w: Tensor) -> Tensor {
        var out = [Float](repeating: 0, count: data.count)
        let p = data.pointer
        for b in 0..<m.blocks {
            let (rs, cs) = scales(ld, block: b)
            for r in 0..<m.rows {
                let o = (b * m.rows + r) * m.cols
                for c in 0..<m.cols { out[o + c] = p[o + c] * rs[r] * cs[c] }
            }
        }
        return Tensor(name: w.name, dims: w.dims, floats: out, storage: w.storage)
    }

    /// Whether D leaves this matrix unchanged.
    func isIdentity(_ ld: [Double]) -> Bool {
        m.rowVars.allSatisfy { ld[$0] == 0 } && m.colVars.allSatisfy { ld[$0] == 0 }
    }
}
