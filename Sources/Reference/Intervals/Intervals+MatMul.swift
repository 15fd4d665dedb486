import Foundation
import Linalg
import ONNX
import Sensitivity

/// Gemm and MatMul.
/// - **One constant operand** (a fully connected layer): the centre–radius enclosure of
///   ``CentreRadius`` with BLAS sgemm for W·c and |W|·s, K = the inner dimension; |W| is
///   formed in row blocks of at most 2²² floats, so a 100 M-weight layer needs no second copy.
///   Gemm's α scales centre and radius, β·C is added as an interval.
/// - **Two bounded operands** (attention's QKᵀ and P·V): with A ∈ A_c ± A_r, B ∈ B_c ± B_r,
///   AB − A_cB_c = A_c(B − B_c) + (A − A_c)B_c + (A − A_c)(B − B_c), so
///   |AB − fl(A_cB_c)| ≤ |A_c|·B_r + A_r·|B_c| + A_r·B_r + γ_K|A_c||B_c|
///                    = |A_c|·(B_r + γ_K|B_c|) + A_r·(|B_c| + B_r),
///   two non-negative sgemms rounded as in ``CentreRadius`` (batched, with broadcasting).
///   An output that reads an infinite bound through a factor that is not exactly 0 is
///   unbounded.
enum MatMulRules {
    static let rules: [String: IntervalRule] = ["Gemm": gemm, "MatMul": matmul]

    /// Y (m×n) = X·op(W) (`left`: X is m×k) or op(W)·X (X is k×n) with the constant W stored
    /// row-major as `rows × cols` and op = transpose when `trans`; |W| when `absolute`.
    static func product(_ w: Tensor, rows: Int, cols: Int, trans: Bool, left: Bool, absolute: Bool,
                        _ x: [Float], m: Int, k: Int, n: Int) -> [Float] {
        var y = [Float](repeating: 0, count: m * n)
        guard m > 0, n > 0, k > 0 else { return y }
        let block = max(1, (1 << 22) / max(cols, 1))
        w.withFloats { wp in
            guard let wb = wp.baseAddress else { return }
            var buffer = [Float](repeating: 0, count: absolute ? min(block, rows) * cols : 0)
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    buffer.withUnsafeMutableBufferPointer { bp in
                        guard let xb = xp.baseAddress, let yb = yp.baseAddress else { return }
                        var r0 = 0
                        while r0 < rows {
                            let r1 = min(rows, r0 + block), h = r1 - r0
                            var s = wb + r0 * cols
                            if absolute, let bb = bp.baseAddress {
                                for i in 0..<(h * cols) { bb[i] = abs(s[i]) }
                                s = UnsafePointer(bb)
                            }
                            switch (left, trans) {
                            case (true, false):   // W is k×n, rows = inner index
                                BLAS.sgemm(transA: false, transB: false, m: m, n: n, k: h, alpha: 1, a: xb + r0, lda: k,
                                           b: s, ldb: n, beta: 1, c: yb, ldc: n)
                            case (true, true):    // W is n×k, rows = output columns
                                BLAS.sgemm(transA: false, transB: true, m: m, n: h, k: k, alpha: 1, a: xb, lda: k,
                                           b: s, ldb: k, beta: 0, c: yb + r0, ldc: n)
                            case (false, false):  // W is m×k, rows = output rows
                                BLAS.sgemm(transA: false, transB: false, m: h, n: n, k: k, alpha: 1, a: s, lda: k,
                                           b: xb, ldb: n, beta: 0, c: yb + r0 * n, ldc: n)
                            case (false, true):   // W is k×m, rows = inner index
                                BLAS.sgemm(transA: true, transB: false, m: m, n: n, k: h, alpha: 1, a: s, lda: m,
                                           b: xb + r0 * n, ldb: n, beta: 1, c: yb, ldc: n)
                            }
                            r0 = r1
                        }
                    }
                }
            }
        }
        return y
    }

    /// y = op(X)·op(W) or op(W)·op(X) for bounds X and a constant 2-D W, plus a bias.
    static func constantProduct(_ x: TensorBounds, transX: Bool, _ w: Tensor, transW: Bool, left: Bool,
                                m: Int, k: Int, n: Int, shape: [Int], alpha: Double = 1,
                                bias: (Int) -> Interval = { _ in Interval(point: 0) }) -> TensorBounds {
        let items = x.count / max(left ? m * k : k * n, 1)
        var xb = x
        if transX { xb = transpose(x, rows: left ? k : n, cols: left ? m : k) }
        let cr = CentreRadius(xb, terms: k)
        // A 1-D weight is a row (k) on the left of MatMul and a column (k×1) on its right.
        let (rows, cols) = w.dims.count == 2 ? (w.dims[0], w.dims[1]) : (left ? (w.count, 1) : (1, w.count))
        // X (items·m)×k on the left; on the right one product per batch item.
        func apply(_ v: [Float], _ absolute: Bool) -> [Float] {
            if left { return product(w, rows: rows, cols: cols, trans: transW, left: true, absolute: absolute, v, m: m * items, k: k, n: n) }
            var out: [Float] = []
            out.reserveCapacity(items * m * n)
            for i in 0..<items {
                out += product(w, rows: rows, cols: cols, trans: transW, left: false, absolute: absolute,
                               Array(v[(i * k * n)..<((i + 1) * k * n)]), m: m, k: k, n: n)
            }
            return out
        }
        let yc = apply(cr.c, false), q = apply(cr.s, true)
        let mask = cr.infinite.map { apply($0, true) }
        return cr.bounds(shape: shape, yc: yc, q: q, mask: mask, alpha: alpha, bias: bias)
    }

    static func transpose(_ x: TensorBounds, rows: Int, cols: Int) -> TensorBounds {
        var lo = x.lo, hi = x.hi
        for i in 0..<rows { for j in 0..<cols { lo[j * rows + i] = x.lo[i * cols + j]; hi[j * rows + i] = x.hi[i * cols + j] } }
        return TensorBounds(shape: [cols, rows], lo: lo, hi: hi)
    }

    /// Gemm: Y = α·op(A)·op(B) + β·C.
    static let gemm: IntervalRule = { c throws(ReferenceError) in
        guard let a = c.shape(0), let b = c.shape(1), a.count == 2, b.count == 2 else { return [] }
        let ta = c.node.int("transA") == 1, tb = c.node.int("transB") == 1
        let (m, k) = ta ? (a[1], a[0]) : (a[0], a[1])
        let (kb, n) = tb ? (b[1], b[0]) : (b[0], b[1])
        guard k == kb else { throw c.fail("inner dimensions differ: A \(a), B \(b)") }
        let alpha = Double(c.node.float("alpha") ?? 1), beta = Double(c.node.float("beta") ?? 1)
        var bias: (Int) -> Interval = { _ in Interval(point: 0) }
        if c.has(2) {
            guard let cb = c.bounds(2), let s = Shapes.broadcast(cb.shape, [m, n]), s == [m, n] else { return [] }
            let table = IndexTable.broadcast(cb.shape, to: [m, n])
            bias = { i in cb.interval(Int(table[i])).scaled(beta) }
        }
        if let w = c.constant(1), let x = c.evaluated[0] {
            return [constantProduct(x, transX: ta, w, transW: tb, left: true, m: m, k: k, n: n, shape: [m, n], alpha: alpha, bias: bias)]
        }
        if let w = c.constant(0), let x = c.evaluated[1] {
            return [constantProduct(x, transX: tb, w, transW: ta, left: false, m: m, k: k, n: n, shape: [m, n], alpha: alpha, bias: bias)]
        }
        guard var x = c.bounds(0), var y = c.bounds(1) else { return [] }
        if ta { x = transpose(x, rows: k, cols: m) }
        if tb { y = transpose(y, rows: n, cols: k) }
        return [Bilinear.product(x, y, items: [(0, 0, 0)], m: m, k: k, n: n, shape: [m, n], alpha: alpha, bias: bias)]
    }

    /// MatMul with numpy semantics (1-D operands promoted, batch dimensions broadcast).
    static let matmul: IntervalRule = { c throws(ReferenceError) in
        guard let a0 = c.shape(0), let b0 = c.shape(1), !a0.isEmpty, !b0.isEmpty else { return [] }
        let l = try MatMulLayout.make(a0, b0).get(c.fail)
        let (m, k, n, ba, bb, batch, shape) = (l.m, l.k, l.n, l.batchA, l.batchB, l.batch, l.shape)
        if let w = c.constant(1), bb.isEmpty, let x = c.evaluated[0], ba == batch {
            return [constantProduct(x, transX: false, w, transW: false, left: true, m: m, k: k, n: n, shape: shape)]
        }
        if let w = c.constant(0), ba.isEmpty, let x = c.evaluated[1], bb == batch {
            return [constantProduct(x, transX: false, w, transW: false, left: false, m: m, k: k, n: n, shape: shape)]
        }
        guard let x = c.bounds(0), let y = c.bounds(1) else { return [] }
        let ta = IndexTable.broadcast(ba, to: batch), tb = IndexTable.broadcast(bb, to: batch)
        let items = ta.indices.map { (Int(ta[$0]) * m * k, Int(tb[$0]) * k * n, $0 * m * n) }
        return [Bilinear.product(x, y, items: items, m: m, k: k, n: n, shape: shape)]
    }
}
