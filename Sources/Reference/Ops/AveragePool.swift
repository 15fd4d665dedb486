/// AveragePool (kernel_shape, strides, pads/auto_pad, ceil_mode, count_include_pad = 0):
/// each output is the mean over its window's input elements, divided by the number of
/// taps inside the input (or inside the padded extent with count_include_pad).
/// The map is linear; its VJP spreads g/count back over the window.
struct AveragePool: Kernel {
    let windows: WindowTable
    let divisors: [Float]
    let shape: [Int]
    let planes: Int

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let g = try c.poolGeometry(x)
        let w = WindowTable(g)
        let includePad = c.node.int("count_include_pad") == 1
        let div = (0..<w.outSpatial).map { o in
            Float(max(1, includePad ? Int(w.paddedCount[o]) : Int(w.starts[o + 1] - w.starts[o])))
        }
        return AveragePool(windows: w, divisors: div, shape: [x[0], x[1]] + g.output, planes: x[0] * x[1])
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        var y = [Float](repeating: 0, count: planes * windows.outSpatial)
        for p in 0..<planes {
            let ib = p * windows.inSpatial, ob = p * windows.outSpatial
            for o in 0..<windows.outSpatial {
                var s: Float = 0
                for t in Int(windows.starts[o])..<Int(windows.starts[o + 1]) { s += x.data[ib + Int(windows.taps[t])] }
                y[ob + o] = s / divisors[o]
            }
        }
        return [Value(shape: shape, data: y)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        let inCount = planes * windows.inSpatial, outCount = planes * windows.outSpatial
        var g = [Float](repeating: 0, count: a.rows * inCount)
        for r in 0..<a.rows {
            for p in 0..<planes {
                let ib = r * inCount + p * windows.inSpatial, ob = r * outCount + p * windows.outSpatial
                for o in 0..<windows.outSpatial {
                    let v = a.grad[ob + o] / divisors[o]
                    for t in Int(windows.starts[o])..<Int(windows.starts[o + 1]) { g[ib + Int(windows.taps[t])] += v }
                }
            }
        }
        return [g]
    }
}
