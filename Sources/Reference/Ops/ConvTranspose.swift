import Linalg
import ONNX

/// ConvTranspose: the adjoint of the Conv with the same weight (C, M/g, k…), plus bias
/// (M); output extent from strides, pads/auto_pad, output_padding, output_shape
/// (`WindowGeometry.resolveTranspose`). Forward is `ConvOperator.apply` of the transposed
/// geometry (col2im); the VJP its adjoint (im2col + sgemm).
enum ConvTranspose {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        guard let w = try c.constant(1) else { throw c.fail("missing weight") }
        guard x.count >= 3, w.dims.count == x.count, w.dims[0] == x[1] else {
            throw c.fail("input \(x) and weight \(w.dims) do not fit")
        }
        let groups = c.node.int("group") ?? 1
        let g: WindowGeometry
        do {
            g = try WindowGeometry.resolveTranspose(node: c.node, input: Array(x[2...]), kernel: Array(w.dims[2...]), path: "")
        } catch { throw c.fail(error.localizedDescription) }
        let m = w.dims[1] * groups
        let geometry = ConvGeometry(inChannels: x[1], outChannels: m, groups: groups, input: g.input,
                                    kernel: g.kernel, strides: g.strides, dilations: g.dilations,
                                    padsBegin: g.padsBegin, padsEnd: g.padsEnd, output: g.output, transposed: true)
        return try Conv(op: makeOperator(c, geometry, w), bias: c.constantFloats(2),
                        shape: [x[0], m] + g.output).checked(c)
    }
}
