import ONNX

/// DequantizeLinear(x, x_scale, x_zero_point?; axis = 1, block_size = 0) and
/// com.microsoft's DequantizeLinear: y = (x − zero_point)·scale, per tensor, per axis
/// (1-D scale along `axis`) or blocked (opset 21); INT32 input (a quantized bias) has no
/// zero point. The result has the scale's floating type. VJP (straight-through for the
/// integer input): dx = g·scale; scale and zero point get none.
enum DequantizeLinear {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let scale = try c.shape(1)
        if c.has(2), try c.shape(2) != scale { throw c.fail("zero point \(try c.shape(2)) and scale \(scale) differ in shape") }
        let layout = try QuantLayout.make(c, value: x, scale: scale, axis: c.node.int("axis") ?? 1,
                                          block: c.node.int("block_size") ?? 0)
        let dtype = c.dtype(1).isFloatingPoint ? c.dtype(1) : .float
        return QuantizedKernel(inner: ReshapeKernel(shape: x),
                               operands: [.dequantized(value: 0, scale: 1, zero: c.has(2) ? 2 : nil, layout: layout)],
                               dtype: dtype)
    }
}
