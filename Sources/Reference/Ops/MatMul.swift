import ONNX

/// MatMul with numpy semantics: A (…, M, K) · B (…, K, N), batch dimensions broadcast,
/// a 1-D A is (1, K) and a 1-D B is (K, 1) with that axis dropped from the result.
/// VJPs per batch item: dA += dY·Bᵀ, dB += Aᵀ·dY, summed over broadcast batch items.
/// When B is a plain matrix all batch items and all k cotangent rows share one sgemm.
struct MatMul: Kernel {
    let m: Int, n: Int, k: Int
    let shape: [Int]
    let tableA: [Int32]
    let tableB: [Int32]
    let countA: Int, countB: Int
    /// B has no batch dimensions and A's batch items are contiguous.
    let flat: Bool

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let a0 = try c.shape(0), b0 = try c.shape(1)
        guard !a0.isEmpty, !b0.isEmpty else { throw c.fail("MatMul of a scalar") }
        let l = try MatMulLayout.make(a0, b0).get(c.fail)
        let (m, n, k, ba, bb, batch, shape) = (l.m, l.n, l.k, l.batchA, l.batchB, l.batch, l.shape)
        return MatMul(m: m, n: n, k: k, shape: shape,
                      tableA: IndexTable.broadcast(ba, to: batch), tableB: IndexTable.broadcast(bb, to: batch),
                      countA: a0.reduce(1, *), countB: b0.reduce(1, *), flat: bb.isEmpty)
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let a = inputs[0], let b = inputs[1] else { return [] }
        let items = tableA.count
        var y = [Float](repeating: 0, count: items * m * n)
        if flat {
            sgemm(false, false, m: items * m, n: n, k: k, a.data, 0, lda: k, b.data, 0, ldb: n, &y, 0, ldc: n)
        } else {
            for i in 0..<items {
                sgemm(false, false, m: m, n: n, k: k, a.data, Int(tableA[i]) * m * k, lda: k,
                      b.data, Int(tableB[i]) * k * n, ldb: n, &y, i * m * n, ldc: n)
            }
        }
        return [Value(shape: shape, data: y)]
    }

    func backward(_ args: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        guard let a = args.inputs[0], let b = args.inputs[1] else { return [nil, nil] }
        let g = args.grad, rows = args.rows, items = tableA.count
        let outCount = items * m * n
        var da: [Float]? = nil, db: [Float]? = nil
        if args.wants[0] {
            var out = [Float](repeating: 0, count: rows * countA)
            if flat {
                sgemm(false, true, m: rows * items * m, n: k, k: n, g, 0, lda: n, b.data, 0, ldb: n, &out, 0, ldc: k)
            } else {
                for r in 0..<rows {
                    for i in 0..<items {
                        sgemm(false, true, m: m, n: k, k: n, g, r * outCount + i * m * n, lda: n,
                              b.data, Int(tableB[i]) * k * n, ldb: n, beta: 1, &out, r * countA + Int(tableA[i]) * m * k, ldc: k)
                    }
                }
            }
            da = out
        }
        if args.wants[1] {
            var out = [Float](repeating: 0, count: rows * countB)
            for r in 0..<rows {
                for i in 0..<items {
                    sgemm(true, false, m: k, n: n, k: m, a.data, Int(tableA[i]) * m * k, lda: k,
                          g, r * outCount + i * m * n, ldb: n, beta: 1, &out, r * countB + Int(tableB[i]) * k * n, ldc: n)
                }
            }
            db = out
        }
        return [da, db]
    }
}

/// numpy.matmul's shapes for operands of shapes a0 and b0 (both non-empty): a 1-D operand
/// gains a unit row (a) or column (b) that the result drops; the batch dimensions broadcast.
/// One definition for the engine's MatMul and the interval rule.
struct MatMulLayout {
    let m: Int, k: Int, n: Int
    /// The batch dimensions of each operand and their broadcast.
    let batchA: [Int], batchB: [Int], batch: [Int]
    /// The result's shape.
    let shape: [Int]

    /// The layout, or the reason the shapes do not multiply.
    static func make(_ a0: [Int], _ b0: [Int]) -> Result<MatMulLayout, Mismatch> {
        let a = a0.count == 1 ? [1] + a0 : a0, b = b0.count == 1 ? b0 + [1] : b0
        let (m, k) = (a[a.count - 2], a[a.count - 1]), (kb, n) = (b[b.count - 2], b[b.count - 1])
        guard k == kb else { return .failure(Mismatch(reason: "inner dimensions differ: \(a0) · \(b0)")) }
        let ba = Array(a.dropLast(2)), bb = Array(b.dropLast(2))
        guard let batch = Shapes.broadcast(ba, bb) else { return .failure(Mismatch(reason: "batch dimensions \(ba) and \(bb) do not broadcast")) }
        var shape = batch
        if a0.count > 1 { shape.append(m) }
        if b0.count > 1 { shape.append(n) }
        return .success(MatMulLayout(m: m, k: k, n: n, batchA: ba, batchB: bb, batch: batch, shape: shape))
    }

    struct Mismatch: Error { let reason: String }
}

extension Result where Success == MatMulLayout, Failure == MatMulLayout.Mismatch {
    /// The layout, or the node's error made by `fail` from the reason.
    func get(_ fail: (String) -> ReferenceError) throws(ReferenceError) -> MatMulLayout {
        switch self {
        case .success(let l): return l
        case .failure(let e): throw fail(e.reason)
        }
    }
}
