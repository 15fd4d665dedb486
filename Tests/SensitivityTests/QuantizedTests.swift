import Foundation
import KappaTestSupport
import Linalg
import ONNX
import Sensitivity
import Testing

/// Quantized models (DESIGN.md §1.7 "Quantized ops"): QDQ, QOperator and dynamic
/// quantization as onnxruntime's quantizer writes them.
@Suite("Quantized models")
struct QuantizedTests {
    static let opCases = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ReferenceTests/OpCases").path

    static func pair(_ name: String) -> (quantized: ModelSpec, float: ModelSpec) {
        switch name {
        case "qlinearConv": return QuantizedTestModels.qlinearConv()
        case "qlinearMatMul": return QuantizedTestModels.qlinearMatMul()
        case "dynamicMatMul": return QuantizedTestModels.dynamicMatMul()
        case "dynamicConv": return QuantizedTestModels.dynamicConv()
        default: return QuantizedTestModels.contribMatMuls()
        }
    }

    static func run(_ spec: ModelSpec, _ norm: NormMode = .matrix) throws -> AnalysisResult {
        try SensitivityAnalysis.run(try loadGraph(spec), options: .init(norm: norm, spectral: .init(exact: true), threads: 2))
    }

    // MARK: (a) norms of the dequantized weights

    /// The quantized op's weight layer is the float layer with the dequantized weight: the same
    /// float32 values (both are (q − z)·s in Double rounded once), so every norm agrees to
    /// LAPACK precision, in both modes, and Eq. 7 telescopes (1/x_s · x_s/y_s · … · y_s) to the
    /// float network's.
    @Test("norms equal the float twin's with the dequantized weights", arguments: [
        "qlinearConv", "qlinearMatMul", "dynamicMatMul", "dynamicConv", "contribMatMuls",
    ])
    func normsEqualFloatTwin(_ name: String) throws {
        let (qs, fs) = Self.pair(name)
        for mode in [NormMode.matrix, .operator] {
            let q = try Self.run(qs, mode), f = try Self.run(fs, mode)
            #expect(q.findings.isEmpty, "\(q.findings.map(\.message))")
            let ql = q.nodes.compactMap(\.weight), fl = f.nodes.compactMap(\.weight)
            #expect(ql.count == fl.count && !ql.isEmpty)
            for (a, b) in zip(ql, fl) {
                #expect(a.shape == b.shape)
                for (x, y, what) in [(a.norms.frobenius, b.norms.frobenius, "‖W‖_F"), (a.norms.sigmaMatrix, b.norms.sigmaMatrix, "σ_matrix"),
                                     (a.norms.sigmaOpUpper, b.norms.sigmaOpUpper, "σ_op upper"), (a.norms.sigmaOpLower, b.norms.sigmaOpLower, "σ_op lower")] {
                    // σ_op lower is only estimated for convolutions in operator mode: nil in both or neither.
                    #expect((x == nil) == (y == nil), "\(name) \(mode) \(a.weight) \(what)")
                    guard let u = x, let v = y else { continue }
                    #expect(relClose(u, v, 1e-9), "\(name) \(mode) \(a.weight) \(what): \(u) vs float \(v)")
                }
            }
            #expect(relClose(q.network.eq7.matrix, f.network.eq7.matrix, 1e-9), "\(name): Eq. 7 \(q.network.eq7) vs \(f.network.eq7)")
            #expect(relClose(q.network.eq7.operator, f.network.eq7.operator, 1e-9))
            if name.hasPrefix("dynamic") {
                // The dynamic quantizers round the layers' inputs: the float model's points.
                #expect(q.network.roundingPoints == f.network.roundingPoints)
                #expect(relClose(q.network.eq8.operator, f.network.eq8.operator, 1e-9))
                // Only the layers (and the Relu-free float ops) are reported: nothing absorbed shows.
                #expect(q.nodes.count == f.nodes.count, "\(q.nodes.map(\.node))")
            }
        }
    }

    // MARK: (b) soundness on the real-valued networks

    /// Eq. 7 (operator column) dominates ‖J(x)‖₂ of the real-valued network (rounding and
    /// saturation removed, ``QuantizedEvaluator``) at 100 seeded points.
    @Test("Eq. 7 ≥ the finite-difference Jacobian norm at 100 points", arguments: ["qdq", "qoperator", "dynamic"])
    func soundness(_ name: String) throws {
        let spec = name == "qdq" ? QuantizedTestModels.qdq() : name == "qoperator" ? QuantizedTestModels.qoperator() : QuantizedTestModels.dynamic()
        let g = try loadGraph(spec)
        let r = try SensitivityAnalysis.run(g, options: .init(norm: .operator, spectral: .init(exact: true), threads: 2))
        #expect(r.findings.isEmpty, "\(r.findings.map(\.message))")
        let bound = r.network.eq7.operator
        #expect(bound.isFinite && bound > 0)
        #expect(r.network.eq7.matrix <= bound * (1 + 1e-12))
        let ev = QuantizedEvaluator(g: g)
        let n = try #require(g.shapes["x"]).reduce(1, *)
        var rng = SeededRandom(seed: 101)
        var worst = 0.0
        for _ in 0..<100 {
            let x = rng.gaussians(n, scale: 1).map(Double.init)
            worst = max(worst, try ev.jacobianNorm(at: x, output: r.network.output.tensor))
        }
        #expect(worst > 0)
        #expect(worst <= bound * (1 + 1e-6), "\(name): ‖J‖ = \(worst) > bound \(bound)")
        print("[quantized] soundness \(name): max ‖J‖ = \(worst), Eq. 7 operator = \(bound), matrix = \(r.network.eq7.matrix)")
    }

    /// Rounding points of the soundness networks, counted by hand:
    /// - qdq: the four Q→DQ pairs (input, per-axis, blocked, output); the Conv and Gemm inputs
    ///   are pair outputs already → 4;
    /// - qoperator: x_q (QuantizeLinear feeding QLinearConv), the outputs of QLinearConv ×2,
    ///   QLinearLeakyRelu, QLinearSigmoid, QLinearConcat, QLinearGlobalAveragePool,
    ///   QLinearMatMul ×2, QLinearAdd, QLinearMul, QGemm (12), plus the weight-layer inputs
    ///   that are not among them: the MaxPool output (second QLinearConv) and the Reshape
    ///   output (both QLinearMatMuls) → 14;
    /// - dynamic: the inputs of the ConvInteger layer (x), the MatMulInteger layer (Flatten
    ///   output) and DynamicQuantizeMatMul → 3.
    @Test("Eq. 8 counts every activation quantizer", arguments: [("qdq", 4), ("qoperator", 14), ("dynamic", 3)])
    func roundingPoints(_ name: String, _ expected: Int) throws {
        let spec = name == "qdq" ? QuantizedTestModels.qdq() : name == "qoperator" ? QuantizedTestModels.qoperator() : QuantizedTestModels.dynamic()
        let r = try Self.run(spec)
        #expect(r.network.roundingPoints == expected)
        #expect(r.network.eq8.isFinite)
    }

    /// The same layer as QDQ (Q→DQ → Conv → Q→DQ) and as QOperator (Q → QLinearConv → DQ):
    /// E counts a unit real rounding error at each point, so both give σ_op + 1 (input rounding
    /// amplified by the conv, output rounding by 1), the QOperator points on the integer
    /// tensors weighted by 1/scale.
    @Test("Eq. 8 is in real units: QDQ and QOperator forms of a layer agree")
    func eq8Units() throws {
        var wb = QBuilder(seed: 40)
        let w = QuantizedWeight(wb.weights([3, 2, 3, 3]), dims: [3, 2, 3, 3], axis: 0)
        var a = QBuilder(seed: 41), b = QBuilder(seed: 41)
        let xa = a.input("x", [1, 2, 5, 5]), xb = b.input("x", [1, 2, 5, 5])
        let (sa, za, ta) = (a.f32("s", [], [0.02]), a.ints("z", .uint8, [], [128]), a.f32("t", [], [0.09]))
        let zta = a.ints("zt", .uint8, [], [100])
        let (wq, ws, wz) = w.write(&a, "w")
        let conv = a.op1("QLinearConv", [a.op1("QuantizeLinear", [xa, sa, za]), sa, za, wq, ws, wz, ta, zta], attrs: QuantizedTestModels.pad1)
        a.output(a.op1("DequantizeLinear", [conv, ta, zta]))
        let (sb, zb, tb) = (b.f32("s", [], [0.02]), b.ints("z", .uint8, [], [128]), b.f32("t", [], [0.09]))
        let ztb = b.ints("zt", .uint8, [], [100])
        let inb = b.op1("DequantizeLinear", [b.op1("QuantizeLinear", [xb, sb, zb]), sb, zb])
        let y = b.op1("Conv", [inb, b.f32("w", w.dims, w.dequantized)], attrs: QuantizedTestModels.pad1)
        b.output(b.op1("DequantizeLinear", [b.op1("QuantizeLinear", [y, tb, ztb]), tb, ztb]))
        let qop = try Self.run(a.model()), qdq = try Self.run(b.model())
        #expect(qop.network.roundingPoints == 2 && qdq.network.roundingPoints == 2)
        let sigmaOp = try #require(qdq.nodes.compactMap(\.weight).first?.norms.sigmaOpUpper)
        #expect(relClose(qdq.network.eq8.operator, sigmaOp + 1, 1e-12))
        #expect(relClose(qop.network.eq8.operator, qdq.network.eq8.operator, 1e-9))
        #expect(relClose(qop.network.eq8.matrix, qdq.network.eq8.matrix, 1e-9))
        #expect(relClose(qop.network.eq7.operator, sigmaOp, 1e-9))
    }

    // MARK: (c) the onnxruntime-made models

    static let families = ["family_qcnn_qdq_static", "family_qcnn_qoperator_static", "family_qcnn_dynamic",
                           "family_qcnn_dynamic_conv_and_matmul"]

    /// onnxruntime's quantize_static (QDQ, QOperator) and quantize_dynamic of the same CNN: a
    /// finite bound, no finding, per-layer σ of the dequantized weights within the weight
    /// quantization error of the float model's (Weyl: |σ(W + ΔW) − σ(W)| ≤ ‖ΔW‖₂ ≤ ‖ΔW‖_F), and
    /// Eq. 8 over the activation quantizers: QDQ 8 (the pairs after input, relu1, pool1, relu2,
    /// pool2, flat, fc_mm, logits; the three layer inputs are pair outputs), QOperator 7 (x_q,
    /// the QLinearConv ×2, QLinearMatMul and QLinearAdd outputs, and the layer inputs pool1 and
    /// flat), dynamic 3 (the three layer inputs, as the float model).
    @Test("committed onnxruntime models: finite bounds, σ within the quantization error, rounding points",
          arguments: zip(families, [8, 7, 3, 3]))
    func onnxruntimeModels(_ name: String, _ points: Int) throws {
        let floatGraph = try ModelGraph(model: ModelLoader.load(path: Self.opCases + "/family_qcnn_float/model.onnx"))
        let g = try ModelGraph(model: ModelLoader.load(path: Self.opCases + "/\(name)/model.onnx"))
        let options = AnalysisOptions(spectral: .init(exact: true), threads: 2)
        let q = try SensitivityAnalysis.run(g, options: options), f = try SensitivityAnalysis.run(floatGraph, options: options)
        #expect(q.findings.isEmpty, "\(q.findings.map(\.message))")
        #expect(q.network.eq7.isFinite && q.network.eq8.isFinite)
        #expect(q.network.roundingPoints == points)
        let qw = try SensitivityAnalysis.plan(g).weightLayers, fw = try SensitivityAnalysis.plan(floatGraph).weightLayers
        let qn = q.nodes.compactMap(\.weight), fn = f.nodes.compactMap(\.weight)
        #expect(qw.count == 3 && fw.count == 3 && qn.count == 3 && fn.count == 3)
        var report: [String] = []
        for i in 0..<min(qw.count, fw.count, qn.count, fn.count) {
            let a = qw[i].weight.doubles(), b = fw[i].weight.doubles()
            #expect(a.count == b.count)
            let delta = zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
            let (sq, sf) = (try #require(qn[i].norms.sigmaMatrix), try #require(fn[i].norms.sigmaMatrix))
            #expect(abs(sq - sf) <= delta * (1 + 1e-9), "\(name) layer \(i): |σ − σ_float| = \(abs(sq - sf)) > ‖ΔW‖_F = \(delta)")
            // Layers left in float by quantize_dynamic (the Convs of family_qcnn_dynamic) are identical.
            #expect(delta / sf < 0.05)
            if delta == 0 { #expect(sq == sf) }
            report.append("\(qn[i].weight): σ \(sq) vs \(sf), rel \(abs(sq - sf) / sf), ‖ΔW‖_F/σ \(delta / sf)")
        }
        let rel7 = abs(q.network.eq7.operator - f.network.eq7.operator) / f.network.eq7.operator
        #expect(rel7 < 0.05)
        print("[quantized] \(name): Eq. 7 \(q.network.eq7) vs float \(f.network.eq7) (operator rel \(rel7)); Eq. 8 \(q.network.eq8) vs \(f.network.eq8); " + report.joined(separator: "; "))
    }

    // MARK: rules

    /// Q → op → DQ with x_s = 0.02, y_s = 0.05: the op's row is L_f·x_s/y_s and Eq. 7
    /// telescopes to L_f.
    struct UnaryCase: Sendable, CustomTestStringConvertible {
        var op: String
        var attrs: [(String, AttrSpec)]
        var shape: [Int]
        var lf: Double
        var testDescription: String { "\(op) \(attrs.map(\.0)) \(shape)" }
    }

    static let unaryCases: [UnaryCase] = [
        UnaryCase(op: "QLinearSigmoid", attrs: [], shape: [1, 2, 2, 2], lf: 0.25),
        UnaryCase(op: "QLinearLeakyRelu", attrs: [("alpha", .float(-2))], shape: [1, 2, 2, 2], lf: 2),
        UnaryCase(op: "QLinearSoftmax", attrs: [("axis", .int(1))], shape: [1, 2, 2, 2], lf: 0.5),
        UnaryCase(op: "QLinearGlobalAveragePool", attrs: [], shape: [1, 2, 2, 2], lf: 0.5),  // 1/√(2·2)
        UnaryCase(op: "QLinearGlobalAveragePool", attrs: [("channels_last", .int(1))], shape: [1, 3, 3, 2], lf: 1.0 / 3),  // 1/√(3·3)
        UnaryCase(op: "QLinearAveragePool", attrs: [("kernel_shape", .ints([2, 2])), ("strides", .ints([2, 2]))], shape: [1, 2, 4, 4],
                  lf: 0.5),  // √(c/K_min) = √(1/4)
    ]

    @Test("QLinear element and pool ops: L_f · x_s/y_s", arguments: unaryCases)
    func qlinearUnary(_ c: UnaryCase) throws {
        let (op, attrs, shape, lf) = (c.op, c.attrs, c.shape, c.lf)
        var b = QBuilder(seed: 1)
        let x = b.input("x", shape)
        let (xs, xz, ys, yz) = (b.f32("xs", [], [0.02]), b.ints("xz", .uint8, [], [128]), b.f32("ys", [], [0.05]), b.ints("yz", .uint8, [], [0]))
        let t = b.op1(op, [b.op1("QuantizeLinear", [x, xs, xz]), xs, xz, ys, yz], domain: "com.microsoft", attrs: attrs)
        b.output(b.op1("DequantizeLinear", [t, ys, yz]))
        let r = try Self.run(b.model(contrib: true))
        #expect(r.findings.isEmpty, "\(r.findings.map(\.message))")
        let row = try #require(r.nodes.first { $0.op == op })
        // The scales as stored (float32).
        let ratio = Double(Float(0.02)) / Double(Float(0.05))
        #expect(relClose(row.lipschitz.matrix, lf * ratio, 1e-12), "\(row.lipschitz) \(row.reason ?? "")")
        #expect(relClose(r.network.eq7.operator, lf, 1e-12))
        // x_q and the op's output are the rounding points.
        #expect(r.network.roundingPoints == 2)
    }

    /// QLinearAdd of A [1, 4] (scale 0.1) and B [1, 1] (scale 0.3, broadcast 4×) into C (0.2):
    /// gains 0.1/0.2 and 0.3/0.2·√4; QLinearConcat of parts with scales 0.1 and 0.3 into 0.2:
    /// √((0.5·g)² + (1.5·g)²).
    @Test("QLinearAdd sums scale ratios with the broadcast multiplicity; QLinearConcat is root-sum-square")
    func qlinearAddConcat() throws {
        var b = QBuilder(seed: 2)
        let x = b.input("x", [1, 4])
        let (s1, s2, s3, z) = (b.f32("s1", [], [0.1]), b.f32("s2", [], [0.3]), b.f32("s3", [], [0.2]), b.ints("z", .uint8, [], [128]))
        let a = b.op1("QuantizeLinear", [x, s1, z])
        let m = b.op1("ReduceMax", [a], attrs: [("axes", .ints([1])), ("keepdims", .int(1))])  // [1, 1], L = 1
        let add = b.op1("QLinearAdd", [a, s1, z, b.op1("QuantizeLinear", [b.op1("DequantizeLinear", [m, s1, z]), s2, z]), s2, z, s3, z],
                        domain: "com.microsoft")
        let cat = b.op1("QLinearConcat", [s3, z, a, s1, z, add, s3, z], domain: "com.microsoft", attrs: [("axis", .int(1))])
        b.output(b.op1("DequantizeLinear", [cat, s3, z]))
        let r = try Self.run(b.model(contrib: true))
        #expect(r.findings.isEmpty, "\(r.findings.map(\.message))")
        let addRow = try #require(r.nodes.first { $0.op == "QLinearAdd" })
        let (v1, v2, v3) = (Double(Float(0.1)), Double(Float(0.3)), Double(Float(0.2)))  // as stored
        #expect(relClose(addRow.lipschitz.matrix, v2 / v3 * 2, 1e-12))
        // g(a) = 1/0.1; g(m) = g(a); g(Q(DQ(m))) = g(m)·0.1/0.3 (scales differ: no pair);
        // g(add) = 0.5·g(a) + 3·g(a)/3 = 1.5·g(a); g(cat) = √((0.5·g(a))² + g(add)²); ×0.2.
        let ga = 1 / v1
        let gAdd = v1 / v3 * ga + v2 / v3 * 2 * (ga * v1 / v2)
        let expected = ((v1 / v3 * ga) * (v1 / v3 * ga) + gAdd * gAdd).squareRoot() * v3
        #expect(relClose(r.network.eq7.matrix, expected, 1e-12), "\(r.network.eq7.matrix) vs \(expected)")
    }

    /// Inconsistent quantization parameters never crash: the node is unbounded with the reason.
    @Test("inconsistent scales and zero points are unbounded with the reason", arguments: [
        ("zero output scale", "is zero"),
        ("weight scale length", "fits no axis"),
        ("activation scale length", "does not fit axis"),
        ("scale from the data", "depend on the input"),
    ])
    func inconsistent(_ what: String, _ phrase: String) throws {
        var b = QBuilder(seed: 3)
        let x = b.input("x", [1, 2, 4, 4])
        let (xs, xz) = (b.f32("xs", [], [0.02]), b.ints("xz", .uint8, [], [128]))
        let w = QuantizedWeight(b.weights([4, 2, 3, 3]), dims: [4, 2, 3, 3], axis: 0)
        var (wq, ws, wz) = w.write(&b, "w")
        var ys = b.f32("ys", [], [what == "zero output scale" ? 0 : 0.05])
        var qs = xs
        if what == "weight scale length" { ws = b.f32("ws_bad", [3], [0.01, 0.02, 0.03]); wz = b.ints("wz_bad", .int8, [3], [0, 0, 0]) }
        if what == "activation scale length" { qs = b.f32("qs_bad", [3], [0.01, 0.02, 0.03]) }
        let q = b.op1("QuantizeLinear", [x, qs, what == "activation scale length" ? "" : xz], attrs: [("axis", .int(1))])
        if what == "scale from the data" {
            ys = b.op("DynamicQuantizeLinear", [x], outputs: 3)[1]
        }
        let conv = b.op1("QLinearConv", [q, xs, xz, wq, ws, wz, ys, xz], attrs: QuantizedTestModels.pad1)
        b.output(b.op1("DequantizeLinear", [conv, xs, xz]))
        let r = try Self.run(b.model())
        let bad = r.nodes.filter { $0.status == .unbounded }
        #expect(!bad.isEmpty)
        #expect(bad.contains { ($0.reason ?? "").contains(phrase) }, "\(bad.map { "\($0.op): \($0.reason ?? "")" })")
        #expect(!r.network.eq7.isFinite)
        #expect(r.findings.contains { $0.rule == .unboundedOp })
    }

    /// Window attributes of the contrib pools are checked like the standard pools' (the loader
    /// validates only those): a zero stride is a reason, not a division by zero.
    @Test("QLinearAveragePool with a zero stride is unbounded with the reason")
    func badPoolAttributes() throws {
        var b = QBuilder(seed: 6)
        let x = b.input("x", [1, 2, 4, 4])
        let (xs, xz) = (b.f32("xs", [], [0.02]), b.ints("xz", .uint8, [], [128]))
        let t = b.op1("QLinearAveragePool", [b.op1("QuantizeLinear", [x, xs, xz]), xs, xz, xs, xz], domain: "com.microsoft",
                      attrs: [("kernel_shape", .ints([2, 2])), ("strides", .ints([0, 2]))])
        b.output(b.op1("DequantizeLinear", [t, xs, xz]))
        let r = try Self.run(b.model(contrib: true))
        let row = try #require(r.nodes.first { $0.op == "QLinearAveragePool" })
        #expect(row.status == .unbounded)
        #expect(row.reason?.contains("strides") == true, "\(row.reason ?? "")")
    }

    /// Where the dynamic pattern does not match, the quantizer and the integer op are unbounded
    /// with the precise reason (never a silent 1).
    @Test("unmatched dynamic patterns are unbounded with the reason", arguments: [
        ("no zero point", "does not subtract the quantizer's zero point"),
        ("scale escapes", "also feeds"),
        ("rescale by data", "not a constant times a power"),
    ])
    func unmatchedDynamic(_ what: String, _ phrase: String) throws {
        var b = QBuilder(seed: 4)
        let x = b.input("x", [2, 6])
        let w = QuantizedWeight(b.weights([6, 5]), dims: [6, 5], axis: nil, type: .uint8)
        let (wq, ws, wz) = w.write(&b, "w")
        let d = b.op("DynamicQuantizeLinear", [x], outputs: 3)
        let scales = b.op1("Mul", [d[1], ws])
        let acc = b.op1("MatMulInteger", [d[0], wq, what == "no zero point" ? "" : d[2], wz])
        let cast = b.op1("Cast", [acc], attrs: [("to", .int(1))])
        var y = b.op1("Mul", [cast, what == "rescale by data" ? b.op1("ReduceMax", [x], attrs: [("keepdims", .int(0))]) : scales])
        if what == "scale escapes" { y = b.op1("Mul", [y, b.op1("Add", [scales, b.f32("one", [], [1])])]) }
        b.output(y)
        let r = try Self.run(b.model())
        #expect(!r.network.eq7.isFinite)
        let reasons = r.nodes.filter { $0.status == .unbounded }.map { "\($0.op): \($0.reason ?? "")" }
        #expect(reasons.contains { $0.contains(phrase) }, "\(reasons)")
        #expect(reasons.contains { $0.hasPrefix("DynamicQuantizeLinear") })
    }

    @Test("DynamicQuantizeLSTM has the LSTM rule on its dequantized weights; inspect lists no absorbed or QOperator nodes")
    func dynamicLSTM() throws {
        var b = QBuilder(seed: 5)
        let x = b.input("x", [3, 1, 4])
        let w = b.ints("w", .int8, [1, 4, 8], Array(repeating: 1, count: 32))
        let rr = b.ints("r", .int8, [1, 2, 8], Array(repeating: 1, count: 16))
        let s = b.f32("s", [1], [0.1]), z = b.ints("z", .int8, [1], [0])
        let y = b.op("DynamicQuantizeLSTM", [x, w, rr, "", "", "", "", "", s, z, s, z], domain: "com.microsoft",
                     attrs: [("hidden_size", .int(2))], outputs: 1)[0]
        b.output(b.op1("Relu", [y]))
        let g = try loadGraph(b.model(contrib: true))
        let r = try SensitivityAnalysis.run(g, options: .init(spectral: .init(exact: true), threads: 1))
        let row = try #require(r.nodes.first { $0.op == "DynamicQuantizeLSTM" })
        #expect(row.status == .ok)
        #expect(row.reason?.contains("dequantized weights") == true)
        #expect(r.network.eq7.isFinite)
        #expect(OpSupport.unsupportedNodes(in: g, dependence: try Dependence(g)).isEmpty)
        let qop = try loadGraph(QuantizedTestModels.qoperator())
        #expect(OpSupport.unsupportedNodes(in: qop, dependence: try Dependence(qop)).isEmpty)
        // The Floor of the run-time bias is absorbed into its layer: not listed either.
        let dc = try loadGraph(QuantizedTestModels.dynamicConv().quantized)
        #expect(dc.graph.nodes.contains { $0.opType == "Floor" })
        #expect(OpSupport.unsupportedNodes(in: dc, dependence: try Dependence(dc)).isEmpty)
    }
}

/// Integer ops on statically quantized activations (a QuantizeLinear with a constant scale in
/// front): each is an ordinary weight layer, and Eq. 7 of Q → op (→ rescale) is the float
/// layer's σ(W_dq)·(alpha) — LAPACK on the dequantized weight — up to the float32 rounding of a
/// stored product of scales.
@Suite("Quantized models: static integer ops")
struct StaticIntegerOpTests {
    static let xs: Float = 0.04

    static func sigma(_ w: QuantizedWeight, transposed: Bool = false) throws -> Double {
        let (r, c) = (w.dims[0], w.dims[1])
        return try SpectralNorm.singularValues(w.dequantized.map(Double.init), rows: r, cols: c).max() ?? 0
    }

    @Test("MatMulInteger → Cast → Mul, QGemm (float output), MatMulIntegerToFloat, QLinearMul by a constant",
          arguments: ["MatMulInteger", "QGemm", "MatMulIntegerToFloat", "QLinearMul"])
    func staticOps(_ op: String) throws {
        var b = QBuilder(seed: 50)
        let x = b.input("x", [2, 6])
        let (s, z) = (b.f32("xs", [], [Self.xs]), b.ints("xz", .uint8, [], [128]))
        let xq = b.op1("QuantizeLinear", [x, s, z])
        let ms = "com.microsoft"
        var expected: Double
        switch op {
        case "MatMulInteger":
            let w = QuantizedWeight(b.weights([6, 4]), dims: [6, 4], axis: nil, type: .int8)
            let (wq, ws, wz) = w.write(&b, "w")
            _ = ws
            let acc = b.op1("MatMulInteger", [xq, wq, z, wz])
            let rescale = b.f32("rescale", [], [Self.xs * w.scale[0]])
            b.output(b.op1("Mul", [b.op1("Cast", [acc], attrs: [("to", .int(1))]), rescale]))
            // (1/x_s)·σ(w_q − z)·(x_s·w_s) = σ(W) (the float32 product x_s·w_s rounds once).
            expected = try Self.sigma(w) / Double(w.scale[0]) * Double(Self.xs * w.scale[0]) / Double(Self.xs)
        case "QGemm":
            let w = QuantizedWeight(b.weights([6, 4]), dims: [6, 4], axis: 1, type: .int8)
            let (wq, ws, wz) = w.write(&b, "w")
            b.output(b.op1("QGemm", [xq, s, z, wq, ws, wz], domain: ms, attrs: [("alpha", .float(-1.5))]))
            expected = 1.5 * (try Self.sigma(w))
        case "MatMulIntegerToFloat":
            let w = QuantizedWeight(b.weights([6, 4]), dims: [6, 4], axis: 1, type: .uint8)
            let (wq, ws, wz) = w.write(&b, "w")
            b.output(b.op1("MatMulIntegerToFloat", [xq, wq, s, ws, z, wz], domain: ms))
            expected = try Self.sigma(w)
        default:
            // C = (a_s/c_s)·(A − a_z)·b_s(B − b_z): a diagonal scaling by s·B_dq; then DQ by c_s.
            let c = b.ints("c", .uint8, [6], [140, 100, 200, 128, 0, 255])
            let (cs, cz, ys) = (b.f32("cs", [], [0.01]), b.ints("cz", .uint8, [], [128]), b.f32("ys", [], [0.02]))
            let t = b.op1("QLinearMul", [xq, s, z, c, cs, cz, ys, z], domain: ms)
            b.output(b.op1("DequantizeLinear", [t, ys, z]))
            expected = [140, 100, 200, 128, 0, 255].map { abs(Double($0 - 128) * Double(Float(0.01))) }.max() ?? 0
        }
        let r = try QuantizedTests.run(b.model(contrib: true))
        #expect(r.findings.isEmpty, "\(r.findings.map(\.message))")
        #expect(r.nodes.contains { $0.op == op && $0.weight != nil })
        #expect(relClose(r.network.eq7.matrix, expected, 1e-6), "\(op): \(r.network.eq7.matrix) vs \(expected)")
        #expect(relClose(r.network.eq7.operator, expected, 1e-6))
    }
}
