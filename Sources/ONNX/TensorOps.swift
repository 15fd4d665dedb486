import Foundation

/// Small computations on constant tensors used by folding. Results are FLOAT when any
/// operand is floating point, INT64 otherwise.
enum TensorOps {
    static func make(_ name: String, _ dims: [Int], _ values: [Double], floating: Bool) -> Tensor {
        floating ? Tensor(name: name, dims: dims, floats: values.map { Float($0) })
                 : Tensor(name: name, dims: dims, int64s: values.map(int64))
    }

    static func makeBool(_ name: String, _ dims: [Int], _ values: [Double]) -> Tensor {
        Tensor(name: name, dims: dims, bools: values.map { $0 != 0 })
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

    /// For each element of x, the index of its scale (and zero point) in one of the three
    /// layouts of QuantizeLinear/DequantizeLinear:
    /// - per tensor: a one-element scale (and zero point);
    /// - per axis: a 1-D scale of x.dims[axis] values, element i uses scale[i_axis];
    /// - blocked (opset 21, `blockSize` B > 0): scale has x's rank, the same extents except
    ///   ⌈x.dims[axis]/B⌉ along `axis`, and element i uses the scale at i's index with
    ///   i_axis replaced by ⌊i_axis/B⌋ (the last block may be partial).
    /// The zero point, when present, has the scale's shape. Mismatches are a one-line error.
    static func quantizationIndex(_ dims: [Int], scale: Tensor, zeroPoint: Tensor?, axis: Int, blockSize: Int,
                                  node: String, path: String) throws(ONNXError) -> (Int) -> Int {
        func fail(_ reason: String) -> ONNXError { .badNode(path: path, node: node, reason: reason) }
        let r = dims.count
        if let z = zeroPoint, z.count != scale.count {
            throw fail("zero point of \(z.count) values for a scale of \(scale.count) values")
        }
        if blockSize > 0 {
            guard let ax = Shapes.axis(axis, rank: r) else { throw fail("axis \(axis) out of range for rank \(r)") }
            let blocks = (dims[ax] + blockSize - 1) / blockSize
            var expected = dims
            expected[ax] = blocks
            guard scale.dims == expected else {
                throw fail("blocked scale of shape \(scale.dims) does not match \(dims) with block_size \(blockSize) on axis \(ax) (expected \(expected))")
            }
            if let z = zeroPoint, z.dims != scale.dims {
                throw fail("zero point of shape \(z.dims) does not match the blocked scale \(scale.dims)")
            }
            // x index (outer, i_axis, inner) → scale index (outer, ⌊i_axis/B⌋, inner).
            let inner = dims[(ax + 1)...].reduce(1, *)
            let extent = max(dims[ax], 1)
            return { i in
                let outer = i / (inner * extent), a = (i / inner) % extent, k = i % inner
                return (outer * blocks + a / blockSize) * inner + k
            }
        }
        if scale.count == 1 { return { _ in 0 } }
        guard let ax = Shapes.axis(axis, rank: r), dims[ax] == scale.count else {
            throw fail("per-axis scale of \(scale.count) values does not match axis \(axis) of \(dims)")
        }
        let inner = dims[(ax + 1)...].reduce(1, *)
        let extent = dims[ax]
        return { ($0 / inner) % extent }
    }

    /// y = (x − zero_point) · scale (ONNX DequantizeLinear; layouts: ``quantizationIndex``),
    /// computed in Double, stored as float32.
    static func dequantize(_ x: Tensor, scale: Tensor, zeroPoint: Tensor?, axis: Int, blockSize: Int = 0,
                           name: String, node: String, path: String) throws(ONNXError) -> Tensor {
        let index = try quantizationIndex(x.dims, scale: scale, zeroPoint: zeroPoint, axis: axis, blockSize: blockSize, node: node, path: path)
        var values = [Float](repeating: 0, count: x.count)
        for i in 0..<x.count {
            let j = index(i)
            values[i] = Float((x.double(at: i) - (zeroPoint?.double(at: j) ?? 0)) * scale.double(at: j))
        }
        return Tensor(name: name, dims: x.dims, floats: values)
    }

    /// y = saturate(round(x / scale) + zero_point) (ONNX QuantizeLinear: round half to even,
    /// saturation to the output type's range), for the integer output types; the type is the
    /// zero point's, else `output_dtype`, else UINT8. Stored as INT64 (the values are exact).
    /// nil for 8-bit float outputs (not folded) and for a zero scale.
    static func quantize(_ x: Tensor, scale: Tensor, zeroPoint: Tensor?, axis: Int, blockSize: Int, outputType: DataType?,
                         name: String, node: String, path: String) throws(ONNXError) -> Tensor? {
        let type = zeroPoint?.dataType ?? outputType ?? .uint8
        let range: (Double, Double)
        switch type {
        case .uint8: range = (0, 255)
        case .int8: range = (-128, 127)
        case .uint16: range = (0, 65535)
        case .int16: range = (-32768, 32767)
        case .uint4: range = (0, 15)
        case .int4: range = (-8, 7)
        default: return nil
        }
        let index = try quantizationIndex(x.dims, scale: scale, zeroPoint: zeroPoint, axis: axis, blockSize: blockSize, node: node, path: path)
        var values = [Int64](repeating: 0, count: x.count)
        for i in 0..<x.count {
            let j = index(i)
            let s = scale.double(at: j)
            guard s != 0, s.isFinite else { return nil }
            let q = (x.double(at: i) / s).rounded(.toNearestOrEven) + (zeroPoint?.double(at: j) ?? 0)
            values[i] = q.isNaN ? 0 : Int64(min(max(q, range.0), range.1))
        }
        return Tensor(name: name, dims: x.dims, int64s: values)
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
        case "Not", "Floor", "Ceil", "Round", "Exp", "Log", "Sign", "IsNaN", "IsInf":
            let f: (Double) -> Double = switch n.opType {
            case "Not": { $0 == 0 ? 1 : 0 }
            case "Floor": { $0.rounded(.down) }
            case "Ceil": { $0.rounded(.up) }
            case "Round": { $0.rounded(.toNearestOrEven) }
            case "Exp": { Foundation.exp($0) }
            case "Log": { Foundation.log($0) }
            case "IsNaN": { $0.isNaN ? 1 : 0 }
            case "IsInf": { $0.isInfinite ? 1 : 0 }
            default: { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }
            }
            let boolOut = ["Not", "IsNaN", "IsInf"].contains(n.opType)
            return boolOut ? makeBool(name, x.dims, x.doubles().map(f)) : make(name, x.dims, x.doubles().map(f), floating: floating)
        case "Where":
            guard inputs.count >= 3, let a = inputs[1], let b = inputs[2] else { return nil }
            guard let d1 = Shapes.broadcast(x.dims, a.dims), let dims = Shapes.broadcast(d1, b.dims),
                  let count = Shapes.checkedProduct(dims), count <= ConstantFolder.maxComputed else { return nil }
            let sc = Shapes.broadcastStrides(x.dims, to: dims), sa = Shapes.broadcastStrides(a.dims, to: dims)
            let sb = Shapes.broadcastStrides(b.dims, to: dims), st = Shapes.strides(dims)
            let cv = x.doubles(), av = a.doubles(), bv = b.doubles()
            var out = [Double](repeating: 0, count: count)
            for i in 0..<count {
                var rem = i, ic = 0, ia = 0, ib = 0
                for d in 0..<dims.count {
                    let c = rem / st[d]
                    rem -= c * st[d]
                    ic += c * sc[d]; ia += c * sa[d]; ib += c * sb[d]
                }
                out[i] = cv[ic] != 0 ? av[ia] : bv[ib]
            }
            return make(name, dims, out, floating: a.dataType.isFloatingPoint || b.dataType.isFloatingPoint)
        case "Range":
            guard inputs.count >= 3, let limit = inputs[1], let delta = inputs[2], x.count == 1, limit.count == 1, delta.count == 1 else { return nil }
            let start = x.double(at: 0), end = limit.double(at: 0), step = delta.double(at: 0)
            guard step != 0, start.isFinite, end.isFinite, step.isFinite else { return nil }
            let n = max(0, Int(((end - start) / step).rounded(.up)))
            guard n <= ConstantFolder.maxComputed else { return nil }
            return make(name, [n], (0..<n).map { start + Double($0) * step }, floating: floating)
        case "Size":
            return Tensor(name: name, dims: [], int64s: [Int64(x.count)])
        case "Expand":
            guard inputs.count >= 2, let shape = inputs[1] else { return nil }
            guard let dims = Shapes.broadcast(x.dims, shape.int64s().map { Int(clamping: $0) }),
                  let count = Shapes.checkedProduct(dims), count <= ConstantFolder.maxComputed else { return nil }
            let sx = Shapes.broadcastStrides(x.dims, to: dims), st = Shapes.strides(dims)
            let v = x.doubles()
            var out = [Double](repeating: 0, count: count)
            for i in 0..<count {
                var rem = i, ix = 0
                for d in 0..<dims.count { let c = rem / st[d]; rem -= c * st[d]; ix += c * sx[d] }
                out[i] = v[ix]
            }
            return x.dataType == .bool ? makeBool(name, dims, out) : make(name, dims, out, floating: x.dataType.isFloatingPoint)
        case "ReduceProd", "ReduceSum", "ReduceMin", "ReduceMax":
            // Shape arithmetic: reductions of small constant vectors over all elements.
            let axes = n.ints("axes") ?? (inputs.count > 1 ? inputs[1]?.int64s().map { Int($0) } : nil)
            guard axes == nil || axes?.isEmpty == true || (x.dims.count == 1 && axes == [0]) || x.dims.count == 0 else { return nil }
            let v = x.doubles()
            let r: Double = switch n.opType {
            case "ReduceProd": v.reduce(1, *)
            case "ReduceSum": v.reduce(0, +)
            case "ReduceMin": v.min() ?? .infinity
            default: v.max() ?? -.infinity
            }
            let keep = (n.int("keepdims") ?? 1) == 1
            return make(name, keep ? Array(repeating: 1, count: x.dims.count) : [], [r], floating: floating)
        case "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Pow", "Max", "Min", "Mod",
             "Add", "Sub", "Mul", "Div":
            guard inputs.count >= 2, let b = inputs[1] else { return nil }
            guard let dims = Shapes.broadcast(x.dims, b.dims) else {
                throw .badNode(path: path, node: n.name, reason: "cannot broadcast \(x.dims) with \(b.dims)")
            }
            // Broadcasting can multiply sizes ([n, 1] + [1, n]); refuse to fold huge results.
            guard let count = Shapes.checkedProduct(dims), count <= ConstantFolder.maxComputed else { return nil }
            let av = x.doubles(), bv = b.doubles()
            var out = [Double](repeating: 0, count: count)
            Shapes.forEachBroadcastPair(x.dims, b.dims, to: dims) { i, ia, ib in
                let p = av[ia], q = bv[ib]
                switch n.opType {
                case "Add": out[i] = p + q
                case "Sub": out[i] = p - q
                case "Mul": out[i] = p * q
                case "Equal": out[i] = p == q ? 1 : 0
                case "Less": out[i] = p < q ? 1 : 0
                case "Greater": out[i] = p > q ? 1 : 0
                case "LessOrEqual": out[i] = p <= q ? 1 : 0
                case "GreaterOrEqual": out[i] = p >= q ? 1 : 0
                case "And": out[i] = p != 0 && q != 0 ? 1 : 0
                case "Or": out[i] = p != 0 || q != 0 ? 1 : 0
                case "Xor": out[i] = (p != 0) != (q != 0) ? 1 : 0
                case "Pow": out[i] = Foundation.pow(p, q)
                case "Max": out[i] = Swift.max(p, q)
                case "Min": out[i] = Swift.min(p, q)
                case "Mod":
                    if floating || n.int("fmod") == 1 { out[i] = q == 0 ? .nan : p.truncatingRemainder(dividingBy: q) } else {
                        // Integer Mod takes the divisor's sign (Python semantics).
                        out[i] = q == 0 ? 0 : p - q * (p / q).rounded(.down)
                    }
                default:
                    if floating { out[i] = p / q } else { out[i] = q == 0 ? 0 : (p / q).rounded(.towardZero) }
                }
            }
            if ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"].contains(n.opType) {
                return makeBool(name, dims, out)
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
