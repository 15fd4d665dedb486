/// Sign: y = −1, 0 or 1 (NaN stays NaN), type kept. Piecewise constant: no gradient
/// (the VJP is zero).
struct Sign: PointwiseFunction {
    func value(_ x: Float) -> Float { x > 0 ? 1 : (x < 0 ? -1 : (x.isNaN ? x : 0)) }
    func derivative(_ x: Float, _ y: Float) -> Float { 0 }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Sign().kernel() }
}
