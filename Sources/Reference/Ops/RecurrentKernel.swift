import ONNX

/// The driver of LSTM, GRU and RNN (see Recurrent.swift for the layout): per direction it
/// projects the whole sequence at once (X·Wᵀ + Wb, one sgemm), then runs the cell step by
/// step, each batch entry at its own time index (reverse directions and sequence_lens).
/// Weights are constants; X, initial_h, initial_c and sequence_lens are read at run time.
/// `quantizeX` / `quantizeH` fake-quantize X (once) and the previous h (every step) to UINT8
/// as DynamicQuantizeLinear does (DynamicQuantizeLSTM), straight through in the VJP.
///
/// VJP: back-propagation through time for all cotangent rows at once. Per direction, from
/// the last step down: the state cotangents start from those of Y_h (and Y_c), each active
/// step adds Y's and goes through the cell's VJP; inactive steps pass them through; the
/// xw cotangents give dX = dxw·W (one sgemm per step for every row and batch entry); what
/// remains after step 0 is the cotangent of initial_h (and initial_c). Weights get none.
struct RecurrentKernel: Kernel {
    let cells: [any RecurrentCell]
    let reverse: [Bool]
    let t: Int, b: Int, i: Int, h: Int
    /// Per direction: W (G·H × I) and Wb (G·H).
    let w: [[Float]]
    let wb: [[Float]]
    var quantizeX = false
    var quantizeH = false
    /// Input indices of sequence_lens, initial_h, initial_c.
    var seqIndex = 4, h0Index = 5, c0Index = 6

    var d: Int { cells.count }
    var g: Int { cells[0].gates }

    struct Run {
        var y: [Float], yh: [Float], yc: [Float]
        /// Per direction and step: the saved record and which batch entries ran.
        var saved: [[[Float]]]
        var lengths: [Int]
    }

    /// The time index of batch entry `e` at step `s` of direction `k` (nil: inactive).
    func time(_ s: Int, _ e: Int, _ k: Int, _ lengths: [Int]) -> Int? {
        guard s < lengths[e] else { return nil }
        return reverse[k] ? lengths[e] - 1 - s : s
    }

    func run(_ inputs: [Value?]) throws(ReferenceError) -> Run {
        guard var x = inputs[0]?.data, x.count == t * b * i else {
            throw .badFeed(reason: "recurrent input has \(inputs[0]?.count ?? 0) values for (\(t), \(b), \(i))")
        }
        if quantizeX { x = fakeQuantize(x) }
        let lengths = inputs.count > seqIndex ? inputs[seqIndex].map { $0.ints.map { min(max($0, 0), t) } } ?? nil : nil
        let lens = lengths ?? [Int](repeating: t, count: b)
        let state = b * h
        let h0 = inputs.count > h0Index ? inputs[h0Index]?.data : nil
        let c0 = inputs.count > c0Index ? inputs[c0Index]?.data : nil
        var r = Run(y: .zeros(t * d * state), yh: .zeros(d * state), yc: .zeros(d * state), saved: [], lengths: lens)
        for k in 0..<d {
            var xw = [Float](repeating: 0, count: t * b * g * h)
            matmul(x, w[k], m: t * b, n: g * h, k: i, transB: true, into: &xw)
            var hs = h0.map { Array($0[(k * state)..<((k + 1) * state)]) } ?? .zeros(state)
            var cs = cells[k].hasCell ? (c0.map { Array($0[(k * state)..<((k + 1) * state)]) } ?? .zeros(state)) : []
            var saved: [[Float]] = []
            for s in 0..<t {
                var step = [Float](repeating: 0, count: b * g * h)
                for e in 0..<b {
                    guard let te = time(s, e, k, lens) else { continue }
                    for j in 0..<(g * h) { step[e * g * h + j] = xw[(te * b + e) * g * h + j] + wb[k][j] }
                }
                let (hn, cn, rec) = cells[k].step(step, h: quantizeH ? fakeQuantize(hs) : hs, c: cs, batch: b, dir: k)
                saved.append(rec)
                for e in 0..<b {
                    guard let te = time(s, e, k, lens) else { continue }
                    for j in 0..<h {
                        hs[e * h + j] = hn[e * h + j]
                        if !cs.isEmpty { cs[e * h + j] = cn[e * h + j] }
                        r.y[((te * d + k) * b + e) * h + j] = hn[e * h + j]
                    }
                }
            }
            for j in 0..<state { r.yh[k * state + j] = hs[j]; if !cs.isEmpty { r.yc[k * state + j] = cs[j] } }
            r.saved.append(saved)
        }
        return r
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        let r = try run(inputs)
        let dtype = inputs[0]?.dtype ?? .float
        return [Value(shape: [t, d, b, h], data: r.y, dtype: dtype), Value(shape: [d, b, h], data: r.yh, dtype: dtype),
                Value(shape: [d, b, h], data: r.yc, dtype: dtype)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        let run = try run(a.inputs)
        let rows = a.rows, state = b * h, yCount = t * d * state
        func grad(_ k: Int, _ count: Int) -> [Float]? { a.grads.count > k && a.grads[k].count == rows * count ? a.grads[k] : nil }
        let gy = grad(0, yCount), gyh = grad(1, d * state), gyc = grad(2, d * state)
        var dx = [Float](repeating: 0, count: rows * t * b * i)
        var dh0 = [Float](repeating: 0, count: rows * d * state), dc0 = dh0
        for k in 0..<d {
            var dh = [Float](repeating: 0, count: rows * state), dc = dh
            for r in 0..<rows {
                for j in 0..<state {
                    dh[r * state + j] = gyh?[(r * d + k) * state + j] ?? 0
                    dc[r * state + j] = gyc?[(r * d + k) * state + j] ?? 0
                }
            }
            for s in stride(from: t - 1, through: 0, by: -1) {
                let times = (0..<b).map { time(s, $0, k, run.lengths) }
                guard times.contains(where: { $0 != nil }) else { continue }
                if let gy {
                    for r in 0..<rows {
                        for e in 0..<b {
                            guard let te = times[e] else { continue }
                            for j in 0..<h { dh[(r * b + e) * h + j] += gy[r * yCount + ((te * d + k) * b + e) * h + j] }
                        }
                    }
                }
                var (dxw, dhp, dcp) = cells[k].back(run.saved[k][s], dh: dh, dc: dc, batch: b, rows: rows, dir: k)
                for r in 0..<rows {
                    for e in 0..<b where times[e] == nil {
                        let o = (r * b + e) * h
                        for j in 0..<h { dhp[o + j] = dh[o + j]; if !dcp.isEmpty { dcp[o + j] = dc[o + j] } }
                        for j in 0..<(g * h) { dxw[(r * b + e) * g * h + j] = 0 }
                    }
                }
                var dxs = [Float](repeating: 0, count: rows * b * i)
                matmul(dxw, w[k], m: rows * b, n: i, k: g * h, transB: false, into: &dxs)
                for r in 0..<rows {
                    for e in 0..<b {
                        guard let te = times[e] else { continue }
                        for j in 0..<i { dx[r * t * b * i + (te * b + e) * i + j] += dxs[(r * b + e) * i + j] }
                    }
                }
                dh = dhp
                if !dcp.isEmpty { dc = dcp }
            }
            for r in 0..<rows {
                for j in 0..<state {
                    dh0[(r * d + k) * state + j] = dh[r * state + j]
                    dc0[(r * d + k) * state + j] = dc[r * state + j]
                }
            }
        }
        var out = [[Float]?](repeating: nil, count: a.inputs.count)
        if a.wants[0] { out[0] = dx }
        if a.wants.count > h0Index, a.wants[h0Index] { out[h0Index] = dh0 }
        if cells[0].hasCell, a.wants.count > c0Index, a.wants[c0Index] { out[c0Index] = dc0 }
        return out
    }

    /// DequantizeLinear∘DynamicQuantizeLinear of `x` (UINT8, range including 0).
    func fakeQuantize(_ x: [Float]) -> [Float] {
        let (s, z) = DynamicQuantizeLinear.parameters(x)
        return x.map { s > 0 ? (quantize($0 / s, zero: z, lo: 0, hi: 255).0 - z) * s : 0 }
    }
}

extension KernelContext {
    /// The directions of a recurrent node: reverse flags, one per direction.
    func recurrentDirections() throws(ReferenceError) -> [Bool] {
        if let layout = node.int("layout"), layout != 0 { throw fail("layout = \(layout) (batch-first) is not supported") }
        switch node.string("direction") ?? "forward" {
        case "forward": return [false]
        case "reverse": return [true]
        case "bidirectional": return [false, true]
        case let other: throw fail("unknown direction '\(other)'")
        }
    }

    /// Checks sequence_lens (B) and the initial states (D, B, H) at inputs 4, 5 and `cell`.
    func checkRecurrentStates(d: Int, b: Int, h: Int, cell: Int? = nil) throws(ReferenceError) {
        if has(4), try shape(4).reduce(1, *) != b { throw fail("sequence_lens \(try shape(4)) does not have \(b) entries") }
        for i in [5] + (cell.map { [$0] } ?? []) where has(i) {
            guard try shape(i) == [d, b, h] else { throw fail("initial state \(try shape(i)) is not [\(d), \(b), \(h)]") }
        }
    }

    /// Constant input `i` split into `parts` equal slices (per direction), or nil when absent.
    func perDirection(_ i: Int, _ parts: Int, each: Int) throws(ReferenceError) -> [[Float]]? {
        guard let v = try constantFloats(i) else { return nil }
        guard v.count == parts * each else { throw fail("input \(i) has \(v.count) values, expected \(parts) × \(each)") }
        return (0..<parts).map { Array(v[($0 * each)..<(($0 + 1) * each)]) }
    }
}
