import ONNX

/// Reading the scale and zero-point operands of quantized ops, and dequantizing constant
/// weights: W = (w_q − z) ⊙ s (ONNX DequantizeLinear). Every inconsistency (a scale that is
/// not a constant, zero or not finite, a scale or zero point whose length fits no axis) is a
/// one-line reason (``QuantizedIssue``, phrased to follow the op name), which the caller turns
/// into an `unbounded` rule.
enum QuantizedOperands {
    /// The constant at input `i` of `n` (nil when an optional input is absent); an issue when
    /// it depends on the input or is computed at run time.
    static func optional(_ n: Node, _ i: Int, _ role: String, _ ctx: GraphContext) throws(QuantizedIssue) -> Tensor? {
        guard let name = n.input(i) else { return nil }
        if let t = ctx.constant(name) {
            guard t.dataType.isNumeric else { throw QuantizedIssue("whose \(role) '\(name)' is a \(t.dataType) tensor") }
            return t
        }
        if ctx.isVariable(name) { throw QuantizedIssue("whose \(role) '\(name)' depends on the input") }
        throw QuantizedIssue("whose \(role) '\(name)' is computed at run time, so its value is not known statically")
    }

    /// The constant at input `i` of `n`, which must be present.
    static func constant(_ n: Node, _ i: Int, _ role: String, _ ctx: GraphContext) throws(QuantizedIssue) -> Tensor {
        guard let t = try optional(n, i, role, ctx) else { throw QuantizedIssue("without its \(role) (input \(i))") }
        return t
    }

    /// A scale operand: constant, non-empty, finite and non-zero.
    static func scale(_ n: Node, _ i: Int, _ role: String, _ ctx: GraphContext) throws(QuantizedIssue) -> Tensor {
        let t = try constant(n, i, role, ctx)
        guard t.count > 0 else { throw QuantizedIssue("whose \(role) '\(t.name)' is empty") }
        for k in 0..<t.count {
            let v = t.double(at: k)
            if !v.isFinite { throw QuantizedIssue("whose \(role) '\(t.name)' holds \(v)") }
            if v == 0 { throw QuantizedIssue("whose \(role) '\(t.name)' is zero (at index \(k))") }
        }
        return t
    }

    /// max_i |num_i / den_i|: the largest ratio of an input scale to the output scale, elementwise
    /// when both have the same number of values (per-row or per-column quantization), else the
    /// worst case max|num| / min|den| (sound for any pairing).
    static func ratio(_ num: Tensor, _ den: Tensor) -> Double {
        let a = num.doubles().map(abs), b = den.doubles().map(abs)
        if a.count == b.count { return zip(a, b).reduce(0) { max($0, $1.0 / $1.1) } }
        return (a.max() ?? 0) / (b.min() ?? 1)
    }

    /// How a parameter tensor (scale, zero point, factor) maps onto the weight's elements:
    /// one value; a 1-D tensor of dims[axis] values along `axis`; or (rank > 1) numpy
    /// broadcasting onto the weight's shape.
    static func indexer(_ p: [Double], dims pd: [Int], weight wd: [Int], axis: Int, role: String, name: String) throws(QuantizedIssue) -> (Int) -> Int {
        if p.count == 1 { return { _ in 0 } }
        if pd.count <= 1 {
            guard let a = Shapes.axis(axis, rank: wd.count), wd[a] == p.count else {
                let want = Shapes.axis(axis, rank: wd.count).map { String(wd[$0]) } ?? "?"
                throw QuantizedIssue("whose \(role) '\(name)' has \(p.count) values, which fits no axis of the weight \(wd) (expected 1 or \(want) along axis \(axis))")
            }
            let inner = wd[(a + 1)...].reduce(1, *)
            let extent = wd[a]
            return { ($0 / inner) % extent }
        }
        guard pd.count <= wd.count, Shapes.broadcast(pd, wd) == wd else {
            throw QuantizedIssue("whose \(role) '\(name)' of shape \(pd) does not broadcast to the weight \(wd)")
        }
        let ps = Shapes.broadcastStrides(pd, to: wd), st = Shapes.strides(wd)
        return { i in
            var rem = i, j = 0
            for d in 0..<wd.count {
                let c = rem / st[d]
                rem -= c * st[d]
                j += c * ps[d]
            }
            return j
        }
    }

    /// One multiplicative parameter of a dequantization: values, their shape, and the axis a
    /// 1-D parameter runs along.
    struct Factor {
        var values: [Double]
        var dims: [Int]
        var axis: Int
        var role: String
        var name: String

        init(_ t: Tensor, axis: Int, role: String) {
            values = t.doubles()
            dims = t.dims
            self.axis = axis
            self.role = role
            name = t.name
        }

        init(values: [Double], axis: Int, role: String, name: String) {
            self.values = values
            dims = values.count == 1 ? [] : [values.count]
            self.axis = axis
            self.role = role
            self.name = name
        }
    }

    /// W = (q − z) · Π factors, computed in Double and stored as float32 under `q`'s name (the
    /// same arithmetic as the loader's DequantizeLinear folding, so a float model built from
    /// the folded weights has bit-identical weights).
    static func dequantize(_ q: Tensor, zeroPoint: Tensor?, zeroPointAxis: Int, factors: [Factor]) throws(QuantizedIssue) -> Tensor {
        guard q.dataType.isNumeric, q.count > 0 else { throw QuantizedIssue("whose weight '\(q.name)' is empty or not numeric") }
        let wd = q.dims
        var zIndex: ((Int) -> Int)?
        var zValues: [Double] = []
        if let z = zeroPoint {
            zValues = z.doubles()
            zIndex = try indexer(zValues, dims: z.dims, weight: wd, axis: zeroPointAxis, role: "zero point", name: z.name)
        }
        var maps: [((Int) -> Int, [Double])] = []
        for f in factors {
            maps.append((try indexer(f.values, dims: f.dims, weight: wd, axis: f.axis, role: f.role, name: f.name), f.values))
        }
        var out = [Float](repeating: 0, count: q.count)
        for i in 0..<q.count {
            var v = q.double(at: i) - (zIndex.map { zValues[$0(i)] } ?? 0)
            for (m, vals) in maps { v *= vals[m(i)] }
            out[i] = Float(v)
        }
        return Tensor(name: q.name, dims: wd, floats: out)
    }

    /// The matrix view of a MatMul weight (DESIGN.md §1.1): the last two dimensions, a stack
    /// over the leading ones; a 1-D weight is a column (x·w) or a row (w·x).
    static func matMulView(_ w: Tensor, variableOnLeft: Bool) -> WeightLayer.View {
        let d = w.dims
        let rows: Int, cols: Int
        if d.count == 1 { (rows, cols) = variableOnLeft ? (d[0], 1) : (1, d[0]) } else { (rows, cols) = (d[d.count - 2], d[d.count - 1]) }
        let blocks = d.count > 2 ? d.dropLast(2).reduce(1, *) : 1
        return .matrix(rows: rows, cols: cols, blocks: blocks)
    }
}

/// Why a quantized op has no weight layer or rule: a phrase that follows "<op> …", e.g.
/// "QLinearConv whose output scale 'y_s' is zero (at index 0)".
struct QuantizedIssue: Error, Sendable {
    var text: String
    init(_ t: String) { text = t }
}
