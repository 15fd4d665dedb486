import Foundation
import ONNX
import Sensitivity
import Testing
@testable import Reference

/// The reference engine on the trained sample model `samples/digits_cnn` (Conv, Relu,
/// MaxPool, Flatten, Gemm, Softmax) against the probabilities onnxruntime computed for its
/// ONNX test-data sets (an independent runtime): |ours − onnxruntime| ≤ 1e-5 per
/// probability (float32 sums over ≤ 1,024 terms in a different order differ by ~1e-7).
struct SampleModelTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("samples/digits_cnn").path

    @Test(.enabled(if: FileManager.default.fileExists(atPath: root + "/model.onnx")))
    func matchesOnnxruntimeOutputs() throws {
        let graph = try ModelGraph(model: ModelLoader.load(path: Self.root + "/model.onnx"))
        let engine = try Engine(graph: graph)
        let shape = try Validation.inputShape(of: graph)
        let set = try InputSet.files(at: Self.root, shape: shape)
        #expect(set.count >= 1)
        var correct = 0
        for i in 0..<set.count {
            guard case let .tensorFile(inPath) = set.entries[i].kind else { continue }
            let folder = (inPath as NSString).deletingLastPathComponent
            let want = try TensorLoader.load(path: folder + "/output_0.pb").floats()
            let got = try engine.forward(set.load(i)).result.data
            #expect(got.count == want.count)
            let worst = zip(got, want).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-5, "\(set.entries[i].source): max |Δ| = \(worst)")
            if let text = try? String(contentsOfFile: folder + "/label.txt", encoding: .utf8),
               Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) == argmax(got) { correct += 1 }
        }
        // README: held-out accuracy 0.9966; these digits are classified correctly.
        #expect(correct == set.count)
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: root + "/model.onnx")))
    func logitsAreTheSoftmaxInput() throws {
        let graph = try ModelGraph(model: ModelLoader.load(path: Self.root + "/model.onnx"))
        #expect(try SensitivityAnalysis.plan(graph).output.tensor == "logits")
        #expect(try SensitivityAnalysis.plan(graph, options: AnalysisOptions(output: "probs")).output.tensor == "probs")
    }
}
