import ONNX

/// Pad: pads from the attribute (opset < 11) or a constant input (with optional `axes`,
/// opset 18), modes constant (value from attribute/input), reflect, edge, wrap.
/// Negative pads crop.
enum Pad {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let r = x.count
        let modeName = c.node.string("mode") ?? "constant"
        guard let mode = PadMode(rawValue: modeName) else { throw c.fail("unknown mode '\(modeName)'") }
        var pads: [Int]
        var value: Float = 0
        var axes = Array(0..<r)
        if c.opset < 11 {
            guard let p = c.node.ints("pads") ?? c.node.ints("paddings") else { throw c.fail("missing attribute 'pads'") }
            pads = p
            value = c.node.float("value") ?? 0
        } else {
            guard let p = try c.constantInts(1) else { throw c.fail("missing pads input") }
            pads = p
            value = try c.constantFloats(2)?.first ?? 0
            if let given = try c.constantInts(3) {
                axes = []
                for a in given { axes.append(try c.axis(a, rank: r)) }
            }
        }
        guard pads.count == 2 * axes.count else { throw c.fail("\(pads.count) pads for \(axes.count) axes") }
        var maps = x.map { Array(0..<$0) }
        for (i, a) in axes.enumerated() {
            guard x[a] > 0 || mode == .constant else { throw c.fail("cannot \(modeName)-pad an empty axis") }
            let m = mode.map(extent: x[a], begin: pads[i], end: pads[i + axes.count])
            guard !m.isEmpty else { throw c.fail("pads \(pads) leave axis \(a) empty") }
            maps[a] = m
        }
        return TableKernel(inShape: x, maps: maps, fill: value)
    }
}
