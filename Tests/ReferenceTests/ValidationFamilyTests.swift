import Foundation
import ONNX
import Sensitivity
import Testing
@testable import Reference

/// `validate` on the small models of each family (OpCases/family_*: made once by onnxruntime,
/// with the script scripts/make_op_cases.py; inputs and expected outputs committed):
/// multi-input models, an internal perturbation, per-position scores, inputs inside If branches,
/// quantized models. The reference: the function DeepFool differentiates must be onnxruntime's —
/// its value at x₀ equals the committed output — and its gradient must match central
/// differences of that same function.
struct ValidationFamilyTests {
    static let folder = OpCaseTests.folder

    static func graph(_ family: String) throws -> ModelGraph {
        var shapes: [String: [Int]] = [:]
        let set = folder + "/\(family)/test_data_set_0"
        let files = try FileManager.default.contentsOfDirectory(atPath: set).filter { $0.hasPrefix("input_") }
        let model = try ModelLoader.load(path: folder + "/\(family)/model.onnx")
        for f in files {
            let t = try TensorLoader.load(path: set + "/" + f)
            if let k = Int(f.dropFirst(6).dropLast(3)), k < model.graph.inputs.count { shapes[model.graph.inputs[k].name] = t.dims }
        }
        return try ModelGraph(model: model, inputShapes: shapes)
    }

    struct Case: CustomStringConvertible, Sendable {
        var family: String
        /// The perturbed tensor Kappa picks by default, the graph input the set lists, and where
        /// the other inputs come from.
        var perturbed: String
        var listed: String
        var output: String
        var expectedOutput: Int
        var description: String { family }
    }

    static let cases: [Case] = [
        // ids + mask: the embedding lookup's output is perturbed; the mask comes from the set.
        Case(family: "family_bert_encoder_layer", perturbed: "gather1", listed: "input_ids", output: "last_hidden_state", expectedOutput: 0),
        // CTC log-probabilities [T, N, C]: per-position scores.
        Case(family: "family_crnn", perturbed: "image", listed: "image", output: "add10", expectedOutput: -1),
        // A sample-rate input selects an If branch whose weights differ.
        Case(family: "family_if_weights_sr_input", perturbed: "x", listed: "x", output: "prob", expectedOutput: 0),
        Case(family: "family_mobilenetv3_se_block", perturbed: "input", listed: "input", output: "logits", expectedOutput: 0),
        Case(family: "family_qcnn_qdq_static", perturbed: "input", listed: "input", output: "logits", expectedOutput: 0),
        Case(family: "family_qcnn_dynamic", perturbed: "input", listed: "input", output: "logits", expectedOutput: 0),
    ]

    @Test(arguments: cases)
    func measuresTheFunctionOnnxruntimeComputes(_ c: Case) throws {
        let g = try Self.graph(c.family)
        let plan = try SensitivityAnalysis.plan(g)
        let setup = try Validation.setup(graph: g, plan: plan)
        #expect(setup.perturbed == c.perturbed, "\(c.family): perturbs \(setup.perturbed)")
        #expect(plan.output.tensor == c.output)
        #expect(setup.listed == c.listed)
        let inputs = try InputSet.files(at: Self.folder + "/" + c.family, shape: setup.listedShape, input: setup.listed,
                                        graphInputs: g.inputs.map(\.name))
        let (feeds, synthesised) = try Validation.feeds(setup, inputs: inputs, index: 0, options: ValidationOptions())
        #expect(synthesised.isEmpty, "every input comes from the test-data set")
        let x0 = try Validation.perturbedValue(setup, feeds: feeds)
        // f(x₀) through the measured map equals onnxruntime's output (when it is a graph output).
        let trace = try setup.engine.forward(feeds.merging([setup.perturbed: x0]) { a, _ in a })
        if c.expectedOutput >= 0 {
            let want = try TensorLoader.load(path: Self.folder + "/\(c.family)/test_data_set_0/output_\(c.expectedOutput).pb").floats()
            let got = trace.result.data
            #expect(got.count == want.count)
            for i in 0..<min(got.count, want.count) {
                #expect(abs(got[i] - want[i]) <= 2e-3 * max(1, abs(want[i])), "\(c.family)[\(i)]: \(got[i]) vs onnxruntime \(want[i])")
            }
        }
        // The gradient DeepFool uses, against central differences of the same engine.
        let y = trace.result.data
        var rng = TestRandom(seed: 5)
        let u = (0..<y.count).map { _ in Float(rng.uniform(-1, 1)) }
        var v = (0..<x0.count).map { _ in rng.uniform(-1, 1) }
        let vn = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        v = v.map { $0 / vn }
        let g1 = try setup.engine.vjp(trace, cotangents: u, rows: 1)
        var gv = 0.0
        for i in 0..<x0.count { gv += Double(g1[i]) * v[i] }
        let xn = x0.data.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        func at(_ s: Double) throws -> [Float] {
            var x = x0
            for i in 0..<x.count { x.data[i] = Float(Double(x0.data[i]) + s * v[i]) }
            var f = feeds
            f[setup.perturbed] = x
            return try setup.engine.forward(f).result.data
        }
        // Central differences at three steps (a ReLU or max-pool kink can spoil one of them).
        var best = Double.infinity
        for rel in [1e-2, 1e-3, 1e-4] {
            let h = rel * max(xn, 1)
            let yp = try at(h), ym = try at(-h)
            var fd = 0.0
            for i in 0..<y.count { fd += Double(u[i]) * (Double(yp[i]) - Double(ym[i])) / (2 * h) }
            best = min(best, abs(fd - gv) / max(abs(fd), abs(gv), 1e-6))
        }
        // Quantized models round: their finite differences jump, and their straight-through
        // gradients are checked against the float twins' instead (QuantizedGradientTests).
        if !c.family.contains("qcnn") {
            #expect(best <= 1e-2, "\(c.family): VJP \(gv) vs central differences: best relative difference \(best)")
        }
        // And the whole measurement runs.
        let result = try Validation.run(setup, inputs: inputs, inputsDescription: "family", options: ValidationOptions(seed: 2))
        let row = try #require(result.rows.first)
        #expect(row.steps >= 1 && row.kappaMax.map { $0.isFinite && $0 > 0 } == true, "\(c.family): \(row)")
        #expect(row.kappaRandom.map { $0.isFinite && $0 >= 0 } == true)
    }

    @Test func syntheticFeedsFollowTheDocumentedDefaults() throws {
        let g = try Self.graph("family_bert_encoder_layer")
        let setup = try Validation.setup(graph: g, plan: try SensitivityAnalysis.plan(g))
        let inputs = InputSet.synthetic(count: 2, range: 0...1, seed: 4, shape: setup.listedShape)
        let (feeds, made) = try Validation.feeds(setup, inputs: inputs, index: 1, options: ValidationOptions(seed: 4))
        #expect(Set(made) == ["input_ids", "attention_mask"])
        let ids = try #require(feeds["input_ids"]), mask = try #require(feeds["attention_mask"])
        let rows = try #require(g.constants.values.first { $0.dims.count == 2 && $0.dataType == .float && $0.name.contains("word") }?.dims[0])
        #expect(ids.dtype == .int64 && ids.data.allSatisfy { $0 >= 0 && $0 < Float(rows) && $0 == $0.rounded() })
        #expect(Set(ids.data).count > 1, "ids vary")
        #expect(mask.data.allSatisfy { $0 == 1 }, "masks are ones")
        // A declared range overrides the default: ids fixed at 3.
        let specs = [try DomainSpec.parse("input_ids=3,3").get()]
        let domain = try InputDomain.declared(specs, graph: g).get()
        let (fixed, _) = try Validation.feeds(setup, inputs: inputs, index: 1, options: ValidationOptions(seed: 4, domain: domain))
        #expect(fixed["input_ids"]?.data.allSatisfy { $0 == 3 } == true)
    }

    @Test func boxOutputIsRefusedNamingOutput() throws {
        switch ScoreLayout.of(shape: [1, 100, 4], name: "boxes") {  // [N, K, 4]: box coordinates
        case .success: Issue.record("a box tensor was read as class scores")
        case let .failure(e): #expect(e.message.contains("--output") && e.message.contains("box"))
        }
        switch ScoreLayout.of(shape: [1, 1, 20, 20], name: "probability") {
        case .success: Issue.record("a one-channel map was read as class scores")
        case let .failure(e): #expect(e.message.contains("--output"))
        }
        // [T, N, C] scores: one position per (t, n), classes contiguous.
        let l = try ScoreLayout.of(shape: [3, 2, 5], name: "ctc").get()  // 5 classes: not taken for boxes
        #expect(l.positions == 6 && l.classes == 5 && l.index(position: 4, class: 2) == 22)
        // [N, C, H, W]: classes strided by H·W.
        let m = try ScoreLayout.of(shape: [1, 3, 2, 2], name: "seg").get()
        #expect(m.positions == 4 && m.classStride == 4 && m.index(position: 1, class: 2) == 9)
    }
}
