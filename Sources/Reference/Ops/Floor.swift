/// Floor: y = ⌊x⌋. Piecewise constant: no gradient (the VJP is zero).
struct Floor: PointwiseFunction {
    func value(_ x: Float) -> Float { x.rounded(.down) }
    func derivative(_ x: Float, _ y: Float) -> Float { 0 }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Floor().kernel() }
}
