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
