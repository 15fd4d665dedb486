/// HardSwish: y = x·clamp(x/6 + 1/2, 0, 1); dy/dx = 0 (x < −3), 1 (x > 3), x/3 + 1/2 between.
struct HardSwish: PointwiseFunction {
    func value(_ x: Float) -> Float { x * min(1, max(0, x / 6 + 0.5)) }
    func derivative(_ x: Float, _ y: Float) -> Float { x < -3 ? 0 : (x > 3 ? 1 : x / 3 + 0.5) }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { HardSwish().kernel() }
}
