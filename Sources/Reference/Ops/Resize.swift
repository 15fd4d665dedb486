import Foundation

/// Resize and Upsample, mode "nearest" only: each output index maps to one input index
/// per axis (ONNX `coordinate_transformation_mode` and `nearest_mode`), so the kernel is
/// a gather and its VJP a scatter-add. Scales or sizes come from constant inputs
/// (Resize opset ≥ 11: X, roi, scales, sizes; opset 10 and Upsample 9: X, scales;
/// Upsample 7: attribute `scales`). Opset < 11 uses asymmetric coordinates with floor.
enum Resize {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let mode = c.node.string("mode") ?? "nearest"
        guard mode == "nearest" else { throw c.fail("mode '\(mode)' is not supported (only nearest)") }
        let modern = c.op == "Resize" && c.opset >= 11
        var scales: [Float]? = nil
        var sizes: [Int]? = nil
        if modern {
            if let s = try c.constantFloats(2), !s.isEmpty { scales = s }
            if let s = try c.constantInts(3), !s.isEmpty { sizes = s }
            if c.node.ints("axes") != nil { throw c.fail("attribute 'axes' is not supported") }
        } else if c.op == "Upsample" && c.opset < 9 {
            scales = c.node.floats("scales")
        } else {
            scales = try c.constantFloats(1)
        }
        let out: [Int]
        if let sizes {
            guard sizes.count == x.count else { throw c.fail("sizes \(sizes) do not fit rank \(x.count)") }
            out = sizes
            scales = zip(sizes, x).map { Float($0) / Float(max($1, 1)) }
        } else if let s = scales {
            guard s.count == x.count, s.allSatisfy({ $0 > 0 }) else { throw c.fail("scales \(s) do not fit rank \(x.count)") }
            out = zip(x, s).map { Int((Float($0) * $1).rounded(.down)) }
        } else {
            throw c.fail("neither scales nor sizes given")
        }
        let ctm = modern ? (c.node.string("coordinate_transformation_mode") ?? "half_pixel") : "asymmetric"
        let nearest = modern ? (c.node.string("nearest_mode") ?? "round_prefer_floor") : "floor"
        var maps: [[Int]] = []
        for a in x.indices {
            let n = x[a], m = out[a]
            guard m >= 1 else { throw c.fail("output extent \(m) on axis \(a)") }
            let s = Double(scales?[a] ?? 1)
            var map: [Int] = []
            for j in 0..<m {
                let xr = Double(j)
                let orig: Double
                switch ctm {
                case "half_pixel": orig = (xr + 0.5) / s - 0.5
                case "pytorch_half_pixel": orig = m > 1 ? (xr + 0.5) / s - 0.5 : 0
                case "align_corners": orig = m > 1 ? xr * Double(n - 1) / Double(m - 1) : 0
                case "asymmetric": orig = xr / s
                case "tf_half_pixel_for_nn": orig = (xr + 0.5) / s
                default: throw c.fail("coordinate_transformation_mode '\(ctm)' is not supported")
                }
                let i: Double
                switch nearest {
                case "round_prefer_floor": i = orig - orig.rounded(.down) == 0.5 ? orig.rounded(.down) : orig.rounded()
                case "round_prefer_ceil": i = orig - orig.rounded(.down) == 0.5 ? orig.rounded(.up) : orig.rounded()
                case "floor": i = orig.rounded(.down)
                case "ceil": i = orig.rounded(.up)
                default: throw c.fail("nearest_mode '\(nearest)' is not supported")
                }
                map.append(min(max(Int(i), 0), n - 1))
            }
            maps.append(map)
        }
        return TableKernel(inShape: x, maps: maps)
    }
}
