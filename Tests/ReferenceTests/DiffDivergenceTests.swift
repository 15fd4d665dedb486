import Foundation
import ONNX
import Reference
import Sensitivity
import Testing

/// `kappa diff --inputs/--synthetic` (``DiffDivergence``) on the committed onnxruntime exports
/// of one float CNN (OpCases/family_qcnn_*): the output divergence against onnxruntime's own
/// outputs for the two files, and the local/cumulative divergence at matched activations.
struct DiffDivergenceTests {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static func load(_ name: String) throws -> ModelGraph {
        try ModelGraph(model: try ModelLoader.load(path: here.appendingPathComponent("OpCases/family_qcnn_\(name)/model.onnx").path))
    }
    static func pb(_ path: String, shape: [Int]) throws -> Value {
        try InputSet.files(at: here.appendingPathComponent(path).path, shape: shape).load(0)
    }
    static func feeds(_ n: Int) throws -> [[String: Value]] {
        let r = try QDQStaticTests.refs()
        return r.inputs.prefix(n).map { [r.input: Value(shape: [1, 1, 8, 8], data: $0)] }
    }

    @Test func modelAgainstItselfIsZero() throws {
        let f = try Self.load("float")
        let d = try DiffDivergence.run(float: f, export: f, feeds: try Self.feeds(8))
        #expect(d.stats.maxError == 0 && d.stats.maxRelativeError == 0 && d.stats.top1Agreement == 1)
        #expect(d.activations.count == 9)
        for a in d.activations { #expect(a.localMax == 0 && a.cumulativeMax == 0, "\(a.tensor)") }
        #expect(d.forwardPasses == 8 * 2 + 8 * 8)
    }

    /// On the stored test input, the output divergence equals ‖y_QDQ − y_float‖₂ of the two
    /// outputs onnxruntime computed for these files (committed by scripts/make_op_cases.py):
    /// Kappa's engine matches onnxruntime to 1e-5 per logit on the float model and exactly on
    /// the QDQ one (QDQStaticTests), so within 1e-4.
    @Test func outputDivergenceMatchesOnnxruntime() throws {
        let f = try Self.load("float"), q = try Self.load("qdq_static")
        let x = try Self.pb("OpCases/family_qcnn_float/test_data_set_0/input_0.pb", shape: [1, 1, 8, 8])
        let yf = try Self.pb("OpCases/family_qcnn_float/test_data_set_0/output_0.pb", shape: [1, 10])
        let yq = try Self.pb("OpCases/family_qcnn_qdq_static/test_data_set_0/output_0.pb", shape: [1, 10])
        let want = zip(yf.data, yq.data).reduce(0.0) { $0 + Double($1.1 - $1.0) * Double($1.1 - $1.0) }.squareRoot()
        let d = try DiffDivergence.run(float: f, export: q, feeds: [["input": x]])
        #expect(want > 0.01)
        #expect(abs(d.stats.maxError - want) <= 1e-4, "Kappa \(d.stats.maxError) vs onnxruntime \(want)")
    }

    /// Against the QDQ export on 32 inputs: small and nonzero; every float activation the
    /// export keeps is matched (carried values: the DequantizeLinear outputs); the cumulative
    /// divergence at the logits is the output's relative error.
    @Test func qdqExportSmallAndNonzero() throws {
        let f = try Self.load("float"), q = try Self.load("qdq_static")
        let d = try DiffDivergence.run(float: f, export: q, feeds: try Self.feeds(32))
        #expect(d.stats.maxError > 0 && d.stats.maxRelativeError < 0.3 && (d.stats.top1Agreement ?? 0) >= 0.9)
        #expect(d.activations.map(\.tensor) == ["relu1_out", "pool1_out", "relu2_out", "pool2_out", "flat", "fc_mm", "logits"])
        #expect(d.activations.map { $0.from ?? "" } == ["", "relu1_out", "pool1_out", "relu2_out", "pool2_out", "flat", "fc_mm"])
        for a in d.activations {
            #expect(a.cumulativeMax > 0 && a.cumulativeMax < 0.3 && a.localMax >= 0 && a.localMax <= a.cumulativeMax * 1.5 + 1e-3, "\(a.tensor)")
        }
        let logits = try #require(d.activations.last)
        #expect(abs(logits.cumulativeMax - d.stats.maxRelativeError) <= 1e-9)
    }

    /// Local divergence isolates what the export adds between two activations: with only the
    /// weights rounded to float16 (family_qcnn_fp16_weights), the Relu, MaxPool and Reshape
    /// steps add exactly nothing locally, while the cumulative divergence carries the upstream
    /// drift; the weight layers' local divergence is nonzero.
    @Test func localIsolatesEachStep() throws {
        let f = try Self.load("float"), e = try Self.load("fp16_weights")
        let d = try DiffDivergence.run(float: f, export: e, feeds: try Self.feeds(8))
        let by = Dictionary(uniqueKeysWithValues: d.activations.map { ($0.tensor, $0) })
        for t in ["relu1_out", "pool1_out", "relu2_out", "pool2_out", "flat"] {
            let a = try #require(by[t])
            #expect(a.localMax == 0 && a.cumulativeMax > 0, "\(t): local \(a.localMax), cumulative \(a.cumulativeMax)")
        }
        for t in ["conv1_out", "conv2_out", "fc_mm"] { #expect((by[t]?.localMax ?? 0) > 0, "\(t)") }
        #expect(by["conv1_out"]?.localMax == by["conv1_out"]?.cumulativeMax)
    }
}
