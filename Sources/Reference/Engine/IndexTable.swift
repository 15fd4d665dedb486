/// Offset tables: the shared machinery of every op that only moves values around
/// (Transpose, Slice, Pad, Gather, Resize nearest) and of broadcasting.
///
/// A table lists, for each output element in row-major order, the flat offset of the
/// input element it reads, or −1 for a fill value (constant padding). It is built from
/// per-axis contributions: `axisOffsets[a][j]` is what output index j on axis a adds to
/// the offset (−1 marks "outside"), so offset(i₀, i₁, …) = Σₐ axisOffsets[a][iₐ].
/// Forward is a gather; the VJP is the matching scatter-add.
enum IndexTable {
    static func build(_ axisOffsets: [[Int]]) -> [Int32] {
        var table: [Int32] = [0]
        for contrib in axisOffsets {
            var next = [Int32]()
            next.reserveCapacity(table.count * contrib.count)
            for t in table {
                for c in contrib {
                    next.append(t < 0 || c < 0 ? -1 : t + Int32(truncatingIfNeeded: c))
                }
            }
            table = next
        }
        return table
    }

    /// The table reading `shape` broadcast (numpy rules) to `target`: broadcast axes
    /// contribute 0.
    static func broadcast(_ shape: [Int], to target: [Int]) -> [Int32] {
        let strides = Shapes.broadcastStrides(shape, to: target)
        return build(target.indices.map { a in (0..<target[a]).map { $0 * strides[a] } })
    }

    /// Gathers `x` through `table` (−1 → `fill`), for each of `rows` stacked tensors.
    static func gather(_ x: [Float], _ table: [Int32], inCount: Int, rows: Int = 1, fill: Float = 0) -> [Float] {
        let n = table.count
        var out = [Float](repeating: 0, count: rows * n)
        for r in 0..<rows {
            let xo = r * inCount, yo = r * n
            for i in 0..<n {
                let t = Int(table[i])
                out[yo + i] = t < 0 ? fill : x[xo + t]
            }
        }
        return out
    }

    /// The VJP of `gather`: scatter-adds `rows` cotangents of the output into the input.
    static func scatter(_ g: [Float], _ table: [Int32], inCount: Int, rows: Int) -> [Float] {
        let n = table.count
        var out = [Float](repeating: 0, count: rows * inCount)
        for r in 0..<rows {
            let xo = r * inCount, go = r * n
            for i in 0..<n {
                let t = Int(table[i])
                if t >= 0 { out[xo + t] += g[go + i] }
            }
        }
        return out
    }
}

import ONNX
