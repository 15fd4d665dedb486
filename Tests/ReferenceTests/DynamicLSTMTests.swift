import Foundation
import ONNX
import Linalg
import Sensitivity
import Testing
@testable import Reference

/// com.microsoft DynamicQuantizeLSTM in the static analysis: its rule is the ONNX LSTM rule on
/// the dequantized, transposed weights. Checked against a float LSTM twin built here with
/// W_onnx[j][i] = (W_q[i][j] − z_j)·s_j (per-column scales and zero points) and R likewise:
/// (1) the two analyses give the same constants; (2) the engine, whose DynamicQuantizeLSTM
/// matches onnxruntime (OpCases), evaluates both to within the dynamic quantization of X and
/// h — which pins the twin's weight layout independently of the rule's code.
struct DynamicLSTMTests {
    static let (T, N, I, H) = (5, 2, 3, 4)

    static func models(direction: String) -> (quantized: OpCase, float: OpCase) {
        var rng = TestRandom(seed: 21)
        let D = direction == "bidirectional" ? 2 : 1
        let G = 4 * H
        let wq = (0..<(D * I * G)).map { _ in Int64(rng.uniform(-60, 60).rounded()) }
        let rq = (0..<(D * H * G)).map { _ in Int64(rng.uniform(-60, 60).rounded()) }
        let ws = (0..<(D * G)).map { _ in Float(rng.uniform(0.002, 0.01)) }
        let wz = (0..<(D * G)).map { _ in Int64(rng.uniform(-3, 3).rounded()) }
        let rs: [Float] = (0..<D).map { _ in Float(rng.uniform(0.002, 0.01)) }
        let b = (0..<(D * 2 * G)).map { _ in Float(rng.uniform(-0.2, 0.2)) }
        var wf = [Float](repeating: 0, count: D * G * I), rf = [Float](repeating: 0, count: D * G * H)
        for d in 0..<D {
            for i in 0..<I { for j in 0..<G { wf[d * G * I + j * I + i] = Float(wq[d * I * G + i * G + j] - wz[d * G + j]) * ws[d * G + j] } }
            for i in 0..<H { for j in 0..<G { rf[d * G * H + j * H + i] = Float(rq[d * H * G + i * G + j]) * rs[d] } }
        }
        let attrs: [String: Attribute] = ["hidden_size": .int(H), "direction": .string(direction)]
        let q = OpCase(label: "dqlstm", op: "DynamicQuantizeLSTM", inputs: [("x", [T, N, I])],
                       constants: [int8("w", [D, I, G], wq), int8("r", [D, H, G], rq), floats("b", [D, 2 * G], b),
                                   floats("ws", [D, G], ws), int8("wz", [D, G], wz), floats("rs", [D], rs), int8("rz", [D], Array(repeating: 0, count: D))],
                       order: ["x", "w", "r", "b", "", "", "", "", "ws", "wz", "rs", "rz"],
                       attributes: attrs, outputs: ["y", "yh", "yc"], domain: "com.microsoft")
        let f = OpCase(label: "lstm", op: "LSTM", inputs: [("x", [T, N, I])],
                       constants: [floats("w", [D, G, I], wf), floats("r", [D, G, H], rf), floats("b", [D, 2 * G], b)],
                       attributes: attrs, outputs: ["y", "yh", "yc"])
        return (q, f)
    }

    @Test(arguments: ["forward", "reverse", "bidirectional"])
    func ruleIsTheFloatTwinsLSTMRule(direction: String) throws {
        let (q, f) = Self.models(direction: direction)
        for output in ["y", "yh", "yc"] {
            let options = AnalysisOptions(spectral: SpectralOptions(exact: true), output: output, threads: 1)
            let rq = try SensitivityAnalysis.run(try q.graph(), options: options)
            let rf = try SensitivityAnalysis.run(try f.graph(), options: options)
            let lq = rq.network.eq7.operator, lf = rf.network.eq7.operator
            #expect(lq.isFinite && lq > 0, "\(direction) \(output): \(lq)")
            // The dequantized weights are rounded to float32 once in both models: equal.
            #expect(abs(lq - lf) <= 1e-12 * lf, "\(direction) \(output): DynamicQuantizeLSTM \(lq) vs LSTM \(lf)")
            #expect(rq.network.roundingPoints == rf.network.roundingPoints)
            #expect(rq.findings.isEmpty, "\(rq.findings)")
        }
        #expect(OpSupport.unsupportedNodes(in: try q.graph(), dependence: try Dependence(try q.graph())).isEmpty)
    }

    @Test(arguments: ["forward", "bidirectional"])
    func engineAgreesWithTheFloatTwinUpToDynamicQuantization(direction: String) throws {
        let (q, f) = Self.models(direction: direction)
        let feeds = q.feeds(seed: 3)
        for output in ["y", "yh", "yc"] {
            let yq = try Engine(graph: try q.graph(), output: output).forward(feeds).result.data
            let yf = try Engine(graph: try f.graph(), output: output).forward(feeds).result.data
            // X in ±1.5 quantized to uint8 (step ≈ 0.012) and h in (−1, 1) (step ≈ 0.008): the
            // gates move by a few 1e-3; a transposed or mis-scaled twin differs by O(0.1).
            var worst: Float = 0
            for i in yq.indices { worst = max(worst, abs(yq[i] - yf[i])) }
            #expect(worst < 0.02, "\(direction) \(output): max |Δ| = \(worst)")
            #expect(worst > 0, "the dynamic quantization rounds X: the outputs differ a little")
        }
    }
}
