import Foundation
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

    @Test func releasingReversePassIsBitIdenticalAndFreesTheTrace() throws {
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
        let g = try Self.detector()
        let x = Self.input(try #require(g.shapes["image"]))
        let both = try ModelRun.engine(g).forward(["image": x])
        for o in g.graph.outputs.map(\.name) {
            let alone = try Engine(graph: g, output: o).forward(x).result
            #expect(both.values[o] == alone, "output \(o)")
        }
    }
}
