/// PRelu: y = x for x ≥ 0, slope·x for x < 0, the slope broadcast to x (unidirectional in
/// ONNX; numpy rules here). ∂y/∂x = 1 or slope; ∂y/∂slope = 0 or x.
struct PReluOp: BinaryFunction {
    static func value(_ a: Float, _ b: Float) -> Float { a < 0 ? b * a : a }
    static func da(_ a: Float, _ b: Float, _ y: Float) -> Float { a < 0 ? b : 1 }
    static func db(_ a: Float, _ b: Float, _ y: Float) -> Float { a < 0 ? a : 0 }
}

enum PRelu {
    /// Before opset 7, a 1-D slope of x's channel count is per channel (axis 1), not numpy
    /// broadcast along the last axis: it is read as [C, 1, …, 1].
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let a = try c.shape(0), b = try c.shape(1)
        if c.opset < 7, a.count > 2, b.count == 1, b[0] == a[1], b[0] > 1 {
            let channel = [b[0]] + [Int](repeating: 1, count: a.count - 2)
            return BinaryOp<PReluOp>(shape: a, dtype: c.dtype(0), integerOperands: !c.dtype(0).isFloatingPoint,
                                     tableA: nil, tableB: IndexTable.broadcast(channel, to: a), countA: a.reduce(1, *), countB: b[0])
        }
        return try BinaryOp<PReluOp>.make(c)
    }
}
