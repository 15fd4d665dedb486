import Foundation
import Linalg
import KappaTestSupport
import ONNX
import Testing
@testable import Reference

/// The engine's memory discipline (issue: activations freed after their last use) on a small
/// MobileNetV3-style detector (depthwise convolutions, squeeze-excitation gates, residual Adds,
/// an FPN Resize): the forward pass keeps only what a reverse pass reads, the releasing reverse
/// pass frees activations as it goes, and neither changes a single bit of the results.
struct EngineMemoryTests {
    static func detector() throws -> ModelGraph {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kappa-mobile-\(UUID().uuidString).onnx").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try ONNXWriter.write(Architectures.mobileDetector(size: 64, width: 0.35, classes: 5), to: path)
        return try ModelGraph(model: try ModelLoader.load(path: path))
    }

    static func input(_ shape: [Int]) -> Value {
        var rng = TestRandom(seed: 9)
        return Value(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in Float(rng.uniform(0, 1)) })
    }

    // Bit-identity needs one BLAS thread count throughout: other suites running concurrently
    // enter and leave single-thread sections, and a threaded sgemv sums in another order.
    @Test func releasingReversePassIsBitIdenticalAndFreesTheTrace() throws {
        try BLAS.withSingleThread { try releasingReversePass() }
    }

    func releasingReversePass() throws {
        let g = try Self.detector()
        let engine = try Engine(graph: g)
        let x = Self.input(try #require(g.shapes["image"]))
        let kept = try engine.forward(["image": x], keepAll: true)
        var trace = try engine.forward(x)
        // Forward: values no reverse pass reads are gone (the perturbation reaches everything
        // here, so only unused outputs and non-retained ones are dropped) but nothing needed is.
        #expect(trace.values.count <= kept.values.count)
        #expect(trace.result.data == kept.result.data)
        let outCount = trace.result.count
        var cot = [Float](repeating: 0, count: 3 * outCount)
        for k in 0..<3 { for i in stride(from: k, to: outCount, by: 7) { cot[k * outCount + i] = Float(k + 1) } }
        let plain = try engine.vjp(trace, cotangents: cot, rows: 3)
        let before = trace.values.count
        let released = try engine.vjp(releasing: &trace, cotangents: cot, rows: 3)
        #expect(plain == released)
        #expect(before > 20)
        // Only the output and the perturbed input survive the releasing pass.
        #expect(Set(trace.values.keys) == Set([engine.output, engine.input]), "\(trace.values.keys.sorted())")
    }

    @Test func multiOutputEngineEvaluatesEveryGraphOutputInOnePass() throws {
        try BLAS.withSingleThread { try multiOutput() }
    }

    func multiOutput() throws {
        let g = try Self.detector()
        let x = Self.input(try #require(g.shapes["image"]))
        let both = try ModelRun.engine(g).forward(["image": x])
        for o in g.graph.outputs.map(\.name) {
            let alone = try Engine(graph: g, output: o).forward(x).result
            #expect(both.values[o] == alone, "output \(o)")
        }
    }
}

/// The engine's direct depthwise path is the same linear map as Linalg's im2col + GEMM
/// ``ConvOperator`` with groups = C_in: apply and adjoint agree to float32 summation-order
/// rounding (relative 1e-5 of the largest magnitude) on 24 random geometries (multipliers 1–2,
/// kernels 1–5, strides 1–3, dilations 1–2, asymmetric pads including pads wider than the
/// kernel reach, batches 1–3 to exercise the parallel split).
struct DepthwiseConvTests {
    @Test func depthwiseMatchesTheGeneralOperator() throws {
        var rng = SeededRandom(seed: 41)
        func int(_ lo: Int, _ hi: Int) -> Int { lo + Int(rng.next() % UInt64(hi - lo + 1)) }
        var checked = 0
        for _ in 0..<24 {
            let c = int(1, 9), m = int(1, 2), kh = int(1, 5), kw = int(1, 5)
            let sh = int(1, 3), sw = int(1, 3), dh = int(1, 2), dw = int(1, 2)
            let pads = [int(0, 3), int(0, 3), int(0, 3), int(0, 3)]
            let h = int(1, 40), w = int(1, 40), batch = int(1, 3)
            let oh = (h + pads[0] + pads[2] - dh * (kh - 1) - 1) / sh + 1
            let ow = (w + pads[1] + pads[3] - dw * (kw - 1) - 1) / sw + 1
            guard oh > 0, ow > 0, c > 1 else { continue }
            let g = ConvGeometry(inChannels: c, outChannels: c * m, groups: c, input: [h, w], kernel: [kh, kw],
                                 strides: [sh, sw], dilations: [dh, dw], padsBegin: [pads[0], pads[1]],
                                 padsEnd: [pads[2], pads[3]], output: [oh, ow])
            let weights = rng.gaussians(c * m * kh * kw)
            let direct = try #require(DepthwiseConv2D(g, weights: weights))
            let general = try ConvOperator(geometry: g, copying: weights)
            let x = rng.gaussians(batch * g.inputCount)
            let y = rng.gaussians(batch * g.outputCount)
            for (a, b) in [(direct.apply(x, batch: batch), general.apply(x, batch: batch)),
                           (direct.adjoint(y, batch: batch), general.adjoint(y, batch: batch))] {
                #expect(a.count == b.count)
                let scale = max(b.map { abs($0) }.max() ?? 0, 1)
                let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 0
                #expect(worst <= 1e-5 * scale, "c \(c) m \(m) k \(kh)×\(kw) s \(sh),\(sw) d \(dh),\(dw) pads \(pads) in \(h)×\(w)")
            }
            checked += 1
        }
        #expect(checked >= 12)
    }

    @Test func onlyTwoDimensionalDepthwiseGeometriesTakeTheDirectPath() {
        let dense = ConvGeometry(inChannels: 4, outChannels: 4, groups: 1, input: [5, 5], kernel: [3, 3], strides: [1, 1],
                                 dilations: [1, 1], padsBegin: [1, 1], padsEnd: [1, 1], output: [5, 5])
        #expect(DepthwiseConv2D(dense, weights: [Float](repeating: 1, count: 4 * 4 * 9)) == nil)
        let oneD = ConvGeometry(inChannels: 4, outChannels: 4, groups: 4, input: [5], kernel: [3], strides: [1],
                                dilations: [1], padsBegin: [1], padsEnd: [1], output: [5])
        #expect(DepthwiseConv2D(oneD, weights: [Float](repeating: 1, count: 12)) == nil)
    }
}
