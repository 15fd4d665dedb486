import Linalg
import ONNX

/// C[cOff…] = α·op(A)·op(B) + β·C on arrays at offsets (row-major, `BLAS.sgemm`).
func sgemm(_ transA: Bool, _ transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
           _ a: [Float], _ aOff: Int, lda: Int, _ b: [Float], _ bOff: Int, ldb: Int,
           beta: Float = 0, _ c: inout [Float], _ cOff: Int, ldc: Int) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        for i in 0..<m { for j in 0..<n { c[cOff + i * ldc + j] *= beta } }
        return
    }
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                guard let ab = pa.baseAddress, let bb = pb.baseAddress, let cb = pc.baseAddress else { return }
                BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: ab + aOff, lda: lda,
                           b: bb + bOff, ldb: ldb, beta: beta, c: cb + cOff, ldc: ldc)
            }
        }
    }
}

/// Gemm: Y = α·op(A)·op(B) + β·C, op = transpose when transA/transB, C broadcast to
/// (M, N). VJPs: dA = α·dY·op(B)ᵀ (transposed back when transA), dB = α·op(A)ᵀ·dY
/// (likewise), dC = β·dY summed over C's broadcast axes. With A computed and B constant
/// (a fully connected layer) the k cotangent rows go through one sgemm.
struct Gemm: Kernel {
    let m: Int, n: Int, k: Int
    let transA: Bool, transB: Bool
    let alpha: Float, beta: Float
    let tableC: [Int32]?
    let countC: Int

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let a = try c.shape(0), b = try c.shape(1)
        guard a.count == 2, b.count == 2 else { throw c.fail("Gemm needs 2-D operands, got \(a) and \(b)") }
        let ta = c.node.int("transA") == 1, tb = c.node.int("transB") == 1
        let (m, k) = ta ? (a[1], a[0]) : (a[0], a[1])
        let (kb, n) = tb ? (b[1], b[0]) : (b[0], b[1])
        guard k == kb else { throw c.fail("inner dimensions differ: A \(a)\(ta ? "ᵀ" : ""), B \(b)\(tb ? "ᵀ" : "")") }
        var table: [Int32]? = nil
        var countC = 0
        if c.has(2) {
            let cs = try c.shape(2)
            guard Shapes.broadcast(cs, [m, n]) == [m, n] else { throw c.fail("C \(cs) does not broadcast to [\(m), \(n)]") }
            table = IndexTable.broadcast(cs, to: [m, n])
            countC = cs.reduce(1, *)
        }
        return Gemm(m: m, n: n, k: k, transA: ta, transB: tb, alpha: c.node.float("alpha") ?? 1,
                    beta: c.node.float("beta") ?? 1, tableC: table, countC: countC)
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let a = inputs[0], let b = inputs[1] else { return [] }
        var y = [Float](repeating: 0, count: m * n)
        if let tableC, inputs.count > 2, let c = inputs[2] {
            for i in y.indices { y[i] = beta * c.data[Int(tableC[i])] }
        }
        sgemm(transA, transB, m: m, n: n, k: k, alpha: alpha, a.data, 0, lda: transA ? m : k,
              b.data, 0, ldb: transB ? k : n, beta: 1, &y, 0, ldc: n)
        return [Value(shape: [m, n], data: y)]
    }

    func backward(_ args: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        guard let a = args.inputs[0], let b = args.inputs[1] else { return [nil, nil, nil] }
        let g = args.grad, rows = args.rows
        var da: [Float]? = nil, db: [Float]? = nil, dc: [Float]? = nil
        if args.wants[0] {
            var out = [Float](repeating: 0, count: rows * m * k)
            if !transA {
                // (rows·M × N) · op(B)ᵀ in one call.
                sgemm(false, !transB, m: rows * m, n: k, k: n, alpha: alpha, g, 0, lda: n,
                      b.data, 0, ldb: transB ? k : n, &out, 0, ldc: k)
            } else {
                for r in 0..<rows {
                    sgemm(transB, true, m: k, n: m, k: n, alpha: alpha, b.data, 0, lda: transB ? k : n,
                          g, r * m * n, ldb: n, &out, r * m * k, ldc: m)
                }
            }
            da = out
        }
        if args.wants[1] {
            var out = [Float](repeating: 0, count: rows * k * n)
            for r in 0..<rows {
                if !transB {
                    sgemm(!transA, false, m: k, n: n, k: m, alpha: alpha, a.data, 0, lda: transA ? m : k,
                          g, r * m * n, ldb: n, &out, r * k * n, ldc: n)
                } else {
                    sgemm(true, transA, m: n, n: k, k: m, alpha: alpha, g, r * m * n, lda: n,
                          a.data, 0, ldb: transA ? m : k, &out, r * k * n, ldc: k)
                }
            }
            db = out
        }
        if args.wants.count > 2, args.wants[2], let tableC {
            var s = IndexTable.scatter(g, tableC, inCount: countC, rows: rows)
            for i in s.indices { s[i] *= beta }
            dc = s
        }
        return [da, db, dc]
    }
}
