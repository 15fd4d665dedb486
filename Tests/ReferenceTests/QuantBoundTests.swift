import Foundation
import KappaTestSupport
import ONNX
import Sensitivity
import Testing
@testable import Reference

/// The static quantization bound of ``QuantAnalysis`` is sound: on small random models and
/// several schemes, Σ h_i s_i ≥ ‖f_Q(x) − f(x)‖₂ at 100 seeded points of the domain, f_Q the
/// fake-quantized network run in the reference engine. The simulation itself is checked
/// against a float64 evaluation of Q(W)·R(x) + b written out by hand.
struct QuantBoundTests {
    static func residual() -> ModelSpec {
        var b = NetworkBuilder(seed: 41)
        let x = b.input("x", shape: [1, 6])
        let h = b.relu(b.gemm(x, outFeatures: 6))
        let r = b.add(b.gemm(h, outFeatures: 6), x)
        let c = b.concat([b.relu(r), b.gemm(x, outFeatures: 3)], axis: 1)
        b.output(b.gemm(c, outFeatures: 4))
        return b.model()
    }

    static func models() -> [(String, ModelSpec, String)] {
        [("mlp", SmallModels.mlp(widths: [6, 8, 7, 4], seed: 42), "x=-1,1"),
         ("cnn", SmallModels.tinyCNN(seed: 43), "x=0,1"),
         ("residual", residual(), "x=-2,2")]
    }

    static let schemes: [(WeightScheme, ActivationScheme)] = [
        (.int(bits: 8, granularity: .tensor), .int(signed: false)),
        (.int(bits: 8, granularity: .channel), .int(signed: true)),
        (.int(bits: 4, granularity: .channel), .float32),
        (.int(bits: 4, granularity: .tensor), .int(signed: false)),
        (.float(.fp16), .float(.bf16)),
        (.float(.fp8e4m3), .float(.fp8e4m3)),
        (.float(.fp8e5m2), .float(.fp8e5m2)),
        (.float32, .int(signed: false)),
    ]

    static func domain(_ g: ModelGraph, _ spec: String) throws -> InputDomain {
        try InputDomain.declared([try DomainSpec.parse(spec).get()], graph: g).get()
    }

    @Test(arguments: 0..<3)
    func boundHoldsAtHundredPoints(_ m: Int) throws {
        let (name, spec, range) = Self.models()[m]
        let g = try IntervalTests.load(spec, "quant-\(name)")
        let d = try Self.domain(g, range)
        let feeds = try QuantRun.syntheticFeeds(g, count: 100, seed: 7, domain: d)
        for (w, a) in Self.schemes {
            let r = try QuantRun.analyse(g, settings: QuantSettings(weights: w, activations: a), domain: d, norm: .operator)
            let bound = try #require(r.bound, "\(name) \(w) \(a)")
            let measured = try QuantMeasurement.measure(g, targets: r.targets, output: r.output, feeds: feeds, perLayer: true)
            #expect(measured.all.maxError > 0, "\(name) \(w)/\(a): the simulation changed nothing")
            #expect(bound >= measured.all.maxError, "\(name) \(w)/\(a): bound \(bound) < measured \(measured.all.maxError)")
            // Each layer alone: its bound with the other layers in float32 bounds its measured error.
            for (k, t) in r.targets.enumerated() {
                var only = QuantSettings(weights: .float32, activations: .float32)
                only.overrides[t.layer.node] = .init(weights: w, activations: a)
                let single = try QuantRun.analyse(g, settings: only, domain: d, norm: .operator)
                let b1 = try #require(single.bound)
                #expect(measured.perLayer[k].node == t.layer.node)
                #expect(b1 >= measured.perLayer[k].stats.maxError, "\(name) \(t.layer.node) \(w)/\(a): \(b1) < \(measured.perLayer[k].stats.maxError)")
                #expect(b1 <= bound * (1 + 1e-9))
            }
        }
    }

    /// Calibrated integer grids (observed min/max of 5 inputs, onnxruntime's MinMax): at the
    /// other 100 points activations leave the calibrated range and clip; the bound's clipping
    /// term keeps it sound.
    @Test(arguments: 0..<3)
    func boundHoldsWithCalibratedRanges(_ m: Int) throws {
        let (name, spec, range) = Self.models()[m]
        let g = try IntervalTests.load(spec, "quant-cal-\(name)")
        let d = try Self.domain(g, range)
        let calibration = try QuantRun.syntheticFeeds(g, count: 5, seed: 99, domain: d)
        let feeds = try QuantRun.syntheticFeeds(g, count: 100, seed: 8, domain: d)
        for (w, a) in [(WeightScheme.int(bits: 8, granularity: .channel), ActivationScheme.int(signed: false)), (.int(bits: 4, granularity: .tensor), .int(signed: true))] {
            let settings = QuantSettings(weights: w, activations: a)
            let ranges = try QuantRun.calibrate(g, settings: settings, feeds: calibration)
            #expect(!ranges.isEmpty)
            // The 100 points do leave the calibrated ranges (so clipping happens).
            let seen = try QuantRun.calibrate(g, settings: settings, feeds: feeds)
            #expect(seen.contains { t, r in ranges[t].map { r.lowerBound < $0.lowerBound || r.upperBound > $0.upperBound } ?? false })
            let r = try QuantRun.analyse(g, settings: settings, domain: d, norm: .operator, ranges: ranges)
            let bound = try #require(r.bound)
            // The calibrated grids are narrower than the interval ones.
            let wide = try QuantRun.analyse(g, settings: settings, domain: d, norm: .operator)
            for (t, u) in zip(r.targets, wide.targets) { #expect((t.grid?.scale ?? 0) <= (u.grid?.scale ?? 0)) }
            let measured = try QuantMeasurement.measure(g, targets: r.targets, output: r.output, feeds: feeds, perLayer: false)
            #expect(measured.all.maxError > 0 && bound >= measured.all.maxError, "\(name) \(w)/\(a): \(bound) < \(measured.all.maxError)")
        }
    }

    /// One Gemm, uint8 activations and int8 weights: the engine's fake-quantized output equals
    /// Q(W)·R(x) + b evaluated in float64 from the scheme's own grids (within float32 rounding).
    @Test func simulationMatchesHandEvaluation() throws {
        var b = NetworkBuilder(seed: 44)
        let x = b.input("x", shape: [1, 5])
        b.output(b.gemm(x, outFeatures: 3))
        let g = try IntervalTests.load(b.model(), "quant-gemm")
        let d = try Self.domain(g, "x=-1,3")
        let r = try QuantRun.analyse(g, settings: QuantSettings(weights: .int(bits: 8, granularity: .tensor), activations: .int(signed: false)),
                                     domain: d)
        let t = try #require(r.targets.first)
        let grid = try #require(t.grid)
        #expect(Double(grid.scale) == Double(Float(4.0 / 255)))
        let node = g.graph.nodes[t.layer.nodeIndex]
        let w = t.layer.weight.floats()
        let qw = WeightQuantizer.quantize(w, dims: t.layer.weight.dims, scheme: .int(bits: 8, granularity: .tensor), axis: 0).values
        let bias = try #require(g.constants[node.inputs[2]]).floats()
        let feeds = try QuantRun.syntheticFeeds(g, count: 20, seed: 3, domain: d)
        let sim = try QuantMeasurement.outputs(try QuantSimulation.graph(g, targets: r.targets), output: r.output, feeds: feeds)
        for (f, y) in zip(feeds, sim) {
            let xv = try #require(f["x"]).data
            let rx = xv.map { grid.dequantize(grid.quantize($0)) }
            for o in 0..<3 {  // transB = 1: W is (3, 5)
                var s = Double(bias[o])
                for i in 0..<5 { s += Double(qw[o * 5 + i]) * Double(rx[i]) }
                #expect(abs(Double(y.data[o]) - s) <= 1e-5 * max(1, abs(s)))
            }
        }
    }
}
