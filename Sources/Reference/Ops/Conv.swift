import Linalg
import ONNX

/// Conv: y = W ⋆ x + b for x (N, C, spatial…), weight (M, C/g, k…) constant, optional
/// bias (M), attributes strides/pads/auto_pad/dilations/group. The linear part is
/// Linalg's `ConvOperator` (im2col + sgemm), or ``DepthwiseConv2D`` for 2-D depthwise
/// convolutions; the VJP is its adjoint (col2im), batched over the k cotangent rows × N.
struct Conv: Kernel {
    let op: ConvOperator
    let bias: [Float]?
    let shape: [Int]
    /// The direct depthwise path (2-D, group = C_in), when it applies.
    var depthwise: DepthwiseConv2D? = nil

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        guard let w = try c.constant(1) else { throw c.fail("missing weight") }
        guard x.count >= 3, w.dims.count == x.count else { throw c.fail("input \(x) and weight \(w.dims) do not fit") }
        let groups = c.node.int("group") ?? 1
        guard groups >= 1, x[1] % groups == 0, x[1] / groups == w.dims[1] else {
            throw c.fail("input \(x) has \(x[1]) channels; the weight \(w.dims) with group \(groups) needs \(w.dims[1] * max(groups, 1))")
        }
        let g: WindowGeometry
        do {
            g = try WindowGeometry.resolve(node: c.node, input: Array(x[2...]), kernel: Array(w.dims[2...]), path: "")
        } catch { throw c.fail(error.localizedDescription) }
        let geometry = ConvGeometry(inChannels: x[1], outChannels: w.dims[0], groups: groups, input: g.input,
                                    kernel: g.kernel, strides: g.strides, dilations: g.dilations,
                                    padsBegin: g.padsBegin, padsEnd: g.padsEnd, output: g.output)
        var conv = try Conv(op: makeOperator(c, geometry, w), bias: c.constantFloats(2),
                            shape: [x[0], w.dims[0]] + g.output).checked(c)
        conv.depthwise = DepthwiseConv2D(geometry, weights: w.floats())
        return conv
    }

    func checked(_ c: KernelContext) throws(ReferenceError) -> Conv {
        if let bias, bias.count != shape[1] { throw c.fail("bias has \(bias.count) values for \(shape[1]) channels") }
        return self
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        var y = depthwise?.apply(x.data, batch: shape[0]) ?? op.apply(x.data, batch: shape[0])
        addBias(&y, bias, shape: shape)
        return [Value(shape: shape, data: y)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        let batch = a.rows * shape[0]
        return [depthwise?.adjoint(a.grad, batch: batch) ?? op.adjoint(a.grad, batch: batch)] + Array(repeating: nil, count: a.inputs.count - 1)
    }
}

/// Adds a per-channel bias to (N, C, spatial…) data.
func addBias(_ y: inout [Float], _ bias: [Float]?, shape: [Int]) {
    guard let bias else { return }
    let n = shape[0], ch = shape[1], spatial = shape.dropFirst(2).reduce(1, *)
    guard y.count >= n * ch * spatial, bias.count >= ch else { return }
    y.withUnsafeMutableBufferPointer { yb in
        guard let base = yb.baseAddress else { return }
        for i in 0..<n {
            for c in 0..<ch {
                let b = bias[c], row = base + (i * ch + c) * spatial
                for s in 0..<spatial { row[s] += b }
            }
        }
    }
}

/// The convolution operator over `w`'s values; it keeps their memory alive itself.
func makeOperator(_ c: KernelContext, _ geometry: ConvGeometry, _ w: Tensor) throws(ReferenceError) -> ConvOperator {
    let floats = w.stableFloats()
    do {
        return try ConvOperator(geometry: geometry, weight: floats.pointer, owner: floats)
    } catch { throw c.fail(error.localizedDescription) }
}
