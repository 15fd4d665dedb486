import Foundation
import ONNX
import Sensitivity
import Testing
@testable import Reference

/// DeepFool against closed forms.
struct DeepFoolTests {
    /// y = W x + b as one Gemm (transB), x of n features, C classes.
    static func linear(n: Int, classes: Int, seed: UInt64, softmax: Bool = false) throws -> (ModelGraph, [Float], [Float]) {
        var r = TestRandom(seed: seed)
        let w = r.floats(classes * n), b = r.floats(classes)
        var nodes = [Node(name: "fc", opType: "Gemm", inputs: ["x", "W", "b"], outputs: ["logits"], attributes: ["transB": .int(1)])]
        if softmax { nodes.append(Node(name: "sm", opType: "Softmax", inputs: ["logits"], outputs: ["prob"], attributes: ["axis": .int(1)])) }
        let g = Graph(name: "linear", nodes: nodes,
                      initializers: [floats("W", [classes, n], w), floats("b", [classes], b)],
                      inputs: [ValueInfo(name: "x", elementType: .float, shape: [.value(1), .value(n)])],
                      outputs: [ValueInfo(name: softmax ? "prob" : "logits", elementType: .float, shape: nil)])
        let graph = try ModelGraph(model: Model(path: "linear.onnx", irVersion: 8, producerName: "tests", producerVersion: "1",
                                                opsets: ["": 17], graph: g))
        return (graph, w, b)
    }

    /// For an affine classifier the linearisation is exact, so DeepFool takes one step:
    /// k* = argmin_k |f_k|/‖w_k‖ over the candidates, r = (|f_k|/‖w_k‖ + 1e-4)·w_k/‖w_k‖
    /// (= |f_k|/‖w_k‖²·w_k plus the 1e-4 margin), perturbation (1 + 0.02)·r.
    /// Computed here in Double from W and b; agreement to 1e-4 relative (float32 forward).
    @Test(arguments: [(UInt64(1), 3), (2, 10), (3, 14)])
    func linearClassifierClosedForm(seed: UInt64, classes: Int) throws {
        let n = 6
        let (graph, w, b) = try Self.linear(n: n, classes: classes, seed: seed)
        var r = TestRandom(seed: seed + 100)
        let x = r.floats(n)
        let engine = try Engine(graph: graph)
        let result = try DeepFool.run(engine: engine, input: Value(shape: [1, n], data: x))

        let f = (0..<classes).map { c in (0..<n).reduce(Double(b[c])) { $0 + Double(w[c * n + $1]) * Double(x[$1]) } }
        let order = f.indices.sorted { f[$0] > f[$1] }
        let label = order[0]
        var best = Double.infinity, bestK = -1
        for k in order.prefix(min(10, classes)).dropFirst() {
            let wk = (0..<n).map { Double(w[k * n + $0] - w[label * n + $0]) }
            let norm = wk.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let p = abs(f[k] - f[label]) / norm
            if p < best { best = p; bestK = k }
        }
        let wk = (0..<n).map { Double(w[bestK * n + $0] - w[label * n + $0]) }
        let norm = wk.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let expected = wk.map { 1.02 * (best + 1e-4) * $0 / norm }

        #expect(result.label == label)
        #expect(result.steps == 1)
        #expect(result.flipped)
        #expect(result.adversarialLabel == bestK)
        let errNorm = zip(result.perturbation, expected).reduce(0.0) { $0 + pow(Double($1.0) - $1.1, 2) }.squareRoot()
        let expNorm = expected.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(errNorm <= 1e-4 * expNorm, "perturbation \(result.perturbation) vs closed form \(expected)")
        // The minimal perturbation without overshoot and margin is |f_k|/‖w_k‖²·w_k.
        #expect(abs(expNorm / 1.02 - best) <= 1.1e-4)
    }

    /// Candidates are the top 10 classes only: with the closest boundary outside the top 10
    /// DeepFool must not pick it.
    @Test func candidatesAreTopTenOfOriginalLogits() throws {
        let (graph, _, _) = try Self.linear(n: 4, classes: 30, seed: 9)
        let engine = try Engine(graph: graph)
        let res = try DeepFool.run(engine: engine, input: Value(shape: [1, 4], data: [0.3, -0.2, 0.5, 0.1]))
        let order = res.logits.indices.sorted { res.logits[$0] > res.logits[$1] }
        #expect(res.flipped)
        #expect(order.prefix(10).contains(res.adversarialLabel))
    }

    /// When every gradient difference vanishes (constant logits) DeepFool stops at once and
    /// reports the input as not flipped; the random perturbation (radius 1e-3·‖x‖) measures
    /// κ = 0: the output does not move.
    @Test func noDirectionMeansNotFlipped() throws {
        let zeros = Graph(name: "flat", nodes: [Node(name: "fc", opType: "Gemm", inputs: ["x", "W", "b"], outputs: ["y"], attributes: ["transB": .int(1)])],
                          initializers: [floats("W", [3, 2], [0, 0, 0, 0, 0, 0]), floats("b", [3], [1, 2, 3])],
                          inputs: [ValueInfo(name: "x", elementType: .float, shape: [.value(1), .value(2)])],
                          outputs: [ValueInfo(name: "y", elementType: .float, shape: nil)])
        let graph = try ModelGraph(model: Model(path: "flat.onnx", irVersion: 8, producerName: "t", producerVersion: "1", opsets: ["": 17], graph: zeros))
        let m = try Measure.input(Value(shape: [1, 2], data: [1, 1]), index: 0, source: "x", engine: Engine(graph: graph),
                                  options: DeepFoolOptions(), seed: 1)
        #expect(!m.flipped)
        #expect(m.steps == 0)
        #expect(m.kappaMax == nil && m.kappaRandom == 0)
    }

    /// κ on a linear map: δy = W δx exactly, so κ = (‖Wδx‖/‖y‖)/(‖δx‖/‖x‖) and the observed
    /// gain ‖δy‖/‖δx‖ never exceeds the spectral norm of W (checked against ‖W‖_F ≥ σ_max).
    @Test func kappaOfLinearClassifierIsConsistent() throws {
        let (graph, w, _) = try Self.linear(n: 5, classes: 4, seed: 4, softmax: true)
        #expect(try SensitivityAnalysis.plan(graph).output.tensor == "logits")
        let inputs = InputSet.synthetic(count: 3, range: -1...1, seed: 5, shape: [1, 5])
        let result = try Validation.run(graph: graph, inputs: inputs, options: ValidationOptions(seed: 3, bound: 10))
        #expect(result.settings.output == "logits")
        #expect(result.rows.count == 3)
        let frob = w.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        for row in result.rows {
            #expect(row.flipped && row.steps == 1)
            let kMax = try #require(row.kappaMax), kFinal = try #require(row.kappaFinal)
            #expect(kMax >= kFinal)
            #expect(try #require(row.gainMax) <= frob * (1 + 1e-5))
            #expect(row.kappaRandom != nil)
        }
        let s = result.summary
        #expect(s.deepfool.count == 3)
        #expect(s.tightness.map { abs($0 - 10 / (s.observedGainMax ?? 1)) < 1e-12 } == true)
        let mean = try #require(s.deepfool.mean)
        #expect(mean.kappa >= (s.deepfool.min?.kappa ?? .infinity) && mean.kappa <= (s.deepfool.max?.kappa ?? 0))
    }

    /// The precision of Table I: DESIGN.md §1.5's worked values.
    @Test(arguments: [(101.78, 2.01, 8), (651.06, 2.81, 11), (12.00, 1.08, 5)])
    func precisionMatchesTableI(kappa: Double, digits: Double, bits: Int) throws {
        let p = Precision(kappa: kappa)
        #expect(abs(try #require(p.digits) - digits) < 0.005)
        #expect(p.bits == bits)
    }

    /// Shards partition the inputs and give the same rows as one run.
    @Test func shardsPartitionTheRun() throws {
        let (graph, _, _) = try Self.linear(n: 3, classes: 3, seed: 6)
        let inputs = InputSet.synthetic(count: 5, range: 0...1, seed: 2, shape: [1, 3])
        let whole = try Validation.run(graph: graph, inputs: inputs, options: ValidationOptions(seed: 8))
        var merged: [InputMeasurement] = []
        for i in 0..<2 {
            merged += try Validation.run(graph: graph, inputs: inputs, options: ValidationOptions(seed: 8, shard: Shard(index: i, count: 2))).rows
        }
        #expect(merged.sorted { $0.index < $1.index } == whole.rows)
        #expect(MeasurementSummary(rows: merged.sorted { $0.index < $1.index }, bound: nil) == whole.summary)
    }
}
