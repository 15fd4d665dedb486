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

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        let n = x.data.count
        let y = [Float](unsafeUninitializedCapacity: n) { out, count in
            x.data.withUnsafeBufferPointer { src in
                for i in 0..<n { out[i] = f.value(src[i]) }
            }
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
                a.outputs[0].data.withUnsafeBufferPointer { ys in
                    for i in 0..<n { out[i] = f.derivative(xs[i], ys[i]) }
                }
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

    /// The kernel for this function (no shape checks needed).
    func kernel() -> any Kernel { PointwiseKernel(f: self) }
}
