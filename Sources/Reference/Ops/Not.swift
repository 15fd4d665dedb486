/// Not of a BOOL tensor: y = ¬x (nonzero = true), BOOL kept. No gradient (boolean).
struct Not: PointwiseFunction {
    func value(_ x: Float) -> Float { x == 0 ? 1 : 0 }
    func derivative(_ x: Float, _ y: Float) -> Float { 0 }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Not().kernel() }
}
