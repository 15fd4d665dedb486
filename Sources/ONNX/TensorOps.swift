/// Small computations on constant tensors used by folding. Results are FLOAT when any
/// operand is floating point, INT64 otherwise.
enum TensorOps {
    static func make(_ name: String, _ dims: [Int], _ values: [Double], floating: Bool) -> Tensor {
        floating ? Tensor(name: name, dims: dims, floats: values.map { Float($0) })
                 : Tensor(name: name, dims: dims, int64s: values.map(int64))
    }

    /// Double → Int64 without trapping: saturates outside the Int64 range, NaN → 0.
    /// (Integer results are computed in Double; a product of two large INT64 constants
    /// must not crash the loader.)
    static func int64(_ d: Double) -> Int64 {
        guard d.isFinite else { return 0 }
        if d >= 0x1p63 { return .max }
        if d <= -0x1p63 { return .min }
        return Int64(d)
    }

    /// Permutes the axes of `x` (N-d, row-major).
    static func transpose(_ x: Tensor, perm: [Int], name: String) -> Tensor {
        let r = x.dims.count
        let outDims = perm.map { x.dims[$0] }
        let inStrides = Shapes.strides(x.dims)
        let permStrides = perm.map { inStrides[$0] }
        let count = x.count
        var src = [Int](repeating: 0, count: count)
        var idx = [Int](repeating: 0, count: r)
        var off = 0
        for o in 0..<count {
            src[o] = off
            var a = r - 1
            while a >= 0 {
                idx[a] += 1
                off += permStrides[a]
                if idx[a] < outDims[a] { break }
                off -= permStrides[a] * outDims[a]
                idx[a] = 0
                a -= 1
            }
        }
        if x.dataType.isFloatingPoint {
            return x.withFloats { p in Tensor(name: name, dims: outDims, floats: src.map { p[$0] }) }
        }
        let v = x.int64s()
        return Tensor(name: name, dims: outDims, int64s: src.map { v[$0] })
    }

    /// y = (x − zero_point) · scale (ONNX DequantizeLinear), in one of three layouts:
    /// - per tensor: a one-element scale (and zero point);
    /// - per axis: a 1-D scale of x.dims[axis] values, element i uses scale[i_axis];
    /// - blocked (opset 21, `blockSize` B > 0): scale has x's rank, the same extents except
    ///   ⌈x.dims[axis]/B⌉ along `axis`, and element i uses the scale at i's index with
    ///   i_axis replaced by ⌊i_axis/B⌋ (the last block may be partial).
    /// The zero point, when present, has the scale's shape. Computed in Double, stored as float32.
    /// Mismatched shapes are a one-line error naming the node.
    static func dequantize(_ x: Tensor, scale: Tensor, zeroPoint: Tensor?, axis: Int, blockSize: Int = 0,
                           name: String, node: String, path: String) throws(ONNXError) -> Tensor {
        func fail(_ reason: String) -> ONNXError { .badNode(path: path, node: node, reason: reason) }
        let r = x.dims.count
        var values = [Float](repeating: 0, count: x.count)
        if let z = zeroPoint, z.count != scale.count {
            throw fail("zero point of \(z.count) values for a scale of \(scale.count) values")
        }
        if blockSize > 0 {
            guard let ax = Shapes.axis(axis, rank: r) else { throw fail("axis \(axis) out of range for rank \(r)") }
            let blocks = (x.dims[ax] + blockSize - 1) / blockSize
            var expected = x.dims
            expected[ax] = blocks
            guard scale.dims == expected else {
                throw fail("blocked scale of shape \(scale.dims) does not match \(x.dims) with block_size \(blockSize) on axis \(ax) (expected \(expected))")
            }
            if let z = zeroPoint, z.dims != scale.dims {
                throw fail("zero point of shape \(z.dims) does not match the blocked scale \(scale.dims)")
            }
            // x index (outer, i_axis, inner) → scale index (outer, ⌊i_axis/B⌋, inner).
            let inner = x.dims[(ax + 1)...].reduce(1, *)
            let extent = x.dims[ax]
            for i in 0..<x.count {
                let outer = i / (inner * max(extent, 1)), a = (i / inner) % max(extent, 1), k = i % inner
                let j = (outer * blocks + a / blockSize) * inner + k
                let z = zeroPoint?.double(at: j) ?? 0
                values[i] = Float((x.double(at: i) - z) * scale.double(at: j))
            }
        } else if scale.count == 1 {
            let s = scale.double(at: 0)
            let z = zeroPoint.map { $0.count > 0 ? $0.double(at: 0) : 0 } ?? 0
            for i in 0..<x.count { values[i] = Float((x.double(at: i) - z) * s) }
        } else {
            guard let ax = Shapes.axis(axis, rank: r), x.dims[ax] == scale.count else {
                throw fail("per-axis scale of \(scale.count) values does not match axis \(axis) of \(x.dims)")
            }
            let inner = x.dims[(ax + 1)...].reduce(1, *)
            let extent = x.dims[ax]
            for i in 0..<x.count {
                let c = (i / inner) % extent
                let z = zeroPoint?.double(at: c) ?? 0
                values[i] = Float((x.double(at: i) - z) * scale.double(at: c))
            }
        }
        return Tensor(name: name, dims: x.dims, floats: values)
    }

    static func generic(_ n: Node, inputs: [Tensor?], name: String, path: String) throws(ONNXError) -> Tensor? {
        let present = inputs.compactMap { $0 }
        guard let x = present.first else { return nil }
        let floating = present.contains { $0.dataType.isFloatingPoint }
        switch n.opType {
        case "Neg", "Sqrt", "Reciprocal", "Abs":
            let f: (Double) -> Double = switch n.opType {
            case "Neg": { -$0 }
            case "Sqrt": { $0.squareRoot() }
            case "Reciprocal": { 1 / $0 }
            default: { abs($0) }
            }
            return make(name, x.dims, x.doubles().map(f), floating: floating)
        case "Add", "Sub", "Mul", "Div":
            guard inputs.count >= 2, let b = inputs[1] else { return nil }
            guard let dims = Shapes.broadcast(x.dims, b.dims) else {
                throw .badNode(path: path, node: n.name, reason: "cannot broadcast \(x.dims) with \(b.dims)")
            }
            // Broadcasting can multiply sizes ([n, 1] + [1, n]); refuse to fold huge results.
            guard let count = Shapes.checkedProduct(dims), count <= ConstantFolder.maxComputed else { return nil }
            let sa = Shapes.broadcastStrides(x.dims, to: dims), sb = Shapes.broadcastStrides(b.dims, to: dims)
            let outStrides = Shapes.strides(dims)
            let av = x.doubles(), bv = b.doubles()
            var out = [Double](repeating: 0, count: count)
            for i in 0..<count {
                var rem = i, ia = 0, ib = 0
                for d in 0..<dims.count {
                    let c = rem / outStrides[d]
                    rem -= c * outStrides[d]
                    ia += c * sa[d]
                    ib += c * sb[d]
                }
                let p = av[ia], q = bv[ib]
                switch n.opType {
                case "Add": out[i] = p + q
                case "Sub": out[i] = p - q
                case "Mul": out[i] = p * q
                default:
                    if floating { out[i] = p / q } else { out[i] = q == 0 ? 0 : (p / q).rounded(.towardZero) }
                }
            }
            return make(name, dims, out, floating: floating)
        case "Concat":
            guard let axisAttr = n.int("axis") else {
                throw .badAttribute(path: path, node: n.name, attribute: "axis", reason: "missing")
            }
            let r = x.dims.count
            guard let ax = Shapes.axis(axisAttr, rank: r) else {
                throw .badAttribute(path: path, node: n.name, attribute: "axis", reason: "\(axisAttr) out of range for rank \(r)")
            }
            for t in present where t.dims.count != r || (0..<r).contains(where: { $0 != ax && t.dims[$0] != x.dims[$0] }) {
                throw .badNode(path: path, node: n.name, reason: "cannot concatenate \(x.dims) and \(t.dims) on axis \(ax)")
            }
            let outer = x.dims[..<ax].reduce(1, *)
            var dims = x.dims
            dims[ax] = present.reduce(0) { $0 + $1.dims[ax] }
            var out: [Double] = []
            out.reserveCapacity(dims.reduce(1, *))
            let vals = present.map { $0.doubles() }
            for o in 0..<outer {
                for (t, v) in zip(present, vals) {
                    let chunk = t.dims[ax...].reduce(1, *)
                    out.append(contentsOf: v[(o * chunk)..<((o + 1) * chunk)])
                }
            }
            return make(name, dims, out, floating: floating)
        case "Gather":
            guard inputs.count >= 2, let idx = inputs[1] else { return nil }
            let r = x.dims.count
            guard r >= 1, let ax = Shapes.axis(n.int("axis") ?? 0, rank: r) else { return nil }
            let extent = x.dims[ax]
            let outer = x.dims[..<ax].reduce(1, *)
            let inner = x.dims[(ax + 1)...].reduce(1, *)
            guard let outCount = Shapes.checkedProduct([outer, idx.count, inner]), outCount <= ConstantFolder.maxComputed else {
                return nil
            }
            let ids = try idx.int64s().map { v throws(ONNXError) -> Int in
                let i = v < 0 ? Int(v) + extent : Int(v)
                guard i >= 0 && i < extent else {
                    throw .badNode(path: path, node: n.name, reason: "index \(v) out of range for axis of extent \(extent)")
                }
                return i
            }
            let v = x.doubles()
            var out: [Double] = []
            out.reserveCapacity(outer * ids.count * inner)
            for o in 0..<outer {
                for i in ids { out.append(contentsOf: v[((o * extent + i) * inner)..<((o * extent + i + 1) * inner)]) }
            }
            let dims = Array(x.dims[..<ax]) + idx.dims + Array(x.dims[(ax + 1)...])
            return make(name, dims, out, floating: x.dataType.isFloatingPoint)
        case "Slice":
            let r = x.dims.count
            var starts: [Int], ends: [Int], axes: [Int], steps: [Int]
            if let s = n.ints("starts"), let e = n.ints("ends") {
                starts = s
                ends = e
                axes = n.ints("axes") ?? Array(0..<s.count)
                steps = Array(repeating: 1, count: s.count)
            } else {
                guard inputs.count >= 3, let s = inputs[1], let e = inputs[2] else { return nil }
                starts = s.int64s().map { Int(clamping: $0) }
                ends = e.int64s().map { Int(clamping: $0) }
                axes = (inputs.count > 3 ? inputs[3] : nil)?.int64s().map { Int($0) } ?? Array(0..<starts.count)
                steps = (inputs.count > 4 ? inputs[4] : nil)?.int64s().map { Int($0) } ?? Array(repeating: 1, count: starts.count)
            }
            guard starts.count == ends.count, axes.count == starts.count, steps.count == starts.count else { return nil }
            var ranges = x.dims.map { Array(0..<$0) }
            for k in 0..<starts.count {
                guard let a = Shapes.axis(axes[k], rank: r) else { return nil }
                ranges[a] = Shapes.sliceRange(start: starts[k], end: ends[k], step: steps[k], dim: x.dims[a])
            }
            let dims = ranges.map(\.count)
            let st = Shapes.strides(x.dims)
            let v = x.doubles()
            var out: [Double] = []
            out.reserveCapacity(dims.reduce(1, *))
            func walk(_ d: Int, _ off: Int) {
                if d == r { out.append(v[off]); return }
                for i in ranges[d] { walk(d + 1, off + i * st[d]) }
            }
            if dims.allSatisfy({ $0 > 0 }) { walk(0, 0) }
            return make(name, dims, out, floating: x.dataType.isFloatingPoint)
        default:
            return nil
        }
    }
}
