import Foundation
import ONNX

/// Resize and Upsample, modes nearest, linear (n-linear) and cubic, separable per axis:
/// each output index j on axis a maps to an input coordinate (ONNX
/// `coordinate_transformation_mode`: half_pixel (default), pytorch_half_pixel,
/// align_corners, asymmetric, tf_half_pixel_for_nn, half_pixel_symmetric) and from there to
/// taps (input index, weight):
/// - nearest: one tap (`nearest_mode` round_prefer_floor (default), round_prefer_ceil,
///   floor, ceil), clamped into the input — a gather, VJP a scatter-add;
/// - linear: the two neighbours with weights 1 − t and t, the coordinate clamped to
///   [0, n − 1] first (onnxruntime's bilinear kernel, i.e. edge replication);
/// - cubic (`cubic_coeff_a` = −0.75): Keys' four weights at ⌊x⌋ − 1 … ⌊x⌋ + 2 with edge
///   indices clamped; `exclude_outside` = 1 drops the taps outside and renormalizes.
/// The output element's taps are the products over the axes; forward y = W·x, VJP Wᵀ·g.
/// Scales or sizes come from constant inputs (Resize opset ≥ 11: X, roi, scales, sizes;
/// opset 10 and Upsample 9: X, scales; Upsample 7: attribute `scales`); opset < 11 uses
/// asymmetric coordinates (nearest: floor). With sizes the scale is size/extent.
enum Resize {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let mode = c.node.string("mode") ?? "nearest"
        guard ["nearest", "linear", "cubic", "bilinear"].contains(mode) else { throw c.fail("unknown mode '\(mode)'") }
        let modern = c.op == "Resize" && c.opset >= 11
        var scales: [Float]? = nil
        var sizes: [Int]? = nil
        if modern {
            if let s = try c.constantFloats(2), !s.isEmpty { scales = s }
            if let s = try c.constantInts(3), !s.isEmpty { sizes = s }
            if c.node.ints("axes") != nil { throw c.fail("attribute 'axes' is not supported") }
            if c.node.int("antialias") == 1 { throw c.fail("antialias = 1 is not supported") }
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
        guard let total = Shapes.checkedProduct(out), total <= Engine.maxElements else {
            throw c.fail("output \(out) is larger than the engine holds")
        }
        let ctm = modern ? (c.node.string("coordinate_transformation_mode") ?? "half_pixel") : "asymmetric"
        let nearest = modern ? (c.node.string("nearest_mode") ?? "round_prefer_floor") : "floor"
        let a = Double(c.node.float("cubic_coeff_a") ?? -0.75)
        let exclude = c.node.int("exclude_outside") == 1
        var taps: [[[(Int, Float)]]] = []
        for axis in x.indices {
            let n = x[axis], m = out[axis]
            guard m >= 1, n >= 1 else { throw c.fail("output extent \(m) on axis \(axis)") }
            let s = Double(scales?[axis] ?? 1)
            var perOut: [[(Int, Float)]] = []
            for j in 0..<m {
                let xr = Double(j), orig: Double
                switch ctm {
                case "half_pixel": orig = (xr + 0.5) / s - 0.5
                case "half_pixel_symmetric":
                    orig = Double(n) / 2 * (1 - Double(m) / (s * Double(n))) + (xr + 0.5) / s - 0.5
                case "pytorch_half_pixel": orig = m > 1 ? (xr + 0.5) / s - 0.5 : 0
                case "align_corners": orig = m > 1 ? xr * Double(n - 1) / Double(m - 1) : 0
                case "asymmetric": orig = xr / s
                case "tf_half_pixel_for_nn": orig = (xr + 0.5) / s
                default: throw c.fail("coordinate_transformation_mode '\(ctm)' is not supported")
                }
                switch mode {
                case "nearest": perOut.append([(try nearestIndex(orig, nearest, n, c), 1)])
                case "cubic": perOut.append(cubic(orig, n, a: a, excludeOutside: exclude))
                default: perOut.append(linear(orig, n))
                }
            }
            taps.append(perOut)
        }
        if mode == "nearest" { return TableKernel(inShape: x, maps: taps.map { $0.map { $0[0].0 } }) }
        return InterpolationKernel(inShape: x, taps: taps, shape: out)
    }

    static func nearestIndex(_ orig: Double, _ rule: String, _ n: Int, _ c: KernelContext) throws(ReferenceError) -> Int {
        let i: Double
        switch rule {
        case "round_prefer_floor": i = orig - orig.rounded(.down) == 0.5 ? orig.rounded(.down) : orig.rounded()
        case "round_prefer_ceil": i = orig - orig.rounded(.down) == 0.5 ? orig.rounded(.up) : orig.rounded()
        case "floor": i = orig.rounded(.down)
        case "ceil": i = orig.rounded(.up)
        default: throw c.fail("nearest_mode '\(rule)' is not supported")
        }
        return min(max(Int(i), 0), n - 1)
    }

    /// The two linear taps at a coordinate clamped into [0, n − 1].
    static func linear(_ orig: Double, _ n: Int) -> [(Int, Float)] {
        let p = min(max(orig, 0), Double(n - 1))
        let i0 = min(Int(p), n - 1), i1 = min(i0 + 1, n - 1)
        let t = p - Double(i0)
        if i0 == i1 || t == 0 { return [(i0, 1)] }
        return [(i0, Float(1 - t)), (i1, Float(t))]
    }

    /// Keys' cubic convolution weights for the four taps around `orig`.
    static func cubic(_ orig: Double, _ n: Int, a: Double, excludeOutside: Bool) -> [(Int, Float)] {
        let f = orig.rounded(.down), t = orig - f
        func w(_ d: Double) -> Double {
            let x = abs(d)
            if x <= 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
            if x < 2 { return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a }
            return 0
        }
        var list: [(Int, Double)] = []
        for k in -1...2 {
            let i = Int(f) + k
            let weight = w(t - Double(k))
            if excludeOutside && (i < 0 || i >= n) { continue }
            list.append((min(max(i, 0), n - 1), weight))
        }
        let total = excludeOutside ? list.reduce(0) { $0 + $1.1 } : 1
        return list.filter { $0.1 != 0 }.map { ($0.0, Float($0.1 / (total == 0 ? 1 : total))) }
    }
}

/// y = W·x for a sparse W given per output element as (input offset, weight) taps — the
/// product over the axes of each axis' taps — in CSR form. VJP: x̄ = Wᵀ·ȳ.
struct InterpolationKernel: Kernel {
    let shape: [Int]
    let inCount: Int
    let starts: [Int32]
    let offsets: [Int32]
    let weights: [Float]

    init(inShape: [Int], taps: [[[(Int, Float)]]], shape: [Int]) {
        let strides = Shapes.strides(inShape)
        var starts: [Int32] = [0], offsets: [Int32] = [], weights: [Float] = []
        var idx = [Int](repeating: 0, count: shape.count)
        for _ in 0..<shape.reduce(1, *) {
            // The cartesian product of this output element's per-axis taps.
            var combos: [(Int, Float)] = [(0, 1)]
            for a in shape.indices {
                combos = combos.flatMap { off, w in taps[a][idx[a]].map { (off + $0.0 * strides[a], w * $0.1) } }
            }
            for (off, w) in combos {
                offsets.append(Int32(off))
                weights.append(w)
            }
            starts.append(Int32(offsets.count))
            var a = shape.count - 1
            while a >= 0 { idx[a] += 1; if idx[a] < shape[a] { break }; idx[a] = 0; a -= 1 }
        }
        self.shape = shape
        self.inCount = inShape.reduce(1, *)
        self.starts = starts
        self.offsets = offsets
        self.weights = weights
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        var y = [Float](repeating: 0, count: starts.count - 1)
        for o in y.indices {
            var s: Float = 0
            for t in Int(starts[o])..<Int(starts[o + 1]) { s += weights[t] * x.data[Int(offsets[t])] }
            y[o] = s
        }
        return [Value(shape: shape, data: y, dtype: x.dtype)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        let outCount = starts.count - 1
        var g = [Float](repeating: 0, count: a.rows * inCount)
        for r in 0..<a.rows {
            for o in 0..<outCount {
                let v = a.grad[r * outCount + o]
                for t in Int(starts[o])..<Int(starts[o + 1]) { g[r * inCount + Int(offsets[t])] += weights[t] * v }
            }
        }
        return [g] + Array(repeating: nil, count: max(0, a.inputs.count - 1))
    }
}
