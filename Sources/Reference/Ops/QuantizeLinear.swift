import ONNX

/// QuantizeLinear(x, y_scale, y_zero_point?; axis = 1, block_size = 0, output_dtype) and
/// com.microsoft's QuantizeLinear: y = saturate(round(x / scale) + zero_point), rounding half
/// to even, per tensor, per axis (1-D scale along `axis`) or blocked (opset 21). The result
/// type is the zero point's, else `output_dtype`, else UINT8 (8/16/32-bit and 4-bit
/// integers; the 8-bit floats are not supported). VJP (straight-through): dx = g / scale where the result is inside the type's
/// range, 0 where it saturated; scale and zero point get none.
enum QuantizeLinear {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let scale = try c.shape(1)
        var dtype = DataType.uint8
        if c.has(2) { dtype = c.dtype(2) } else if let code = c.node.int("output_dtype"), code != 0 {
            guard let t = DataType(rawValue: Int32(truncatingIfNeeded: code)) else { throw c.fail("unknown output_dtype \(code)") }
            dtype = t
        }
        guard quantRange(dtype) != nil else { throw c.fail("quantizing to \(dtype) is not supported") }
        if c.has(2), try c.shape(2) != scale { throw c.fail("zero point \(try c.shape(2)) and scale \(scale) differ in shape") }
        let layout = try QuantLayout.make(c, value: x, scale: scale, axis: c.node.int("axis") ?? 1,
                                          block: c.node.int("block_size") ?? 0)
        return QuantizedKernel(inner: ReshapeKernel(shape: x), operands: [.dequantized(value: 0, scale: nil, zero: nil, layout: layout)],
                               outScale: 1, outZero: c.has(2) ? 2 : nil, outLayout: layout, dtype: dtype)
    }
}
