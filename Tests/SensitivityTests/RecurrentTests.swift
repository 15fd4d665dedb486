import Foundation
import KappaTestSupport
import Linalg
import ONNX
@testable import Sensitivity
import Testing

/// LSTM, GRU, RNN (recurrent.md): the float64 evaluator against onnxruntime, then Kappa's
/// Eq. 7 bound at Y, Y_h, Y_c against finite-difference Jacobian norms (‖J‖₂ by LAPACK
/// dgesdd on the full FD Jacobian) and secants of that evaluator.
///
/// Tolerance: a bound passes when bound ≥ observed·(1 − 1e-6). Central differences with steps
/// 1e-6·max(1, |v|) have truncation error O(h²) and rounding error O(u/h) ≈ 1e-10 relative, far
/// inside 1e-6; the bound itself is an exact certified upper end (no tolerance on its side).
struct RecurrentTests {
    static let opCases = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ReferenceTests/OpCases")
    static let tolerance = 1e-6

    // MARK: The evaluator against onnxruntime

    static let ortCases = [
        "lstm_forward", "lstm_forward_no_bias_yh_only", "lstm_reverse_initial_state", "lstm_bidirectional_peephole",
        "lstm_forward_peephole", "lstm_sequence_lens_bidirectional", "lstm_activations_hardsigmoid",
        "lstm_activations_bidirectional_mixed", "lstm_clip", "lstm_input_forget",
        "gru_linear_before_reset0", "gru_linear_before_reset1", "gru_bidirectional_initial_h",
        "gru_sequence_lens_bidirectional", "gru_reverse_no_bias",
        "rnn_tanh", "rnn_relu", "rnn_bidirectional_initial_h", "rnn_sequence_lens",
    ]

    /// onnxruntime's tolerance for the case (cases.json: |got − want| ≤ abs + rel·|want|).
    static func caseTolerance(_ name: String) throws -> (abs: Double, rel: Double) {
        let data = try Data(contentsOf: opCases.appendingPathComponent("cases.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try #require(json["cases"] as? [[String: Any]])
        let c = try #require(cases.first { $0["case"] as? String == name })
        let t = try #require(c["tolerance"] as? [String: Double])
        return (try #require(t["abs"]), try #require(t["rel"]))
    }

    @Test(arguments: ortCases)
    func evaluatorMatchesOnnxruntime(caseName: String) throws {
        let dir = Self.opCases.appendingPathComponent(caseName)
        let g = try ModelGraph(model: try ModelLoader.load(path: dir.appendingPathComponent("model.onnx").path))
        let node = try #require(g.graph.nodes.first { ["LSTM", "GRU", "RNN"].contains($0.opType) })
        let ref = try RecurrentReference(node: node, constants: g.constants)
        let data = dir.appendingPathComponent("test_data_set_0")
        var feeds: [String: Tensor] = [:]
        for (i, input) in g.inputs.enumerated() {
            feeds[input.name] = try TensorLoader.load(path: data.appendingPathComponent("input_\(i).pb").path)
        }
        let x = try #require(feeds[node.inputs[0]])
        let lens = node.input(4).flatMap { feeds[$0] ?? g.constants[$0] }.map { $0.int64s().map { Int($0) } }
        let out = ref.run(x: x.doubles(), steps: x.dims[0], batch: x.dims[1], sequenceLens: lens,
                          h0: node.input(5).flatMap { feeds[$0]?.doubles() }, c0: node.input(6).flatMap { feeds[$0]?.doubles() })
        let (abs_, rel) = try Self.caseTolerance(caseName)
        var maxErr = 0.0
        for (k, o) in g.graph.outputs.enumerated() {
            let want = try TensorLoader.load(path: data.appendingPathComponent("output_\(k).pb").path).doubles()
            let which = try #require(node.outputs.firstIndex(of: o.name))
            let got = [out.y, out.yh, out.yc][which]
            #expect(got.count == want.count)
            for (a, b) in zip(got, want) {
                maxErr = max(maxErr, abs(a - b))
                #expect(abs(a - b) <= abs_ + rel * abs(b), "\(caseName) \(o.name): \(a) vs onnxruntime \(b)")
            }
        }
        print("recurrent evaluator vs onnxruntime: \(caseName) max |error| \(maxErr)")
    }

    // MARK: Soundness on random cells

    /// Bound / observed at 100 seeded points (+ 20 secants) for each output; returns the minimum.
    static func check(_ c: RecurrentCase, points: Int = 100, secants: Int = 20, seed: UInt64) throws -> Double {
        let g = try loadGraph(c.spec())
        let outs = c.ref.op == .LSTM ? ["Y", "Y_h", "Y_c"] : ["Y", "Y_h"]
        var bounds: [Double] = []
        for o in outs {
            let r = try SensitivityAnalysis.run(g, options: AnalysisOptions(norm: .matrix, spectral: .init(exact: true), output: o, threads: 1))
            let row = try #require(r.nodes.first { $0.op == c.ref.op.rawValue })
            #expect(row.status == .ok, "\(c): \(row.reason ?? "")")
            #expect(row.reason?.contains("recurrent.md Thm") == true)
            bounds.append(r.network.eq7.operator)
        }
        var rng = SeededRandom(seed: seed)
        let nin = c.inputCount
        func sample() -> [Double] {
            let s = [0.05, 0.3, 1.0, 3.0, 10.0][Int(rng.next() % 5)]
            var v = (0..<c.xCount).map { _ in rng.gaussian() * s }
            while v.count < nin { v.append(rng.uniform() * 6 - 3) }
            return v
        }
        var worst = Double.infinity
        var observed = [Double](repeating: 0, count: outs.count)
        for _ in 0..<points {
            let J = FD.jacobians(c.function, at: sample())
            for k in outs.indices {
                let rows = J[k].count / nin
                let s = try SpectralNorm.singularValues(J[k], rows: rows, cols: nin).first ?? 0
                observed[k] = max(observed[k], s)
            }
        }
        for _ in 0..<secants {
            let u = sample()
            let step = [0.01, 0.3, 2.0][Int(rng.next() % 3)]
            let w = u.map { $0 + rng.gaussian() * step }
            let fu = c.function(u), fw = c.function(w)
            let du = FD.norm(zip(u, w).map { $0 - $1 })
            for k in outs.indices { observed[k] = max(observed[k], FD.norm(zip(fu[k], fw[k]).map { $0 - $1 }) / du) }
        }
        for k in outs.indices where observed[k] > 0 {
            #expect(bounds[k] >= observed[k] * (1 - tolerance), "\(c) \(outs[k]): bound \(bounds[k]) < observed \(observed[k])")
            worst = min(worst, bounds[k] / observed[k])
        }
        return worst
    }

    @Test(arguments: RecurrentReference.Op.allCases)
    func boundDominatesJacobianOnRandomCells(op: RecurrentReference.Op) throws {
        var ratios: [Double] = []
        let base: UInt64 = op == .LSTM ? 1000 : op == .GRU ? 2000 : 3000
        for k in 0..<20 {
            let c = RecurrentCases.random(op, seed: base + UInt64(k))
            ratios.append(try Self.check(c, seed: base + 500 + UInt64(k)))
            if ProcessInfo.processInfo.environment["KAPPA_LIST_CELLS"] != nil { print("cell: \(c) ratio \(ratios[k])") }
        }
        let finite = ratios.filter(\.isFinite).sorted()
        #expect(finite.count == ratios.count)
        print("recurrent soundness \(op): \(ratios.count) cells, min bound/‖J‖ \(finite.first ?? .nan), median \(finite[finite.count / 2])")
    }

    /// Where the bound is exact: an Affine RNN at T = 1 is x ↦ α(Wx + b), L = |α|·‖W‖.
    @Test func affineRnnAtOneStepIsTight() throws {
        var rng = SeededRandom(seed: 7)
        let ref = RecurrentReference(op: .RNN, direction: "forward", hidden: 4, inputSize: 3,
                                     W: (0..<12).map { _ in Double(Float(rng.gaussian())) }, R: (0..<16).map { _ in Double(Float(rng.gaussian())) },
                                     B: nil, P: nil, acts: [.init(name: "Affine", alpha: 1.3, beta: 0.2)], clip: nil,
                                     inputForget: false, linearBeforeReset: false, layout: 0)
        let c = RecurrentCase(ref: ref, steps: 1, batch: 1)
        let ratio = try Self.check(c, points: 5, secants: 5, seed: 8)
        #expect(ratio >= 1 - Self.tolerance && ratio <= 1 + 1e-6, "ratio \(ratio)")
    }

    // MARK: Unbounded configurations

    @Test(arguments: [
        ("LSTM", ["Sigmoid", "Relu", "Tanh"], "candidate activation g = Relu has an unbounded range"),
        ("LSTM", ["Relu", "Tanh", "Tanh"], "gate activation f = Relu has an unbounded range"),
        ("GRU", ["Relu", "Tanh"], "gate activation f = Relu has an unbounded range"),
        ("GRU", ["Sigmoid", "Softplus"], "candidate activation g = Softplus has an unbounded range"),
        ("RNN", ["ThresholdedRelu"], "discontinuous"),
    ])
    func unboundedActivations(op: String, acts: [String], reason: String) throws {
        var c = RecurrentCases.random(RecurrentReference.Op(rawValue: op) ?? .RNN, seed: 77)
        c.ref.direction = "forward"
        c.ref.W = Array(c.ref.W.prefix(c.ref.gates * c.ref.hidden * c.ref.inputSize))
        c.ref.R = Array(c.ref.R.prefix(c.ref.gates * c.ref.hidden * c.ref.hidden))
        c.ref.B = nil
        c.ref.P = nil
        c.ref.clip = nil
        c.h0 = .absent
        c.c0 = .absent
        c.sequenceLens = .absent
        c.ref.acts = RecurrentReference.activations(acts, alphas: acts == ["ThresholdedRelu"] ? [1.0] : [], betas: [])
        let r = try analyze(c.spec(), output: "Y")
        let row = try #require(r.nodes.first { $0.op == op })
        #expect(row.status == .unbounded)
        #expect(row.reason?.contains(reason) == true, "\(row.reason ?? "")")
        #expect(!r.network.eq7.operator.isFinite)
        #expect(r.findings.contains { $0.rule == .unboundedOp })
    }

    @Test(arguments: ["GRU initial_h", "LSTM initial_c"])
    func variableStateWithoutRangeIsUnbounded(which: String) throws {
        let op: RecurrentReference.Op = which.hasPrefix("GRU") ? .GRU : .LSTM
        var c = RecurrentCases.random(op, seed: 31)
        c.ref.acts = RecurrentReference.activations((0..<c.D).flatMap { _ in RecurrentReference.defaultNames(op) }, alphas: [], betas: [])
        c.ref.clip = nil
        if op == .GRU { c.h0 = .input } else { c.c0 = .input }
        let r = try analyze(c.spec(), output: "Y")
        let row = try #require(r.nodes.first { $0.op == op.rawValue })
        #expect(row.status == .unbounded)
        #expect(row.reason?.contains("\(which.split(separator: " ")[1]) '\(op == .GRU ? "h0" : "c0")' depends on the input and has no proven range") == true,
                "\(row.reason ?? "")")
    }

    // MARK: Long sequences, overflow

    /// T > 512 takes the O(T) Schur/row path: still ≥ the FD Jacobian norm.
    @Test func longSequenceSchurPathIsSound() throws {
        var rng = SeededRandom(seed: 12)
        let ref = RecurrentReference(op: .RNN, direction: "bidirectional", hidden: 2, inputSize: 1,
                                     W: (0..<4).map { _ in Double(Float(rng.gaussian() * 0.5)) }, R: (0..<8).map { _ in Double(Float(rng.gaussian() * 0.4)) },
                                     B: (0..<8).map { _ in Double(Float(rng.gaussian() * 0.3)) }, P: nil,
                                     acts: [.init(name: "Tanh"), .init(name: "Relu")], clip: nil, inputForget: false, linearBeforeReset: false, layout: 0)
        let c = RecurrentCase(ref: ref, steps: 600, batch: 1)
        let r = try analyze(c.spec(), output: "Y")
        #expect(r.nodes.first { $0.op == "RNN" }?.reason?.contains("Schur") == true)
        let ratio = try Self.check(c, points: 3, secants: 3, seed: 13)
        #expect(ratio >= 1 - Self.tolerance)
    }

    @Test func hugeBoundsOverflowToUnboundedWithTheirMagnitude() throws {
        var rng = SeededRandom(seed: 14)
        let H = 4, n = 3
        let ref = RecurrentReference(op: .LSTM, direction: "forward", hidden: H, inputSize: n,
                                     W: (0..<(16 * n)).map { _ in Double(Float(rng.gaussian() * 3)) }, R: (0..<(16 * H)).map { _ in Double(Float(rng.gaussian() * 3)) },
                                     B: nil, P: nil, acts: RecurrentReference.activations(["Sigmoid", "Tanh", "Tanh"], alphas: [], betas: []),
                                     clip: nil, inputForget: false, linearBeforeReset: false, layout: 0)
        let r = try analyze(RecurrentCase(ref: ref, steps: 400, batch: 1).spec(), output: "Y_h")
        let row = try #require(r.nodes.first { $0.op == "LSTM" })
        #expect(row.status == .ok)
        #expect(r.network.eq7.operator == .infinity)
        #expect(row.reason?.contains("above Double's range") == true, "\(row.reason ?? "")")
        #expect(r.findings.contains { $0.message.contains("overflows Double") })
    }

    // MARK: The sequence assembly itself

    /// Random non-negative 2 × 2 systems (LSTM-shaped) over T steps.
    static func randomSystems(_ T: Int, directions: Int, seed: UInt64, scale: Double = 1) -> [ComparisonSystem] {
        var rng = SeededRandom(seed: seed)
        return (0..<directions).map { _ in
            ComparisonSystem(m: 2, a: (0..<T).map { _ in (0..<4).map { _ in rng.uniform() * scale } },
                             beta: (0..<T).map { _ in (0..<2).map { _ in rng.uniform() } }, kappa: 0)
        }
    }

    /// The power-of-2 scaled path equals a plain float64 computation of ‖M‖₂ (no overflow here),
    /// and the O(T) path (Schur test, row sums) is ≥ the exact one and within its 2× (§7.4).
    @Test(arguments: [1, 2])
    func scaledAssemblyMatchesPlainDoubleAndSweepsDominate(directions: Int) throws {
        let T = 40
        let sys = Self.randomSystems(T, directions: directions, seed: 90 + UInt64(directions), scale: 0.6)
        let exact = RecurrentSequence.gains(sys, lengths: .full)
        // Plain: M[t][j] = e_hᵀ A_t⋯A_{j+1} β_j, stacked (the second direction reversed in time).
        var dense: [Double] = []
        var lastRows: [[Double]] = []
        for (d, s) in sys.enumerated() {
            var M = [[Double]](repeating: [Double](repeating: 0, count: T), count: T)
            for j in 0..<T {
                var v = s.beta[j]
                for t in j..<T {
                    if t > j { v = [s.a[t][0] * v[0] + s.a[t][1] * v[1], s.a[t][2] * v[0] + s.a[t][3] * v[1]] }
                    M[t][j] = v[0]
                }
            }
            for t in 0..<T { dense += (0..<T).map { d == 0 ? M[t][$0] : M[T - 1 - t][T - 1 - $0] } }
            lastRows.append(d == 0 ? M[T - 1] : M[T - 1].reversed())
        }
        let plain = try #require(try SpectralNorm.singularValues(dense, rows: directions * T, cols: T).first)
        let plainRow = try #require(try SpectralNorm.singularValues(lastRows.flatMap { $0 }, rows: directions, cols: T).first)
        #expect(relClose(exact.x[0].double, plain, 1e-9), "\(exact.x[0].double) vs \(plain)")
        #expect(relClose(exact.x[1].double, plainRow, 1e-9), "\(exact.x[1].double) vs \(plainRow)")
        var sweeps = RecurrentGains()
        RecurrentSequence.sweeps(sys, lengths: .full, rows: [T], into: &sweeps)
        #expect(sweeps.x[0].double >= plain && sweeps.x[0].double <= 2 * plain * Double(directions), "Schur \(sweeps.x[0].double) vs \(plain)")
        #expect(relClose(sweeps.x[1].double, plainRow, 1e-9))
        // Unknown lengths can only raise the bound.
        let unknown = RecurrentSequence.gains(sys, lengths: .unknown)
        for k in 0..<3 { #expect(unknown.x[k] >= exact.x[k] || relClose(unknown.x[k].double, exact.x[k].double, 1e-12)) }
    }

    /// Growth far beyond Double's range stays finite in scaled form and its log10 is right:
    /// a scalar system a = 4, β = 1 has row T = (4^{T−1}, …, 1), ‖row‖ ≈ 4^{T−1}·√(16/15).
    @Test func scaledArithmeticCarriesAstronomicalBounds() {
        let T = 700
        let s = ComparisonSystem(m: 1, a: Array(repeating: [4], count: T), beta: Array(repeating: [1], count: T), kappa: 0)
        let g = RecurrentSequence.gains([s], lengths: .full)
        let want = Double(T - 1) * log10(4.0) + 0.5 * log10(16.0 / 15.0)
        #expect(abs(g.x[1].log10 - want) < 1e-9, "\(g.x[1].log10) vs \(want)")
        #expect(g.x[1].double == .infinity)
        #expect(g.x[0] >= g.x[1])
    }

    // MARK: A composed network

    /// Conv1d → Relu → Transpose → LSTM (bidirectional) → Y_h → Reshape → Gemm: the whole-network
    /// bound dominates the FD Jacobian norm of an independent float64 forward pass.
    @Test func convLstmGemmNetworkBoundDominatesJacobian() throws {
        var b = NetworkBuilder(seed: 41)
        let (C, L, K, Cout, H) = (2, 9, 3, 4, 5)
        var t = b.input("x", shape: [1, C, L])
        t = b.conv(t, outChannels: Cout, kernel: [K])
        t = b.relu(t)
        let T = L - K + 1
        t = b.node("Transpose", [t], shape: [T, 1, Cout], attributes: [("perm", .ints([2, 0, 1]))])
        var rng = SeededRandom(seed: 42)
        let W = b.constant("lstm_W", dims: [2, 4 * H, Cout], values: rng.gaussians(2 * 4 * H * Cout, scale: 1.2 / Double(Cout).squareRoot()))
        let R = b.constant("lstm_R", dims: [2, 4 * H, H], values: rng.gaussians(2 * 4 * H * H, scale: 1.2 / Double(H).squareRoot()))
        let B = b.constant("lstm_B", dims: [2, 8 * H], values: rng.gaussians(2 * 8 * H, scale: 0.3))
        let lstm = b.node("LSTM", [t, W, R, B], shape: nil, attributes: [("hidden_size", .int(H)), ("direction", .string("bidirectional"))], outputs: 3)
        b.graph.initializers.append(.int64("flat", dims: [2], values: [1, Int64(2 * H)]))
        t = b.node("Reshape", ["\(lstm)_out1", "flat"], shape: [1, 2 * H])
        b.shapes[t] = [1, 2 * H]
        t = b.gemm(t, outFeatures: 3)
        b.output(t)
        let g = try loadGraph(b.model())
        let r = try SensitivityAnalysis.run(g, options: AnalysisOptions(norm: .operator, spectral: .init(exact: true), threads: 1))
        #expect(r.findings.isEmpty, "\(r.findings.map(\.message))")
        let bound = r.network.eq7.operator
        #expect(bound.isFinite && bound > 0)
        #expect(r.network.roundingPoints == 3)  // the inputs of Conv, LSTM, Gemm
        // Independent forward pass from the graph's constants.
        let nodes = g.graph.nodes
        let conv = try #require(nodes.first { $0.opType == "Conv" }), gemm = try #require(nodes.first { $0.opType == "Gemm" })
        let cw = try #require(g.constants[conv.inputs[1]]).doubles(), cb = try #require(g.constants[conv.inputs[2]]).doubles()
        let gw = try #require(g.constants[gemm.inputs[1]]).doubles(), gb = try #require(g.constants[gemm.inputs[2]]).doubles()
        let cell = try RecurrentReference(node: try #require(nodes.first { $0.opType == "LSTM" }), constants: g.constants)
        func forward(_ x: [Double]) -> [[Double]] {
            var seq = [Double](repeating: 0, count: T * Cout)  // [T, 1, Cout]
            for o in 0..<Cout {
                for p in 0..<T {
                    var s = cb[o]
                    for c in 0..<C { for k in 0..<K { s += cw[(o * C + c) * K + k] * x[c * L + p + k] } }
                    seq[p * Cout + o] = max(0, s)
                }
            }
            let yh = cell.run(x: seq, steps: T, batch: 1).yh  // [2, 1, H] → [1, 2H]
            var y = [Double](repeating: 0, count: 3)
            for j in 0..<3 {
                y[j] = gb[j]
                for i in 0..<(2 * H) { y[j] += gw[j * 2 * H + i] * yh[i] }
            }
            return [y]
        }
        var worst = 0.0
        var prng = SeededRandom(seed: 43)
        for _ in 0..<100 {
            let x = (0..<(C * L)).map { _ in prng.gaussian() * [0.1, 1, 3][Int(prng.next() % 3)] }
            let J = FD.jacobians(forward, at: x)[0]
            worst = max(worst, try SpectralNorm.singularValues(J, rows: 3, cols: C * L).first ?? 0)
        }
        #expect(worst > 0)
        #expect(bound >= worst * (1 - Self.tolerance), "bound \(bound) < ‖J‖ \(worst)")
        print("recurrent composed Conv→LSTM→Gemm: bound \(bound), max ‖J‖ \(worst), ratio \(bound / worst)")
    }

    // MARK: The reference models

    @Test func referenceModelsGetTheirRecurrentRules() throws {
        for (name, status, text) in [("lstm_forward", NodeStatus.ok, "LSTM forward T = 4, hidden 5: L_Y = ‖M‖₂"),
                                     ("lstm_sequence_lens_bidirectional", .unbounded, "initial_c 'initial_c' depends on the input"),
                                     ("gru_sequence_lens_bidirectional", .ok, "sequence_lens at run time"),
                                     ("rnn_bidirectional_initial_h", .ok, "Thm R"),
                                     ("family_gru_kws_state_input", .unbounded, "initial_h 'h0' depends on the input")] {
            let g = try ModelGraph(model: try ModelLoader.load(path: Self.opCases.appendingPathComponent("\(name)/model.onnx").path))
            let r = try SensitivityAnalysis.run(g, options: AnalysisOptions(threads: 1))
            let row = try #require(r.nodes.first { ["LSTM", "GRU", "RNN"].contains($0.op) })
            #expect(row.status == status, "\(name): \(row.reason ?? "")")
            #expect(row.reason?.contains(text) == true, "\(name): \(row.reason ?? "")")
        }
    }
}
