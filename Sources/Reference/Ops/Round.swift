/// Round: to the nearest integer, exact .5 ties to even (ONNX; numpy.round). Piecewise
/// constant: no gradient (the VJP is zero).
struct Round: PointwiseFunction {
    func value(_ x: Float) -> Float { x.rounded(.toNearestOrEven) }
    func derivative(_ x: Float, _ y: Float) -> Float { 0 }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Round().kernel() }
}
