/// Clip: y = min(max(x, lo), hi), bounds from attributes (opset < 11) or constant inputs;
/// dy/dx = 1 for lo ≤ x ≤ hi, else 0.
struct Clip: PointwiseFunction {
    let lo: Float
    let hi: Float
    func value(_ x: Float) -> Float { min(hi, max(lo, x)) }
    func derivative(_ x: Float, _ y: Float) -> Float { x >= lo && x <= hi ? 1 : 0 }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        if c.opset < 11 {
            return Clip(lo: c.node.float("min") ?? -.greatestFiniteMagnitude,
                        hi: c.node.float("max") ?? .greatestFiniteMagnitude).kernel()
        }
        let lo = try c.constantFloats(1)?.first ?? -.greatestFiniteMagnitude
        let hi = try c.constantFloats(2)?.first ?? .greatestFiniteMagnitude
        return Clip(lo: lo, hi: hi).kernel()
    }
}
