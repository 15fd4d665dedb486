import Foundation
import Linalg
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
        var out = [Float](repeating: 0, count: values.count)
        var codes = keepCodes ? [Int](repeating: 0, count: values.count) : []
        let (grids, gridAxis) = values.withUnsafeBufferPointer { v in
            out.withUnsafeMutableBufferPointer { o in
                codes.withUnsafeMutableBufferPointer { c in
                    quantize(v, dims: dims, scheme: scheme, axis: axis, into: o, codes: keepCodes ? c : nil)
                }
            }
        }
        return Result(values: out, grids: grids, codes: codes, axis: gridAxis)
    }

    /// Q(W) of `values` (row-major with `dims`) written into `out` (as many entries), and the
    /// integer codes into `codes` when given (integer schemes); returns the grids and the axis
    /// they run along (nil per tensor). No copy of the weight: large layers quantize in place of
    /// their mapping.
    public static func quantize(_ values: UnsafeBufferPointer<Float>, dims: [Int], scheme: WeightScheme, axis: Int,
                                into out: UnsafeMutableBufferPointer<Float>,
                                codes: UnsafeMutableBufferPointer<Int>?) -> (grids: [IntegerGrid], axis: Int?) {
        let count = min(values.count, out.count)
        switch scheme {
        case .float32:
            for i in 0..<count { out[i] = values[i] }
            return ([], nil)
        case let .float(f):
            for i in 0..<count { out[i] = f.round(values[i]) }
            return ([], nil)
        case let .int(bits, granularity):
            let shape = ChannelLayout(dims: dims, count: count, axis: axis)
            let ranges = shape.ranges(values)
            let (grids, perChannel) = integerGrids(bits: bits, granularity: granularity, layout: shape, ranges: ranges)
            shape.forEachUnit(0..<shape.units) { c, range in
                let g = grids[perChannel ? c : 0]
                for i in range {
                    let q = g.quantize(values[i])
                    out[i] = g.dequantize(q)
                    if let codes { codes[i] = q }
                }
            }
            return (grids, perChannel ? axis : nil)
        }
    }

    /// What the static analysis (``QuantAnalysis``) needs of one weight's quantization.
    public struct ErrorSummary: Sendable {
        /// ‖W‖_F and ‖ΔW‖_F (float64 sums), max|ΔW|.
        public var frobenius: Double, deltaFrobenius: Double, maxAbsError: Double
        /// ``channelSpread(_:dims:axis:)`` of W.
        public var spread: Double?
    }

    /// ΔW = Q(W) − W (the float64 difference rounded to float32) written into `delta`, with W's
    /// and ΔW's Frobenius norms, max|ΔW| and W's channel spread, in two passes over W (the
    /// channel ranges, then the rounding) and no copy of it: the same ΔW as ``quantize``
    /// followed by the difference. Both passes run in blocks of about 2²⁰ elements on `workers`
    /// threads; the sums are added block by block in order, so the result does not depend on
    /// the number of threads.
    public static func error(_ values: UnsafeBufferPointer<Float>, dims: [Int], scheme: WeightScheme, axis: Int,
                             into delta: UnsafeMutableBufferPointer<Float>, workers: Int = 1) -> ErrorSummary {
        let count = min(values.count, delta.count)
        let shape = ChannelLayout(dims: dims, count: count, axis: axis)
        let blocks = shape.blocks(elements: 1 << 20)
        // Pass 1: each block's channel ranges, merged in block order.
        let partial = UnsafeMutableBufferPointer<[ClosedRange<Float>?]>.allocate(capacity: blocks.count)
        partial.initialize(repeating: [])
        defer { partial.deinitialize(); partial.deallocate() }
        nonisolated(unsafe) let slots = partial
        Parallel.forEach(blocks.count, workers: workers) { b in slots[b] = shape.ranges(values, units: blocks[b]) }
        var ranges = [ClosedRange<Float>?](repeating: nil, count: shape.channels)
        for part in partial {
            for c in ranges.indices { ranges[c] = union(ranges[c], part[c]) }
        }
        // Pass 2: Q(W) − W per block.
        let grids: [IntegerGrid], perChannel: Bool
        if case let .int(bits, granularity) = scheme {
            (grids, perChannel) = integerGrids(bits: bits, granularity: granularity, layout: shape, ranges: ranges)
        } else {
            (grids, perChannel) = ([], false)
        }
        let sums = UnsafeMutableBufferPointer<(f: Double, df: Double, mx: Double)>.allocate(capacity: blocks.count)
        sums.initialize(repeating: (0, 0, 0))
        defer { sums.deallocate() }
        nonisolated(unsafe) let out = sums
        Parallel.forEach(blocks.count, workers: workers) { b in
            var f = 0.0, df = 0.0, mx = 0.0
            @inline(__always) func record(_ i: Int, _ q: Float) {
                let v = Double(values[i]), dv = Double(q) - v
                delta[i] = Float(dv)
                f += v * v
                df += dv * dv
                mx = max(mx, abs(dv))
            }
            let elements = shape.elements(blocks[b])
            switch scheme {
            case .float32:
                for i in elements { record(i, values[i]) }
            case let .float(fmt):
                for i in elements { record(i, fmt.round(values[i])) }
            case .int:
                if perChannel {
                    shape.forEachUnit(blocks[b]) { c, range in
                        let g = grids[c]
                        for i in range { record(i, g.dequantize(g.quantize(values[i]))) }
                    }
                } else if let g = grids.first {
                    for i in elements { record(i, g.dequantize(g.quantize(values[i]))) }
                }
            }
            out[b] = (f, df, mx)
        }
        var f = 0.0, df = 0.0, mx = 0.0
        for s in sums { f += s.f; df += s.df; mx = max(mx, s.mx) }
        let spread = shape.isChannelAxis ? spread(ranges) : nil
        return ErrorSummary(frobenius: f.squareRoot(), deltaFrobenius: df.squareRoot(), maxAbsError: mx, spread: spread)
    }

    /// The grids of an integer scheme from the channel ranges: one per channel (per-channel
    /// schemes on a valid axis), else one for the whole tensor (the merged finite range; [0, 0]
    /// when no value is finite).
    static func integerGrids(bits: Int, granularity: Granularity, layout: ChannelLayout,
                             ranges: [ClosedRange<Float>?]) -> ([IntegerGrid], perChannel: Bool) {
        let (qmin, qmax) = symmetricRange(bits: bits)
        func grid(_ r: ClosedRange<Float>?) -> IntegerGrid {
            IntegerGrid(lo: Double(r?.lowerBound ?? 0), hi: Double(r?.upperBound ?? 0), qmin: qmin, qmax: qmax, symmetric: true)
        }
        if granularity == .channel, layout.channels > 0, layout.valid {
            return (ranges.map(grid), true)
        }
        return ([grid(ranges.reduce(nil, union))], false)
    }

    /// The smallest range holding both (nil stands for no value).
    static func union(_ a: ClosedRange<Float>?, _ b: ClosedRange<Float>?) -> ClosedRange<Float>? {
        guard let a else { return b }
        guard let b else { return a }
        return min(a.lowerBound, b.lowerBound)...max(a.upperBound, b.upperBound)
    }

    /// max r_c / min r_c over the channels with r_c = max|W_c| > 0 (from their finite ranges).
    static func spread(_ ranges: [ClosedRange<Float>?]) -> Double? {
        let nz = ranges.compactMap { r in r.map { max(abs($0.lowerBound), abs($0.upperBound)) } }.filter { $0 > 0 }
        guard nz.count > 1, let lo = nz.min(), let hi = nz.max() else { return nil }
        return Double(hi) / Double(lo)
    }

    /// A row-major weight seen as outer × channels × inner along the output-channel axis: units
    /// u = o·channels + c, each a contiguous run of `inner` elements of channel c. A tensor whose
    /// dims do not match its count (never one that loaded) or an axis out of range is one channel.
    struct ChannelLayout {
        var outer: Int, channels: Int, inner: Int
        /// Whether the axis is a real one (a per-channel grid makes sense).
        var valid: Bool

        init(dims: [Int], count: Int, axis: Int) {
            if axis >= 0, axis < dims.count {
                let n = dims[axis], inner = dims[(axis + 1)...].reduce(1, *), outer = dims[..<axis].reduce(1, *)
                if n * inner * outer == count {
                    (self.outer, channels, self.inner, valid) = (outer, n, inner, true)
                    return
                }
            }
            (outer, channels, inner, valid) = (1, 1, count, false)
        }

        /// Whether ``channelSpread`` applies: a valid axis of more than one channel.
        var isChannelAxis: Bool { valid && channels > 1 }

        var units: Int { outer * channels }

        /// The elements of units `u`.
        func elements(_ u: Range<Int>) -> Range<Int> { (u.lowerBound * inner)..<(u.upperBound * inner) }

        /// Consecutive unit ranges of about `elements` elements each (at least one unit; one
        /// empty range for an empty tensor).
        func blocks(elements: Int) -> [Range<Int>] {
            let per = max(1, elements / max(inner, 1))
            guard units > 0 else { return [0..<0] }
            return stride(from: 0, to: units, by: per).map { $0..<min($0 + per, units) }
        }

        /// `body(c, elements)` for every unit of `u` in order (c counted along, no division).
        @inline(__always) func forEachUnit(_ u: Range<Int>, _ body: (Int, Range<Int>) -> Void) {
            guard channels > 0 else { return }
            var c = u.lowerBound % channels
            for unit in u {
                body(c, (unit * inner)..<((unit + 1) * inner))
                c += 1
                if c == channels { c = 0 }
            }
        }

        /// Each channel's range of finite values over units `u` (nil: none finite).
        func ranges(_ values: UnsafeBufferPointer<Float>, units u: Range<Int>) -> [ClosedRange<Float>?] {
            var lo = [Float](repeating: .infinity, count: channels), hi = [Float](repeating: -.infinity, count: channels)
            lo.withUnsafeMutableBufferPointer { lo in
                hi.withUnsafeMutableBufferPointer { hi in
                    forEachUnit(u) { c, range in
                        var l = lo[c], h = hi[c]
                        for i in range where values[i].isFinite { l = min(l, values[i]); h = max(h, values[i]) }
                        lo[c] = l; hi[c] = h
                    }
                }
            }
            return (0..<channels).map { lo[$0] <= hi[$0] ? lo[$0]...hi[$0] : nil }
        }

        /// Each channel's range of finite values (nil: none finite).
        func ranges(_ values: UnsafeBufferPointer<Float>) -> [ClosedRange<Float>?] {
            ranges(values, units: 0..<units)
        }
    }

    /// max_c r_c / min_c r_c over the output channels, r_c = max|W_c| (channels with r_c = 0
    /// left out): the data-free warning sign of per-tensor integer quantization — channels
    /// with a small range keep few levels of a per-tensor grid. nil for fewer than two
    /// non-zero channels.
    public static func channelSpread(_ values: [Float], dims: [Int], axis: Int) -> Double? {
        values.withUnsafeBufferPointer { channelSpread($0, dims: dims, axis: axis) }
    }

    /// ``channelSpread(_:dims:axis:)`` on the weight's memory.
    public static func channelSpread(_ values: UnsafeBufferPointer<Float>, dims: [Int], axis: Int) -> Double? {
        let shape = ChannelLayout(dims: dims, count: values.count, axis: axis)
        return shape.isChannelAxis ? spread(shape.ranges(values)) : nil
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
