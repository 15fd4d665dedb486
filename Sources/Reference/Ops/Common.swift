import ONNX

// Shared pieces of the reference ops: the gather kernel behind every data-movement op,
// padding index maps, and the window tables behind pooling.

/// y = x gathered through an offset table (−1 → `fill`); VJP: scatter-add.
/// Transpose, Slice, Pad, Gather and Resize (nearest) are this kernel with different tables.
struct TableKernel: Kernel {
    let shape: [Int]
    let table: [Int32]
    let inCount: Int
    var fill: Float = 0

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        return [Value(shape: shape, data: IndexTable.gather(x.data, table, inCount: inCount, fill: fill), dtype: x.dtype)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        [IndexTable.scatter(a.grad, table, inCount: inCount, rows: a.rows)]
            + Array(repeating: nil, count: max(0, a.inputs.count - 1))
    }

    /// A kernel reading input `inShape` at per-axis indices `maps` (−1 = fill);
    /// `shape` overrides the output shape (Gather with multi-dimensional indices).
    init(inShape: [Int], maps: [[Int]], shape: [Int]? = nil, fill: Float = 0) {
        let strides = Shapes.strides(inShape)
        self.table = IndexTable.build(maps.indices.map { a in maps[a].map { $0 < 0 ? -1 : $0 * strides[a] } })
        self.shape = shape ?? maps.map(\.count)
        self.inCount = inShape.reduce(1, *)
        self.fill = fill
    }

    init(shape: [Int], table: [Int32], inCount: Int) {
        self.shape = shape
        self.table = table
        self.inCount = inCount
    }
}

// Pad's index maps are ONNX.PadMode, shared with the Lipschitz rule.

/// Pooling windows over the spatial axes: for each output position the input spatial
/// offsets it covers (padding excluded), in CSR form, plus the count of taps that fall
/// inside the padded extent (AveragePool's `count_include_pad` divisor).
struct WindowTable {
    let outSpatial: Int
    let inSpatial: Int
    let starts: [Int32]
    let taps: [Int32]
    let paddedCount: [Int32]

    init(_ g: WindowGeometry) {
        let r = g.rank
        inSpatial = g.input.reduce(1, *)
        outSpatial = g.output.reduce(1, *)
        let inStrides = Shapes.strides(g.input)
        // Per axis and output index: (input index or −1, inside padded extent) per kernel tap.
        var axisTaps: [[[(Int, Bool)]]] = []
        for a in 0..<r {
            var perOut: [[(Int, Bool)]] = []
            for o in 0..<g.output[a] {
                var list: [(Int, Bool)] = []
                for k in 0..<g.kernel[a] {
                    let p = o * g.strides[a] + k * g.dilations[a] - g.padsBegin[a]
                    let inside = p >= 0 && p < g.input[a]
                    let inPadded = p >= -g.padsBegin[a] && p < g.input[a] + g.padsEnd[a]
                    list.append((inside ? p * inStrides[a] : -1, inPadded))
                }
                perOut.append(list)
            }
            axisTaps.append(perOut)
        }
        var starts: [Int32] = [0]
        var taps: [Int32] = []
        var padded: [Int32] = []
        starts.reserveCapacity(outSpatial + 1)
        padded.reserveCapacity(outSpatial)
        var idx = [Int](repeating: 0, count: r)
        for _ in 0..<outSpatial {
            // Cartesian product of the axis tap lists.
            var combos: [(Int, Bool)] = [(0, true)]
            for a in 0..<r {
                var next: [(Int, Bool)] = []
                for (off, ok) in combos {
                    for (t, inPad) in axisTaps[a][idx[a]] {
                        next.append((off < 0 || t < 0 ? -1 : off + t, ok && inPad))
                    }
                }
                combos = next
            }
            for (off, _) in combos where off >= 0 { taps.append(Int32(off)) }
            padded.append(Int32(combos.filter(\.1).count))
            starts.append(Int32(taps.count))
            var a = r - 1
            while a >= 0 {
                idx[a] += 1
                if idx[a] < g.output[a] { break }
                idx[a] = 0
                a -= 1
            }
        }
        self.starts = starts
        self.taps = taps
        self.paddedCount = padded
    }
}

extension KernelContext {
    /// The pooling geometry of this node for input shape (N, C, spatial…).
    func poolGeometry(_ x: [Int]) throws(ReferenceError) -> WindowGeometry {
        guard x.count >= 3 else { throw fail("pooling needs an (N, C, spatial…) input, got \(x)") }
        guard let kernel = node.ints("kernel_shape") else { throw fail("missing attribute 'kernel_shape'") }
        do {
            return try WindowGeometry.resolve(node: node, input: Array(x[2...]), kernel: kernel,
                                              ceilMode: node.int("ceil_mode") == 1, path: "")
        } catch {
            throw fail(error.localizedDescription)
        }
    }
}

/// A gather whose offset table is built from the run-time values of its index operands
/// (indices, masks, a condition): they may be computed, even from the perturbed tensor, so
/// the table is rebuilt at every call. The VJP scatter-adds into input 0; the index operands
/// have no gradient.
protocol RuntimeGather: Kernel {
    func table(_ inputs: [Value?]) throws(ReferenceError) -> TableKernel
}

extension RuntimeGather {
    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] { try table(inputs).forward(inputs) }
    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] { try table(a.inputs).backward(a) }
}

/// An index read from a tensor, made non-negative for an axis of extent `n` (−n ≤ i < n).
func wrapIndex(_ v: Float, _ n: Int) -> Int? {
    let i = Int(saturatingInt64(v))
    let j = i < 0 ? i + n : i
    return j >= 0 && j < n ? j : nil
}

/// ScatterND and ScatterElements: out = data with updates written (or combined by
/// `reduction`: none, add, mul, max, min) at targets computed from run-time indices.
/// `targets` lists, per element of updates, its flat offset in the output.
/// VJP (none, add): d data = g, zeroed at written positions for none; d updates = g at the
/// target (for none with a repeated target, only its last writer, which is the one kept).
/// mul/max/min have no VJP here (backward refuses them).
protocol ScatterKernel: Kernel {
    var node: String { get }
    var reduction: String { get }
    func targets(_ inputs: [Value?]) throws(ReferenceError) -> [Int]
}

extension ScatterKernel {
    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let data = inputs[0], let updates = inputs[2] else { return [] }
        let t = try targets(inputs)
        var y = data.data
        for (s, o) in t.enumerated() {
            let u = updates.data[s]
            switch reduction {
            case "add": y[o] += u
            case "mul": y[o] *= u
            case "max": y[o] = max(y[o], u)
            case "min": y[o] = min(y[o], u)
            default: y[o] = u
            }
        }
        return [Value(shape: data.shape, data: y, dtype: data.dtype)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        guard reduction == "none" || reduction == "add" else {
            throw .badNode(node: node, op: "Scatter", reason: "no VJP for reduction '\(reduction)'")
        }
        guard let data = a.inputs[0] else { return [nil, nil, nil] }
        let t = try targets(a.inputs)
        let n = data.count, m = t.count
        // For `none`, the update that survives at each target (the last one written).
        var writer = [Int](repeating: -1, count: n)
        for (s, o) in t.enumerated() { writer[o] = s }
        var gd: [Float]? = nil, gu: [Float]? = nil
        if a.wants[0] {
            var g = a.grad
            if reduction == "none" { for r in 0..<a.rows { for o in 0..<n where writer[o] >= 0 { g[r * n + o] = 0 } } }
            gd = g
        }
        if a.wants.count > 2, a.wants[2] {
            var g = [Float](repeating: 0, count: a.rows * m)
            for r in 0..<a.rows {
                for (s, o) in t.enumerated() where reduction == "add" || writer[o] == s { g[r * m + s] = a.grad[r * n + o] }
            }
            gu = g
        }
        return [gd, nil, gu]
    }
}

extension KernelContext {
    /// The `reduction` attribute of ScatterND/ScatterElements (opset 16+), checked.
    func scatterReduction() throws(ReferenceError) -> String {
        let r = node.string("reduction") ?? "none"
        guard ["none", "add", "mul", "max", "min"].contains(r) else { throw fail("unknown reduction '\(r)'") }
        return r
    }
}
