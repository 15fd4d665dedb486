import Dispatch
import Linalg

/// A depthwise 2-D convolution (group = C_in, C_out = m·C_in, weight (C_out, 1, kh, kw)) computed
/// directly: output channel o reads input channel o / m,
///   y[n, o, oy, ox] = Σ_{ky, kx} w[o, ky, kx] · x[n, o/m, oy·sh − ph + ky·dh, ox·sw − pw + kx·dw]
/// (zero outside the input), and the adjoint x̄[n, i, ·] = Σ_{o: o/m = i} of the same taps
/// scattered back. The same linear map as ``ConvOperator`` with `groups = C_in`, whose im2col
/// + GEMM degenerates to one matrix–vector product per channel; here each tap is one
/// contiguous axpy over the output row's valid range (no branches inside it), channels run in
/// parallel, and the adjoint parallelises over input channels (each written by one thread).
/// Checked against ``ConvOperator`` (apply and adjoint) on random geometries and against
/// onnxruntime through the op cases.
struct DepthwiseConv2D: Sendable {
    let channels: Int, multiplier: Int
    let h: Int, w: Int, kh: Int, kw: Int
    let sh: Int, sw: Int, dh: Int, dw: Int, ph: Int, pw: Int
    let oh: Int, ow: Int
    let weights: [Float]

    var inputCount: Int { channels * h * w }
    var outputCount: Int { channels * multiplier * oh * ow }

    /// The depthwise form of `g` with weights `weights` (C_out·kh·kw floats), or nil when `g`
    /// is not a 2-D depthwise convolution.
    init?(_ g: ConvGeometry, weights: [Float]) {
        guard !g.transposed, g.rank == 2, g.groups > 1, g.groups == g.inChannels, g.outChannels % g.groups == 0,
              weights.count == g.outChannels * g.kernel[0] * g.kernel[1] else { return nil }
        channels = g.inChannels
        multiplier = g.outChannels / g.inChannels
        (h, w) = (g.input[0], g.input[1])
        (kh, kw) = (g.kernel[0], g.kernel[1])
        (sh, sw) = (g.strides[0], g.strides[1])
        (dh, dw) = (g.dilations[0], g.dilations[1])
        (ph, pw) = (g.padsBegin[0], g.padsBegin[1])
        (oh, ow) = (g.output[0], g.output[1])
        self.weights = weights
    }

    /// The output columns ox whose tap kx lands inside the input: ox·sw − pw + kx·dw ∈ [0, w).
    @inline(__always) func columns(_ kx: Int) -> Swift.Range<Int> {
        let off = kx * dw - pw
        let lo = off >= 0 ? 0 : (-off + sw - 1) / sw
        let hi = w - 1 - off < 0 ? 0 : (w - 1 - off) / sw + 1
        return lo..<max(lo, min(hi, ow))
    }

    static let parallelMinimum = 1 << 16

    /// y[i] += a·x[i] for i < n, eight lanes at a time: the product and the sum rounded
    /// separately, exactly as the scalar loop (no fused multiply-add), so the result is the
    /// same bit for bit. x and y may not overlap (distinct tensors).
    @inline(__always) static func axpy(_ n: Int, _ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        var i = 0
        let av = SIMD8<Float>(repeating: a)
        while i &+ 8 <= n {
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            let yv = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self)
            let product = av * xv
            UnsafeMutableRawPointer(y + i).storeBytes(of: yv + product, as: SIMD8<Float>.self)
            i &+= 8
        }
        while i < n { y[i] += a * x[i]; i &+= 1 }
    }

    /// body(part) for every part, in parallel once the work (multiply-adds) is worth threads.
    func parallel(_ parts: Int, work: Int, _ body: (Int) -> Void) {
        Parallel.forEach(parts, workers: work < Self.parallelMinimum ? 1 : parts, body)
    }

    /// y = A x for `batch` items.
    func apply(_ x: [Float], batch: Int) -> [Float] {
        var y = [Float](repeating: 0, count: batch * outputCount)
        let outChannels = channels * multiplier
        x.withUnsafeBufferPointer { xb in
            y.withUnsafeMutableBufferPointer { yb in
                weights.withUnsafeBufferPointer { wb in
                    guard let xs = xb.baseAddress, let ys = yb.baseAddress, let ws = wb.baseAddress else { return }
                    nonisolated(unsafe) let (xp, yp, wp) = (xs, ys, ws)
                    parallel(batch * outChannels, work: batch * outputCount * kh * kw) { job in
                        let n = job / outChannels, o = job % outChannels
                        let src = xp + n * inputCount + (o / multiplier) * h * w
                        let dst = yp + n * outputCount + o * oh * ow
                        let wo = wp + o * kh * kw
                        for oy in 0..<oh {
                            let row = dst + oy * ow
                            for ky in 0..<kh {
                                let iy = oy * sh - ph + ky * dh
                                guard iy >= 0 && iy < h else { continue }
                                let line = src + iy * w
                                for kx in 0..<kw {
                                    let wv = wo[ky * kw + kx]
                                    let off = kx * dw - pw
                                    let r = columns(kx)
                                    if sw == 1 {
                                        Self.axpy(r.count, wv, line + (r.lowerBound + off), row + r.lowerBound)
                                    } else {
                                        for ox in r { row[ox] += wv * line[ox &* sw &+ off] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// x = Aᵀ y for `batch` items.
    func adjoint(_ y: [Float], batch: Int) -> [Float] {
        var x = [Float](repeating: 0, count: batch * inputCount)
        y.withUnsafeBufferPointer { yb in
            x.withUnsafeMutableBufferPointer { xb in
                weights.withUnsafeBufferPointer { wb in
                    guard let xs = xb.baseAddress, let ys = yb.baseAddress, let ws = wb.baseAddress else { return }
                    nonisolated(unsafe) let (xp, yp, wp) = (xs, ys, ws)
                    parallel(batch * channels, work: batch * outputCount * kh * kw) { job in
                        let n = job / channels, i = job % channels
                        let dst = xp + n * inputCount + i * h * w
                        for o in (i * multiplier)..<((i + 1) * multiplier) {
                            let src = yp + n * outputCount + o * oh * ow
                            let wo = wp + o * kh * kw
                            for oy in 0..<oh {
                                let row = src + oy * ow
                                for ky in 0..<kh {
                                    let iy = oy * sh - ph + ky * dh
                                    guard iy >= 0 && iy < h else { continue }
                                    let line = dst + iy * w
                                    for kx in 0..<kw {
                                        let wv = wo[ky * kw + kx]
                                        let off = kx * dw - pw
                                        let r = columns(kx)
                                        if sw == 1 {
                                            Self.axpy(r.count, wv, row + r.lowerBound, line + (r.lowerBound + off))
                                        } else {
                                            for ox in r { line[ox &* sw &+ off] += wv * row[ox] }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return x
    }
}
