import Foundation
import ONNX

/// Integer quantization parameters of one tensor or channel, as onnxruntime's quantizer
/// computes them (`quant_utils.compute_scale_zp`, which `quantize_static`/`quantize_dynamic`
/// call for weights and for calibrated activation ranges):
/// rmin = min(lo, 0), rmax = max(hi, 0); symmetric: rmax = −rmin = max(|rmin|, |rmax|);
/// scale = (rmax − rmin)/(qmax − qmin) in float64, stored as float32; zero point
/// round((qmin + qmax)/2) (symmetric) or round(qmin − rmin/scale) with the float64 scale,
/// rounded half to even; a scale below float32's smallest normal becomes scale 1, zero point 0.
public struct IntegerGrid: Sendable, Equatable {
    public var scale: Float
    public var zeroPoint: Int
    public var qmin: Int
    public var qmax: Int

    public init(scale: Float, zeroPoint: Int, qmin: Int, qmax: Int) {
        self.scale = scale
        self.zeroPoint = zeroPoint
        self.qmin = qmin
        self.qmax = qmax
    }

    /// The grid onnxruntime picks for values in [lo, hi].
    public init(lo: Double, hi: Double, qmin: Int, qmax: Int, symmetric: Bool) {
        var rmin = min(lo, 0), rmax = max(hi, 0)
        if symmetric {
            let a = max(abs(rmin), abs(rmax))
            rmin = -a
            rmax = a
        }
        let s = (rmax - rmin) / Double(qmax - qmin)
        self.qmin = qmin
        self.qmax = qmax
        if !(s >= Double(Float.leastNormalMagnitude)) || !s.isFinite {
            scale = 1
            zeroPoint = 0
        } else {
            scale = Float(s)
            let z = symmetric ? (Double(qmin + qmax) / 2).rounded(.toNearestOrEven) : (Double(qmin) - rmin / s).rounded(.toNearestOrEven)
            zeroPoint = Int(z)
        }
    }

    /// q = clamp(round_half_even(float32(x) / float32(scale)) + zp, qmin, qmax): the division in
    /// float32, as onnxruntime's `quantize_nparray` and the QuantizeLinear kernels do.
    @inline(__always) public func quantize(_ x: Float) -> Int {
        guard !x.isNaN else { return zeroPoint }
        let r = Double((x / scale).rounded(.toNearestOrEven)) + Double(zeroPoint)
        return Int(min(Double(qmax), max(Double(qmin), r)))
    }

    /// (q − zp)·scale in float32 (DequantizeLinear).
    @inline(__always) public func dequantize(_ q: Int) -> Float { Float(q - zeroPoint) * scale }

    /// The smallest and largest value the grid represents.
    public var range: (lo: Double, hi: Double) {
        (Double(dequantize(qmin)), Double(dequantize(qmax)))
    }
}

/// Q(W) for a weight scheme (DESIGN.md §1.10), exactly as the scheme rounds.
public enum WeightQuantizer {
    /// One quantized weight: Q(W) as float32 values (what DequantizeLinear or the Cast back to
    /// float would give), and the integer grids (one per channel, or one) when integer.
    public struct Result: Sendable {
        public var values: [Float]
        public var grids: [IntegerGrid]
        public var codes: [Int]
        /// The axis the per-channel grids run along (nil: per tensor).
        public var axis: Int?
    }

    /// The integer range of a symmetric weight type, as onnxruntime's
    /// `get_qmin_qmax_for_qType(symmetric=True)`: int8 [−127, 127]; int4 [−8, 7] (no restricted
    /// symmetric range for int4, so its zero point is round(−0.5) = 0 and scale 2·absmax/15).
    public static func symmetricRange(bits: Int) -> (Int, Int) {
        bits == 8 ? (-127, 127) : (-(1 << (bits - 1)), (1 << (bits - 1)) - 1)
    }

    /// Q(W): `values` row-major with `dims`; `axis` the output-channel axis for per-channel
    /// schemes (ignored per tensor). `keepCodes: false` leaves `codes` empty (large layers).
    public static func quantize(_ values: [Float], dims: [Int], scheme: WeightScheme, axis: Int, keepCodes: Bool = true) -> Result {
        switch scheme {
        case .float32:
            return Result(values: values, grids: [], codes: [], axis: nil)
        case let .float(f):
            return Result(values: values.map(f.round), grids: [], codes: [], axis: nil)
        case let .int(bits, granularity):
            let (qmin, qmax) = symmetricRange(bits: bits)
            func grid(_ lo: Float, _ hi: Float) -> IntegerGrid {
                IntegerGrid(lo: Double(lo), hi: Double(hi), qmin: qmin, qmax: qmax, symmetric: true)
            }
            if granularity == .tensor || dims.isEmpty || axis < 0 || axis >= dims.count {
                let finite = values.filter(\.isFinite)
                let g = grid(finite.min() ?? 0, finite.max() ?? 0)
                var q = keepCodes ? [Int](repeating: 0, count: values.count) : []
                var out = [Float](repeating: 0, count: values.count)
                for i in values.indices {
                    let c = g.quantize(values[i])
                    out[i] = g.dequantize(c)
                    if keepCodes { q[i] = c }
                }
                return Result(values: out, grids: [g], codes: q, axis: nil)
            }
            let n = dims[axis], inner = dims[(axis + 1)...].reduce(1, *), outer = dims[..<axis].reduce(1, *)
            var lo = [Float](repeating: 0, count: n), hi = [Float](repeating: 0, count: n)
            var seen = [Bool](repeating: false, count: n)
            for o in 0..<outer {
                for c in 0..<n {
                    let base = (o * n + c) * inner
                    for i in base..<(base + inner) where values[i].isFinite {
                        let v = values[i]
                        if !seen[c] { lo[c] = v; hi[c] = v; seen[c] = true } else { lo[c] = min(lo[c], v); hi[c] = max(hi[c], v) }
                    }
                }
            }
            let grids = (0..<n).map { grid(lo[$0], hi[$0]) }
            var q = keepCodes ? [Int](repeating: 0, count: values.count) : [], out = [Float](repeating: 0, count: values.count)
            for o in 0..<outer {
                for c in 0..<n {
                    let g = grids[c], base = (o * n + c) * inner
                    for i in base..<(base + inner) {
                        let c = g.quantize(values[i])
                        out[i] = g.dequantize(c)
                        if keepCodes { q[i] = c }
                    }
                }
            }
            return Result(values: out, grids: grids, codes: q, axis: axis)
        }
    }

    /// max_c r_c / min_c r_c over the output channels, r_c = max|W_c| (channels with r_c = 0
    /// left out): the data-free warning sign of per-tensor integer quantization — channels
    /// with a small range keep few levels of a per-tensor grid. nil for fewer than two
    /// non-zero channels.
    public static func channelSpread(_ values: [Float], dims: [Int], axis: Int) -> Double? {
        guard axis >= 0, axis < dims.count, dims[axis] > 1 else { return nil }
        let n = dims[axis], inner = dims[(axis + 1)...].reduce(1, *), outer = dims[..<axis].reduce(1, *)
        var r = [Float](repeating: 0, count: n)
        for o in 0..<outer {
            for c in 0..<n {
                let base = (o * n + c) * inner
                for i in base..<(base + inner) where values[i].isFinite { r[c] = max(r[c], abs(values[i])) }
            }
        }
        let nz = r.filter { $0 > 0 }
        guard nz.count > 1, let lo = nz.min(), let hi = nz.max() else { return nil }
        return Double(hi) / Double(lo)
    }

    /// The output-channel axis of a weight layer's weight: Conv (M, C/g, k…) 0; ConvTranspose
    /// (C, M/g, k…) 1; Gemm B (K, N) 1, or 0 with transB (A as the constant: 0, or 1 with
    /// transA); MatMul: the last axis when the weight is B, the second to last when it is A.
    /// These are onnxruntime's per-channel axes for Conv and MatMul/Gemm weights.
    public static func outputAxis(op: String, weightIsSecond: Bool, rank: Int, transA: Bool, transB: Bool) -> Int {
        switch op {
        case "Conv": return 0
        case "ConvTranspose": return 1
        case "Gemm": return weightIsSecond ? (transB ? 0 : 1) : (transA ? 1 : 0)
        default: return weightIsSecond ? rank - 1 : max(rank - 2, 0)
        }
    }
}
