import Foundation
import Linalg
import ONNX
import Sensitivity
import Testing

/// `kappa diff` on the committed onnxruntime exports of one float CNN (OpCases/family_qcnn_*,
/// made by scripts/make_op_cases.py with onnxruntime 1.32: quantize_static QDQ and QOperator
/// per channel int8, quantize_dynamic, onnxconverter-common float16).
struct ModelDiffTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("OpCases")
    static func load(_ name: String) throws -> ModelGraph {
        try ModelGraph(model: try ModelLoader.load(path: folder.appendingPathComponent("family_qcnn_\(name)/model.onnx").path))
    }

    @Test func modelAgainstItselfIsZero() throws {
        let f = try Self.load("float")
        let r = try ModelDiff.run(float: f, export: f)
        #expect(r.pairs.count == 3 && r.unmatchedFloat.isEmpty && r.unmatchedExport.isEmpty)
        for p in r.pairs {
            #expect(p.floatNode == p.exportNode && p.deltaFrobenius == 0 && p.deltaSigma == 0 && p.maxAbs == 0)
            #expect(p.sqnr == .infinity)
        }
        #expect(r.maxRelative == 0)
    }

    /// Every layer of every export is found, and the exported weights are exactly Kappa's own
    /// Q(W) for the scheme the exporter used: ΔW from the diff equals Q(W) − W of
    /// ``WeightQuantizer`` (per-channel int8 for quantize_static, per-tensor int8 for the
    /// dynamic MatMul, onnxruntime's asymmetric uint8 grid for quantize_dynamic(QUInt8), float16 for the converter) — the diff and `kappa quant` agree on real exports.
    @Test(arguments: [("qdq_static", "int8-channel"), ("qoperator_static", "int8-channel"), ("fp16_converter", "fp16"),
                      ("fp16_weights", "fp16"), ("dynamic", "int8"), ("dynamic_conv_and_matmul", "uint8")])
    func exportsMatchEveryLayer(_ name: String, _ scheme: String) throws {
        let f = try Self.load("float"), e = try Self.load(name)
        let r = try ModelDiff.run(float: f, export: e)
        #expect(r.pairs.count == 3, "\(name)")
        #expect(r.unmatchedFloat.isEmpty && r.unmatchedExport.isEmpty, "\(name)")
        let plan = try SensitivityAnalysis.plan(f)
        let cands = QuantAnalysis.candidates(plan)
        // uint8: quantize_dynamic(weight_type=QUInt8) — asymmetric per tensor, onnxruntime's grid from [min, max].
        let ws = WeightScheme(parsing: scheme)
        for p in r.pairs {
            let (l, _, _, axis) = try #require(cands.first { $0.0.node == p.floatNode })
            let w = l.weight.floats()
            let q: [Float]
            if let ws {
                q = WeightQuantizer.quantize(w, dims: l.weight.dims, scheme: ws, axis: axis).values
            } else {
                let g = IntegerGrid(lo: Double(w.min() ?? 0), hi: Double(w.max() ?? 0), qmin: 0, qmax: 255, symmetric: false)
                q = w.map { g.dequantize(g.quantize($0)) }
            }
            let expected = zip(q, w).reduce(0.0) { $0 + (Double($1.0) - Double($1.1)) * (Double($1.0) - Double($1.1)) }.squareRoot()
            // Layers the exporter left in float (dynamic: the convolutions) have ΔW = 0.
            if p.deltaFrobenius == 0 {
                #expect(name.hasPrefix("dynamic") && p.floatOp == "Conv" && p.exportOp == "Conv", "\(name) \(p.floatNode)")
                continue
            }
            #expect(abs(p.deltaFrobenius - expected) <= 1e-6 * expected, "\(name) \(p.floatNode): diff \(p.deltaFrobenius) vs Q(W) − W \(expected)")
            #expect(p.deltaSigma > 0 && p.deltaSigma <= p.deltaFrobenius * (1 + 1e-9))
        }
    }
}
