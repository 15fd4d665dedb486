import Foundation
import ONNX

/// LpPool (kernel_shape, strides, pads/auto_pad, dilations, ceil_mode; p = 2) over
/// (N, C, spatial…): y = (Σ_window |x|ᵖ)^(1/p), padding contributing nothing. GlobalLpPool
/// is the same with one window over all spatial positions (output (N, C, 1, …)).
/// VJP: ∂y/∂xᵢ = sign(xᵢ)·|xᵢ|^(p−1)·y^(1−p) (0 where y = 0), accumulated over windows.
struct LpPool: Kernel {
    let windows: WindowTable
    let p: Float
    let shape: [Int]
    let planes: Int

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let g = try c.poolGeometry(x)
        return LpPool(windows: WindowTable(g), p: try order(c), shape: [x[0], x[1]] + g.output, planes: x[0] * x[1])
    }

    static func makeGlobal(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        guard x.count >= 3 else { throw c.fail("needs an (N, C, spatial…) input, got \(x)") }
        let spatial = Array(x[2...])
        // One window covering every spatial position (no strides, pads or dilations).
        let g: WindowGeometry
        do {
            g = try WindowGeometry.resolve(node: Node(name: c.name, opType: c.op, inputs: [], outputs: [], attributes: [:]),
                                           input: spatial, kernel: spatial, path: "")
        } catch { throw c.fail(error.localizedDescription) }
        return LpPool(windows: WindowTable(g), p: try order(c), shape: [x[0], x[1]] + g.output, planes: x[0] * x[1])
    }

    static func order(_ c: KernelContext) throws(ReferenceError) -> Float {
        let p: Float = c.node.int("p").map(Float.init) ?? c.node.float("p") ?? 2
        guard p > 0 else { throw c.fail("p must be positive, got \(p)") }
        return p
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        var y = [Float](repeating: 0, count: planes * windows.outSpatial)
        for q in 0..<planes {
            let ib = q * windows.inSpatial, ob = q * windows.outSpatial
            for o in 0..<windows.outSpatial {
                var s: Float = 0
                for t in Int(windows.starts[o])..<Int(windows.starts[o + 1]) { s += powf(abs(x.data[ib + Int(windows.taps[t])]), p) }
                y[ob + o] = powf(s, 1 / p)
            }
        }
        return [Value(shape: shape, data: y, dtype: x.dtype)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        guard let x = a.inputs[0] else { return [nil] }
        let y = a.outputs[0].data
        let inCount = planes * windows.inSpatial, outCount = planes * windows.outSpatial
        var g = [Float](repeating: 0, count: a.rows * inCount)
        for q in 0..<planes {
            let ib = q * windows.inSpatial, ob = q * windows.outSpatial
            for o in 0..<windows.outSpatial where y[ob + o] > 0 {
                let scale = powf(y[ob + o], 1 - p)
                for t in Int(windows.starts[o])..<Int(windows.starts[o + 1]) {
                    let i = ib + Int(windows.taps[t]), v = x.data[i]
                    let d = (v > 0 ? 1 : (v < 0 ? -1 : 0)) * powf(abs(v), p - 1) * scale
                    for r in 0..<a.rows { g[r * inCount + i] += d * a.grad[r * outCount + ob + o] }
                }
            }
        }
        return [g]
    }
}
