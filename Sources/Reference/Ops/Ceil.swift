/// Ceil: y = ⌈x⌉. Piecewise constant: no gradient (the VJP is zero).
struct Ceil: PointwiseFunction {
    func value(_ x: Float) -> Float { x.rounded(.up) }
    func derivative(_ x: Float, _ y: Float) -> Float { 0 }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Ceil().kernel() }
}
