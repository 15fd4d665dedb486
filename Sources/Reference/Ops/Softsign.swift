/// Softsign: y = x/(1 + |x|); dy/dx = 1/(1 + |x|)².
struct Softsign: PointwiseFunction {
    func value(_ x: Float) -> Float { x / (1 + abs(x)) }
    func derivative(_ x: Float, _ y: Float) -> Float {
        let d = 1 + abs(x)
        return 1 / (d * d)
    }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Softsign().kernel() }
}
