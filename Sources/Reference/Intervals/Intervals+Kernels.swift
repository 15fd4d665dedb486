import ONNX
import Sensitivity

/// Ops that are monotone non-decreasing in their data inputs, evaluated by the reference
/// engine's own kernel twice: on the lower bounds and on the upper bounds (every other input
/// — shapes, axes, indices, pads, the pad value, scales — must be known exactly).
///
/// - **Data movement** (Identity, Dropout, Reshape, Flatten, Squeeze, Unsqueeze, Transpose,
///   Slice, Gather/GatherElements/GatherND with exact indices, Expand, Tile, Split, Concat, Pad,
///   Resize nearest, DepthToSpace, SpaceToDepth, Trilu, Compress) and **max pooling** (MaxPool,
///   GlobalMaxPool): every output element is one input element (or the exact pad value), so
///   y(lo) ≤ y(x) ≤ y(hi) with no rounding at all.
/// - **Averages** (AveragePool, GlobalAveragePool) of at most K taps with positive weights:
///   monotone; the float32 kernel's sum-then-divide is within γ_{K+2}·M of the exact mean
///   (γ_{K−1}·Σ|x| ≤ γ_{K−1}·K·M for the sum, divided by a divisor ≥ the tap count, plus two
///   roundings), M the tensor's largest magnitude; operations that underflow (or flush to
///   zero) add at most 2⁻¹²⁶ each: 2⁻¹²⁵ after the division.
/// - **Resize linear** without antialiasing: each output is Σ wᵢxᵢ over 2^rank corners with
///   wᵢ ≥ 0, Σwᵢ = 1 (coordinates are clamped into the input), so it is monotone; the kernel's
///   separable passes and its rounded weights stay within γ_{4K+4}·M + 8K·2⁻¹²⁶, K = 2^rank.
///   Cubic weights change sign: no rule.
/// A kernel the engine does not have, or refuses for this configuration, gives no
/// information (the output is unbounded), never a guess.
enum KernelRules {
    enum Margin { case exact, average(Int), resizeLinear }

    static let exact: IntervalRule = { c throws(ReferenceError) in try monotone(c, margin: .exact) }
    static let split: IntervalRule = { c throws(ReferenceError) in try monotone(c, margin: .exact, allOutputs: true) }
    static let concat: IntervalRule = { c throws(ReferenceError) in try monotone(c, data: nil, margin: .exact) }
    /// MaxPool's values through a kernel built for them alone (the Indices output is not
    /// monotone, and an engine without it could refuse the node).
    static let maxPool: IntervalRule = { c throws(ReferenceError) in
        var values = c.node
        values.outputs = Array(values.outputs.prefix(1))
        let single = IntervalNode(node: values, opset: c.opset, evaluated: c.evaluated, constants: c.constants, dtypes: c.dtypes,
                                  outShapes: Array(c.outShapes.prefix(1)), outTypes: Array(c.outTypes.prefix(1)))
        return [try monotone(single, margin: .exact).first ?? nil, indices(c)]
    }
    static let averagePool: IntervalRule = { c throws(ReferenceError) in
        try monotone(c, margin: .average((c.node.ints("kernel_shape") ?? []).reduce(1, *)))
    }
    static let globalAveragePool: IntervalRule = { c throws(ReferenceError) in
        try monotone(c, margin: .average((c.shape(0) ?? []).dropFirst(2).reduce(1, *)))
    }

    static let rules: [String: IntervalRule] = Dictionary(
        uniqueKeysWithValues: ["Identity", "Dropout", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Slice",
                               "GatherElements", "GatherND", "Expand", "Tile", "Pad", "DepthToSpace", "SpaceToDepth",
                               "Trilu", "Compress", "GlobalMaxPool"].map { ($0, exact) }
            + [("Split", split), ("Concat", concat), ("MaxPool", maxPool), ("AveragePool", averagePool),
               ("GlobalAveragePool", globalAveragePool), ("Resize", resize), ("Upsample", resize)])

    static let resize: IntervalRule = { c throws(ReferenceError) in
        switch c.node.string("mode") ?? "nearest" {
        case "nearest": return try monotone(c, margin: .exact)
        case "linear", "bilinear", "trilinear":
            guard (c.node.int("antialias") ?? 0) == 0 else { return [] }
            return try monotone(c, margin: .resizeLinear)
        default: return []
        }
    }

    /// MaxPool's Indices: flat offsets into the input, in [0, count − 1].
    static func indices(_ c: IntervalNode) -> TensorBounds? {
        guard c.node.outputs.count > 1, let s = c.outShapes[1], let x = c.shape(0) else { return nil }
        return TensorBounds(shape: s, lo: 0, hi: Float(max(x.reduce(1, *) - 1, 0)))
    }

    /// Runs the node's engine kernel on the lower and on the upper bounds. `data` says which
    /// inputs may vary (nil: all) (the rest must be exact); only the first output is monotone unless
    /// `allOutputs`.
    static func monotone(_ c: IntervalNode, data: Set<Int>? = [0], margin: Margin,
                         allOutputs: Bool = false) throws(ReferenceError) -> [TensorBounds?] {
        guard let factory = Kernels.factory(for: c.node) else { return [] }
        let count = c.node.inputs.count
        var shapes: [[Int]?] = [], parameters: [Value?] = [], lo: [Value?] = [], hi: [Value?] = []
        var dtypes: [DataType?] = [], constants: [Tensor?] = []
        var magnitude = 0.0
        for i in 0..<count {
            constants.append(c.constant(i))
            guard c.has(i) else {
                shapes.append(nil); parameters.append(nil); lo.append(nil); hi.append(nil); dtypes.append(nil)
                continue
            }
            guard let b = c.bounds(i) else { return [] }
            let varies = data?.contains(i) ?? true
            if !varies && !b.isPoint { return [] }
            if varies { magnitude = max(magnitude, b.maxMagnitude) }
            let t = c.dtype(i)
            shapes.append(b.shape)
            dtypes.append(t)
            lo.append(Value(shape: b.shape, data: b.lo, dtype: t))
            hi.append(Value(shape: b.shape, data: b.hi, dtype: t))
            parameters.append(!varies && c.constant(i) == nil ? Value(shape: b.shape, data: b.lo, dtype: t) : nil)
        }
        let context = KernelContext(node: c.node, shapes: shapes, constants: constants, opset: c.opset,
                                    dtypes: dtypes, parameters: parameters)
        let low: [Value], high: [Value]
        do {
            let kernel = try factory(context)
            low = try kernel.forward(lo)
            high = try kernel.forward(hi)
        } catch {
            if case .tooLarge = error { throw error }
            return []   // the engine refuses this configuration: no information
        }
        let e: Double
        switch margin {
        case .exact: e = 0
        case let .average(k): e = Outward.gamma(k + 2) * magnitude + Outward.tiny32
        case .resizeLinear:
            let k = 1 << min(lo.first??.shape.count ?? 0, 20)
            e = Outward.gamma(4 * k + 4) * magnitude + 4 * Double(k) * Outward.tiny32
        }
        var out: [TensorBounds?] = []
        for k in 0..<min(low.count, high.count) where k == 0 || allOutputs {
            guard low[k].shape == high[k].shape, low[k].data.count == high[k].data.count else { return out }
            var b = TensorBounds(shape: low[k].shape, lo: low[k].data, hi: high[k].data)
            b.sanitize()
            b.widen(by: e)
            out.append(b)
        }
        return out
    }
}
