import Foundation

/// Log: y = ln x (−∞ at 0, NaN below); dy/dx = 1/x.
struct Log: PointwiseFunction {
    func value(_ x: Float) -> Float { logf(x) }
    func derivative(_ x: Float, _ y: Float) -> Float { 1 / x }
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel { Log().kernel() }
}
