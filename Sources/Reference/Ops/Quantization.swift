import ONNX

// Shared pieces of the quantized ops: integer ranges, where each element finds its scale
// and zero point (per tensor, per axis, blocked), and the kernel that runs a quantized op
// as "dequantize the operands → the float op → quantize the result".
//
// Gradients are the straight-through estimator (STE): a quantized op is differentiated as
// the real-valued map it approximates. Dequantization (q − zp)·s has VJP s; quantization
// clamp(round(y/s) + zp) has VJP 1/s where the result is inside the type's range and 0 where
// it saturated (the clamp's own derivative; the rounding is passed straight through). Scales
// and zero points get no gradient (they are constants, or — for dynamic quantization —
// treated as constants, so DQ∘Q has the identity's gradient).

/// The integer range of a quantized type.
func quantRange(_ t: DataType) -> (lo: Float, hi: Float)? {
    switch t {
    case .uint4: return (0, 15)
    case .int4: return (-8, 7)
    case .uint8: return (0, 255)
    case .int8: return (-128, 127)
    case .uint16: return (0, 65535)
    case .int16: return (-32768, 32767)
    // The largest float32 below 2³¹ (2³¹ − 1 itself is not a float32).
    case .int32: return (-0x1p31, 0x1.fffffep30)
    default: return nil
    }
}

/// Round half to even, add the zero point, saturate to [lo, hi]; whether it saturated.
@inline(__always)
func quantize(_ v: Float, zero: Float, lo: Float, hi: Float) -> (Float, Bool) {
    let r = v.rounded(.toNearestOrEven) + zero
    if r < lo { return (lo, false) }
    if r > hi { return (hi, false) }
    return (r, true)
}

/// Element j of a per-tensor (one value) or per-element parameter list; `fallback` if empty.
@inline(__always)
func pick(_ values: [Float], _ j: Int, _ fallback: Float) -> Float {
    values.isEmpty ? fallback : values[min(j, values.count - 1)]
}

/// Which scale / zero point each element of a tensor uses.
struct QuantLayout: Sendable {
    /// Per element, an index into the scale and zero point (nil: one for the whole tensor).
    let index: [Int32]?

    func at(_ i: Int) -> Int { index.map { Int($0[i]) } ?? 0 }

    /// Per tensor (one scale), per axis (a 1-D scale of x's extent on `axis`) or blocked
    /// (`block` > 0: the scale has x's shape with ⌈extent/block⌉ on `axis`).
    static func make(_ c: KernelContext, value shape: [Int], scale: [Int], axis: Int, block: Int = 0) throws(ReferenceError) -> QuantLayout {
        let count = scale.reduce(1, *)
        if block <= 0 && count == 1 { return QuantLayout(index: nil) }
        let a = try c.axis(axis, rank: max(shape.count, 1))
        guard a < shape.count else { throw c.fail("axis \(axis) does not fit a scalar") }
        let inner = shape[(a + 1)...].reduce(1, *), n = shape[a], total = shape.reduce(1, *)
        var index = [Int32](repeating: 0, count: total)
        if block > 0 {
            var expected = shape
            expected[a] = (n + block - 1) / block
            guard scale == expected else { throw c.fail("blocked scale \(scale) does not fit \(shape), axis \(a), block \(block)") }
            let sStrides = Shapes.strides(scale), strides = Shapes.strides(shape)
            for i in 0..<total {
                var rest = i, off = 0
                for d in shape.indices {
                    let coord = rest / strides[d]
                    rest %= strides[d]
                    off += (d == a ? coord / block : coord) * sStrides[d]
                }
                index[i] = Int32(off)
            }
        } else {
            guard count == n, scale.count <= 1 || scale.filter({ $0 != 1 }).count <= 1 else {
                throw c.fail("per-axis scale \(scale) does not fit extent \(n) on axis \(a) of \(shape)")
            }
            for i in 0..<total { index[i] = Int32((i / max(inner, 1)) % max(n, 1)) }
        }
        return QuantLayout(index: index)
    }
}

/// How the float op's operand k is obtained from the quantized op's inputs.
enum QuantOperand {
    /// (x − zp)·scale, read at run time (`scale` nil: 1; `zero` nil: 0).
    case dequantized(value: Int, scale: Int?, zero: Int?, layout: QuantLayout)
    /// Quantized on the fly to UINT8 as DynamicQuantizeLinear does, then dequantized (STE).
    case dynamic(value: Int)
    /// A constant the float op was built with (a dequantized weight), passed as is.
    case fixed(Value)
}

/// A quantized op as float op ∘ dequantized operands, the result optionally shifted by a
/// bias along its last axis and quantized with (scale, zero point) inputs; or left as float
/// / integer (`dtype`). VJP: the STE described at the top of this file.
struct QuantizedKernel: Kernel {
    let inner: any Kernel
    let operands: [QuantOperand]
    /// Input index of a float bias added along the last axis, if any.
    var bias: Int? = nil
    /// Inputs holding the output's scale and zero point; nil for an unquantized result.
    var outScale: Int? = nil
    var outZero: Int? = nil
    var outLayout = QuantLayout(index: nil)
    /// The result's element type (the zero point's type, FLOAT, INT32).
    let dtype: DataType

    func innerInputs(_ inputs: [Value?]) -> [Value?] {
        operands.map { op -> Value? in
            switch op {
            case let .fixed(v): return v
            case let .dynamic(k):
                guard let x = inputs[k] else { return nil }
                let (s, z) = DynamicQuantizeLinear.parameters(x.data)
                return Value(shape: x.shape, data: x.data.map { s > 0 ? (quantize($0 / s, zero: z, lo: 0, hi: 255).0 - z) * s : 0 })
            case let .dequantized(k, si, zi, layout):
                guard let x = inputs[k] else { return nil }
                let s = si.flatMap { inputs[$0]?.data } ?? [1], z = zi.flatMap { inputs[$0]?.data } ?? [0]
                var y = x.data
                for i in y.indices { let j = layout.at(i); y[i] = (y[i] - pick(z, j, 0)) * pick(s, j, 1) }
                return Value(shape: x.shape, data: y)
            }
        }
    }

    /// The real-valued result (bias added) from the float op's outputs.
    func real(_ inputs: [Value?], _ outs: [Value]) -> Value? {
        guard var y = outs.first else { return nil }
        if let bias, let b = inputs[bias], !b.data.isEmpty {
            for i in y.data.indices { y.data[i] += b.data[i % b.data.count] }
        }
        return y
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let y = real(inputs, try inner.forward(innerInputs(inputs))) else { return [] }
        guard let outScale, let s = inputs[outScale]?.data, let range = quantRange(dtype) else {
            return [Value(shape: y.shape, data: y.data, dtype: dtype)]
        }
        let z = outZero.flatMap { inputs[$0]?.data } ?? [0]
        var q = y.data
        for i in q.indices {
            let j = outLayout.at(i)
            q[i] = quantize(y.data[i] / pick(s, j, 1), zero: pick(z, j, 0), lo: range.lo, hi: range.hi).0
        }
        return [Value(shape: y.shape, data: q, dtype: dtype)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        let inner = innerInputs(a.inputs)
        let innerOuts = try self.inner.forward(inner)
        guard let y = real(a.inputs, innerOuts) else { return a.inputs.map { _ in nil } }
        var g = a.grad
        let n = y.count
        if let outScale, let s = a.inputs[outScale]?.data, let range = quantRange(dtype) {
            let z = outZero.flatMap { a.inputs[$0]?.data } ?? [0]
            var d = [Float](repeating: 0, count: n)
            for i in 0..<n {
                let j = outLayout.at(i), si = pick(s, j, 1)
                d[i] = quantize(y.data[i] / si, zero: pick(z, j, 0), lo: range.lo, hi: range.hi).1 ? 1 / si : 0
            }
            for r in 0..<a.rows { for i in 0..<n { g[r * n + i] *= d[i] } }
        }
        let innerWants = operands.map { op -> Bool in
            switch op {
            case let .dequantized(k, _, _, _), let .dynamic(k): return a.wants[k]
            case .fixed: return false
            }
        }
        var grads = innerOuts.map { [Float].zeros(a.rows * $0.count) }
        if !grads.isEmpty { grads[0] = g }
        let gi = try self.inner.backward(BackwardArgs(inputs: inner, outputs: innerOuts, grads: grads, rows: a.rows, wants: innerWants))
        var result = [[Float]?](repeating: nil, count: a.inputs.count)
        for (k, op) in operands.enumerated() where k < gi.count {
            guard var gk = gi[k] else { continue }
            switch op {
            case let .dynamic(v): result[v] = gk
            case let .dequantized(v, si, _, layout):
                if let si, let s = a.inputs[si]?.data, let x = a.inputs[v] {
                    let m = x.count
                    for r in 0..<a.rows { for i in 0..<m { gk[r * m + i] *= pick(s, layout.at(i), 1) } }
                }
                result[v] = gk
            case .fixed: break
            }
        }
        return result
    }
}

extension KernelContext {
    /// A context for the float op `op` behind a quantized node: same name and attributes
    /// (plus `extra`), the given operand shapes and constant operands.
    func inner(_ op: String, shapes: [[Int]?], constants: [Tensor?] = [], extra: [String: Attribute] = [:],
               drop: [String] = [], opset: Int? = nil) -> KernelContext {
        var attributes = node.attributes.merging(extra) { _, new in new }
        for d in drop { attributes[d] = nil }
        let n = Node(name: node.name, opType: op, inputs: shapes.indices.map { "\(node.name):\($0)" },
                     outputs: ["\(node.name):y"], attributes: attributes)
        return KernelContext(node: n, shapes: shapes, constants: constants + [Tensor?](repeating: nil, count: max(0, shapes.count - constants.count)),
                             opset: opset ?? self.opset, dtypes: shapes.map { _ in .float })
    }

    /// The dequantized value of constant input `value` as a float tensor: (q − zp)·scale
    /// with per-tensor or per-axis parameters (inputs `scale`, `zero`, axis `axis`).
    func dequantizedConstant(_ value: Int, scale: Int?, zero: Int?, axis: Int, extraScale: [Float]? = nil) throws(ReferenceError) -> Tensor {
        guard let t = try constant(value) else { throw fail("input \(value) is missing") }
        let s = try scale.flatMap { i throws(ReferenceError) in try constantFloats(i) } ?? [1]
        let z = try zero.flatMap { i throws(ReferenceError) in try constantFloats(i) } ?? [0]
        let layout = try QuantLayout.make(self, value: t.dims, scale: [max(s.count, z.count, extraScale?.count ?? 1)].filter { $0 > 1 },
                                          axis: axis)
        var v = t.floats()
        for i in v.indices {
            let j = layout.at(i)
            v[i] = (v[i] - pick(z, j, 0)) * pick(s, j, 1) * pick(extraScale ?? [], j, 1)
        }
        return Tensor(name: t.name, dims: t.dims, floats: v)
    }
}

extension KernelContext {
    /// Operand `value` dequantized with inputs `scale` and `zero` (either may be absent),
    /// per tensor or per `axis`: precomputed as a float constant when it and its parameters
    /// are constant (a weight), else read at run time. Also returns the constant, if any.
    func quantOperand(_ value: Int, scale: Int?, zero: Int?, axis: Int, extraScale: [Float]? = nil) throws(ReferenceError) -> (QuantOperand, Tensor?) {
        let x = try shape(value)
        let s = scale.flatMap { has($0) ? $0 : nil }, z = zero.flatMap { has($0) ? $0 : nil }
        do throws(ReferenceError) {
            let t = try dequantizedConstant(value, scale: s, zero: z, axis: axis, extraScale: extraScale)
            return (.fixed(Value(shape: t.dims, data: t.floats())), t)
        } catch .notConstant {
            guard extraScale == nil else { throw fail("input \(value) must be a constant") }
            var p: [Int] = []
            if let s { p = try shape(s) } else if let z { p = try shape(z) }
            return (.dequantized(value: value, scale: s, zero: z, layout: try QuantLayout.make(self, value: x, scale: p, axis: axis)), nil)
        }
    }

    /// The quantized result's type: that of the zero point input `zero`, else `fallback`;
    /// it must be an 8/16/32-bit integer type.
    func quantType(zero: Int, fallback: DataType = .uint8) throws(ReferenceError) -> DataType {
        let t = has(zero) ? dtype(zero) : fallback
        guard quantRange(t) != nil else { throw fail("quantized type \(t) is not supported (zero point input \(zero))") }
        return t
    }
}
