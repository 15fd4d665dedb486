import Foundation
import ONNX

/// A scalar function applied elementwise, with its derivative. `derivative(x, y)` gets
/// the input and the forward output (cheaper for Sigmoid/Tanh).
protocol PointwiseFunction: Sendable {
    func value(_ x: Float) -> Float
    func derivative(_ x: Float, _ y: Float) -> Float
    /// The result's element type for an input of type `x` (default: the same).
    func resultType(_ x: DataType) -> DataType
}

/// y = f(x) elementwise; VJP dx = f′(x)·dy, the derivative computed once per backward
/// and broadcast over the k cotangent rows.
struct PointwiseKernel<F: PointwiseFunction>: Kernel {
    let f: F
    /// out[i] = f(x[i]) and out[i] = f′(x[i], y[i]) over whole buffers, built by
    /// ``PointwiseFunction/kernel()`` where F is concrete: the element function is then inlined
    /// into the loop. (The kernel is used as `any Kernel`, whose generic `forward` would call
    /// `f.value` through the witness table once per element: 0.4 ms per ReLU of 1.2 M floats.)
    let map: @Sendable (UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void
    let derive: @Sendable (UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>, UnsafeMutableBufferPointer<Float>) -> Void

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        let n = x.data.count
        let y = [Float](unsafeUninitializedCapacity: n) { out, count in
            x.data.withUnsafeBufferPointer { src in map(src, UnsafeMutableBufferPointer(rebasing: out[0..<n])) }
            count = n
        }
        return [Value(shape: x.shape, data: y, dtype: f.resultType(x.dtype))]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        guard let x = a.inputs[0] else { return [nil] }
        let n = x.count
        guard n > 0, a.outputs[0].data.count == n, a.grad.count >= a.rows * n else {
            return [a.grad] + Array(repeating: nil, count: max(0, a.inputs.count - 1))
        }
        let d = [Float](unsafeUninitializedCapacity: n) { out, count in
            x.data.withUnsafeBufferPointer { xs in
                a.outputs[0].data.withUnsafeBufferPointer { ys in derive(xs, ys, UnsafeMutableBufferPointer(rebasing: out[0..<n])) }
            }
            count = n
        }
        var g = a.grad
        g.withUnsafeMutableBufferPointer { gb in
            d.withUnsafeBufferPointer { db in
                for r in 0..<a.rows {
                    let o = r * n
                    for i in 0..<n { gb[o + i] *= db[i] }
                }
            }
        }
        return [g] + Array(repeating: nil, count: max(0, a.inputs.count - 1))
    }
}

extension PointwiseFunction {
    func resultType(_ x: DataType) -> DataType { x }

    /// The kernel for this function (no shape checks needed); the loops are specialised for
    /// `Self` here (see ``PointwiseKernel/map``).
    func kernel() -> any Kernel {
        let f = self
        return PointwiseKernel(f: f,
                               map: { src, out in for i in 0..<min(src.count, out.count) { out[i] = f.value(src[i]) } },
                               derive: { xs, ys, out in for i in 0..<min(xs.count, ys.count, out.count) { out[i] = f.derivative(xs[i], ys[i]) } })
    }
}
