import Foundation
import Linalg

/// Float32 GEMM throughput of this machine's OpenBLAS (all threads), best of `repeats`:
/// the "sgemm peak" the reference engine's convolutions are compared with.
func sgemmGFLOPS(n: Int, repeats: Int = 5) -> Double {
    var a = [Float](repeating: 0, count: n * n), b = a, c = a
    for i in 0..<(n * n) { a[i] = Float(i % 7) * 0.1; b[i] = Float(i % 5) * 0.2 }
    var best = Double.infinity
    for _ in 0..<repeats {
        let t0 = now()
        a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    BLAS.sgemm(transA: false, transB: false, m: n, n: n, k: n, alpha: 1, a: pa.baseAddress!, lda: n,
                               b: pb.baseAddress!, ldb: n, beta: 0, c: pc.baseAddress!, ldc: n)
                }
            }
        }
        best = min(best, now() - t0)
    }
    return 2 * Double(n) * Double(n) * Double(n) / best / 1e9
}

/// AlexNet's five convolutions at 1×3×224×224 (BVLC layout: groups 1, 2, 1, 2, 2): the
/// forward map and its adjoint (the input-gradient of the backward pass) through
/// `ConvOperator`, the code the reference engine runs. Returns per-layer rows.
func alexNetConvRows(batchBackward: Int) throws -> [[String: Any]] {
    let layers: [(name: String, c: Int, m: Int, g: Int, hw: Int, k: Int, s: Int, p: Int)] = [
        ("conv1", 3, 96, 1, 224, 11, 4, 0), ("conv2", 96, 256, 2, 27, 5, 1, 2), ("conv3", 256, 384, 1, 13, 3, 1, 1),
        ("conv4", 384, 384, 2, 13, 3, 1, 1), ("conv5", 384, 256, 2, 13, 3, 1, 1),
    ]
    var rows: [[String: Any]] = []
    for l in layers {
        let out = (l.hw + 2 * l.p - l.k) / l.s + 1
        let geo = ConvGeometry(inChannels: l.c, outChannels: l.m, groups: l.g, input: [l.hw, l.hw], kernel: [l.k, l.k],
                               strides: [l.s, l.s], dilations: [1, 1], padsBegin: [l.p, l.p], padsEnd: [l.p, l.p],
                               output: [out, out])
        let w = (0..<geo.weightCount).map { Float(($0 * 7919) % 1000) * 1e-3 - 0.5 }
        let x = (0..<geo.inputCount).map { Float(($0 * 104729) % 1000) * 1e-3 }
        let y = (0..<(geo.outputCount * batchBackward)).map { Float(($0 * 31) % 1000) * 1e-3 }
        let flops = 2.0 * Double(geo.outputCount) * Double(l.c / l.g * l.k * l.k)
        var fwd = Double.infinity, bwd = Double.infinity
        try w.withUnsafeBufferPointer { wb in
            let op = try ConvOperator(geometry: geo, weight: wb, owner: nil)  // used only inside this scope
            // Best of several: the machine may be shared, and the minimum is the least-disturbed run.
            for _ in 0..<8 {
                var t0 = now()
                _ = op.apply(x)
                fwd = min(fwd, now() - t0)
                t0 = now()
                _ = op.adjoint(y, batch: batchBackward)
                bwd = min(bwd, now() - t0)
            }
        }
        rows.append(["layer": l.name, "gflop_forward": flops / 1e9, "forward_s": fwd,
                     "forward_gflops": flops / fwd / 1e9, "backward_batch": batchBackward, "backward_s": bwd,
                     "backward_gflops": flops * Double(batchBackward) / bwd / 1e9])
    }
    return rows
}

/// Aggregates over the conv rows: total flops / total best time for the forward maps, the
/// batched adjoints and both together, in GFLOP/s and as fractions of the sgemm peak.
func convAggregates(_ rows: [[String: Any]], peak: Double) -> [String: Any] {
    var flops = 0.0, fwdS = 0.0, bwdS = 0.0, bwdFlops = 0.0
    for r in rows {
        let f = r["gflop_forward"] as? Double ?? 0
        flops += f
        bwdFlops += f * Double(r["backward_batch"] as? Int ?? 0)
        fwdS += r["forward_s"] as? Double ?? 0
        bwdS += r["backward_s"] as? Double ?? 0
    }
    let fwd = flops / fwdS, bwd = bwdFlops / bwdS, both = (flops + bwdFlops) / (fwdS + bwdS)
    return ["forward_gflops": fwd, "backward_gflops": bwd, "combined_gflops": both,
            "forward_fraction_of_peak": fwd / peak, "backward_fraction_of_peak": bwd / peak,
            "combined_fraction_of_peak": both / peak]
}
