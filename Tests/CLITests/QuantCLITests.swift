import Foundation
import KappaTestSupport
import Testing

/// `kappa quant` and the quantization gate of `kappa check` end to end: exit codes 0/1/2, the
/// JSON keys, KAPPA007 in SARIF/GitHub, the plan sidecar read back with --overrides, and the
/// static prediction ≥ the measured error in every row.
struct QuantCLITests {
    static func json(_ s: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any])
    }

    @Test func quantJSONPredictionBoundsMeasurement() throws {
        let dir = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (code, out, err) = try CLITests.run(["quant", "tiny.onnx", "--weights", "int8-channel", "--activations", "uint8",
                                                  "--input-range", "x=0,1", "--synthetic", "20", "--format", "json"], in: dir)
        #expect(code == 0, "\(err)")
        let d = try Self.json(out)
        for k in ["schema_version", "tool", "model", "findings", "layers", "network", "weights", "activations"] { #expect(d[k] != nil, "missing \(k)") }
        let layers = try #require(d["layers"] as? [[String: Any]])
        #expect(layers.count == 3)
        for l in layers {
            let predicted = try #require((l["predicted"] as? NSNumber)?.doubleValue)
            let measured = try #require(((l["measured"] as? [String: Any])?["max_error"] as? NSNumber)?.doubleValue)
            #expect(measured > 0 && predicted >= measured, "\(l["node"] ?? "")")
            #expect(((l["sqnr_db"] as? NSNumber)?.doubleValue ?? 0) > 20)
        }
        let net = try #require(d["network"] as? [String: Any])
        let bound = try #require((net["bound"] as? NSNumber)?.doubleValue)
        let measured = try #require(((net["measured"] as? [String: Any])?["max_error"] as? NSNumber)?.doubleValue)
        #expect(bound >= measured && ((net["ratio"] as? NSNumber)?.doubleValue ?? 0) >= 1)
        #expect((net["forward_passes"] as? NSNumber)?.intValue == 20 * (3 + 2))
    }

    @Test func planSidecarReadsBack() throws {
        let dir = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (code, out, err) = try CLITests.run(["quant", "tiny.onnx", "--weights", "int4", "--activations", "uint8", "--input-range", "x=0,1",
                                                  "--synthetic", "10", "--max-error", "0.05", "--plan-out", "plan.json", "--format", "json"], in: dir)
        #expect(code == 0, "\(err)")
        let plan = try #require(try Self.json(out)["plan"] as? [String: Any])
        let excluded = try #require(plan["nodes_to_exclude"] as? [String])
        #expect(!excluded.isEmpty)
        let steps = try #require(plan["steps"] as? [[String: Any]])
        #expect(steps.count == excluded.count + 1)
        let last = try #require(((steps.last?["measured"] as? [String: Any])?["max_error"] as? NSNumber)?.doubleValue)
        #expect((plan["met"] as? Bool) == (last <= 0.05))
        let sidecar = try Self.json(try String(contentsOf: dir.appendingPathComponent("plan.json"), encoding: .utf8))
        let nodes = try #require(sidecar["nodes"] as? [String: [String: String]])
        for n in excluded { #expect(nodes[n] == ["weights": "fp32", "activations": "fp32"]) }
        // The sidecar as overrides reproduces the plan's final measured error.
        let (c2, o2, e2) = try CLITests.run(["quant", "tiny.onnx", "--weights", "int4", "--activations", "uint8", "--input-range", "x=0,1",
                                              "--synthetic", "10", "--overrides", "plan.json", "--format", "json"], in: dir)
        #expect(c2 == 0, "\(e2)")
        let again = try #require(((try Self.json(o2)["network"] as? [String: Any])?["measured"] as? [String: Any])?["max_error"] as? NSNumber)
        #expect(abs(again.doubleValue - last) <= 1e-12 * max(1, last))
    }

    /// Malformed --overrides files: exit 2 with one line naming the file and what is wrong (a
    /// misspelt scheme inside the sidecar form is named, not read as a node called "nodes").
    @Test func malformedOverridesAreRefused() throws {
        let dir = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        for (name, text, phrase) in [("notjson.json", "{not json", "bad per-node overrides"),
                                     ("scheme.json", #"{"nodes": {"conv": {"weights": "int9", "activations": "fp32"}}}"#, "unknown weight scheme 'int9'")] {
            try Data(text.utf8).write(to: dir.appendingPathComponent(name))
            let (code, _, err) = try CLITests.run(["quant", "tiny.onnx", "--weights", "int8", "--activations", "fp32", "--overrides", name], in: dir)
            #expect(code == 2, "\(name): \(err)")
            let errors = err.split(separator: "\n").filter { $0.contains("error:") }
            #expect(errors.count == 1 && errors[0].contains(name) && errors[0].contains(phrase), "\(name): \(err)")
        }
    }

    @Test func checkGateExitCodes() throws {
        let dir = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = ["check", "mlp.onnx", "--weights", "int8", "--activations", "int8", "--input-range", "x=-1,1"]
        let (pass, _, e1) = try CLITests.run(base + ["--max-error", "100"], in: dir)
        #expect(pass == 0, "\(e1)")
        let (fail, sarif, _) = try CLITests.run(base + ["--max-error", "1e-6", "--format", "sarif"], in: dir)
        #expect(fail == 1)
        #expect(sarif.contains("KAPPA007") && sarif.contains("QuantizationErrorOverBudget"))
        let (gh, ghOut, _) = try CLITests.run(base + ["--max-error", "1e-6", "--format", "github"], in: dir)
        #expect(gh == 1 && ghOut.hasPrefix("::error") && ghOut.contains("KAPPA007"))
        // No domain and no inputs: nothing certified, the gate fails.
        let (nodomain, _, _) = try CLITests.run(["check", "mlp.onnx", "--weights", "fp16", "--max-error", "100"], in: dir)
        #expect(nodomain == 1)
        // Measured: passes on a loose budget.
        let (measured, _, e3) = try CLITests.run(["check", "mlp.onnx", "--weights", "int8", "--max-error", "100", "--synthetic", "5"], in: dir)
        #expect(measured == 0, "\(e3)")
        for bad in [["check", "mlp.onnx", "--weights", "int9", "--max-error", "1"],
                    ["check", "mlp.onnx", "--weights", "int8"],
                    ["check", "broken.onnx", "--weights", "int8", "--max-error", "1"],
                    ["check", "mlp.onnx", "--weights", "int8", "--activations", "uint8", "--max-error", "1"]] {
            let (c, _, e) = try CLITests.run(bad, in: dir)
            #expect(c == 2, "\(bad): \(e)")
            #expect(!e.isEmpty)
        }
    }

    @Test func diffGate() throws {
        let dir = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = CLITests.packageRoot.appendingPathComponent("Tests/ReferenceTests/OpCases").path
        let f = "\(cases)/family_qcnn_float/model.onnx", q = "\(cases)/family_qcnn_qdq_static/model.onnx"
        let (same, out, e0) = try CLITests.run(["diff", f, f, "--max-divergence", "0", "--format", "json"], in: dir)
        #expect(same == 0, "\(e0)")
        let d = try Self.json(out)
        #expect((d["max_relative"] as? NSNumber)?.doubleValue == 0 && (d["layers"] as? [Any])?.count == 3)
        let (loose, _, _) = try CLITests.run(["diff", f, q, "--max-divergence", "0.01"], in: dir)
        #expect(loose == 0)
        let (tight, sarif, _) = try CLITests.run(["diff", f, q, "--max-divergence", "0.001", "--format", "sarif"], in: dir)
        #expect(tight == 1 && sarif.contains("KAPPA008"))
        let (bad, _, err) = try CLITests.run(["diff", f, "broken.onnx"], in: dir)
        #expect(bad == 2 && err.contains("broken.onnx"))
    }

    /// `--min-agreement A`: greedy until the measured top-1 agreement is at least A — every step
    /// before the last misses A, the last meets it (and is what `met` says), and the budgets
    /// are in the JSON (max_error null when not given).
    @Test func minAgreementPlan() throws {
        let dir = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let f = CLITests.packageRoot.appendingPathComponent("Tests/ReferenceTests/OpCases/family_qcnn_float/model.onnx").path
        let base = ["quant", f, "--weights", "int4", "--activations", "uint8", "--input-range", "input=0,1", "--synthetic", "40"]
        let (code, out, err) = try CLITests.run(base + ["--min-agreement", "0.9", "--format", "json"], in: dir)
        #expect(code == 0, "\(err)")
        let plan = try #require(try Self.json(out)["plan"] as? [String: Any])
        #expect((plan["min_agreement"] as? NSNumber)?.doubleValue == 0.9 && plan["max_error"] is NSNull)
        let steps = try #require(plan["steps"] as? [[String: Any]])
        let top1 = try steps.map { try #require((($0["measured"] as? [String: Any])?["top1_agreement"] as? NSNumber)?.doubleValue) }
        #expect(top1.count >= 2, "int4 on this CNN loses agreement, so the plan must exclude something: \(top1)")
        for a in top1.dropLast() { #expect(a < 0.9) }
        #expect((plan["met"] as? Bool) == true && (top1.last ?? 0) >= 0.9)
        #expect((plan["nodes_to_exclude"] as? [String])?.count == top1.count - 1)
        // Both budgets: the plan goes on until both hold.
        let (c2, out2, _) = try CLITests.run(base + ["--min-agreement", "0.5", "--max-error", "0.6", "--format", "json"], in: dir)
        #expect(c2 == 0)
        let p2 = try #require(try Self.json(out2)["plan"] as? [String: Any])
        let last = try #require((p2["steps"] as? [[String: Any]])?.last?["measured"] as? [String: Any])
        #expect(((last["max_error"] as? NSNumber)?.doubleValue ?? 1) <= 0.6 && ((last["top1_agreement"] as? NSNumber)?.doubleValue ?? 0) >= 0.5)
        for bad in [["--min-agreement", "1.5"], ["--min-agreement", "-0.1"]] {
            let (c, _, e) = try CLITests.run(base + bad, in: dir)
            #expect(c == 2 && e.contains("min-agreement"), "\(bad)")
        }
        let (nodata, _, e3) = try CLITests.run(["quant", f, "--weights", "int4", "--min-agreement", "0.9"], in: dir)
        #expect(nodata == 2 && e3.contains("--inputs"))
    }

    /// The measured κ of the quantized network on the bundled sample: reported and finite; the
    /// float side is exactly `kappa validate`'s summary on the same inputs, and with float32
    /// weights (fp32/fp32, fp32/uint8) the quantized side equals the float side.
    @Test func measuredKappaOnSample() throws {
        let dir = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sample = CLITests.packageRoot.appendingPathComponent("samples/digits_cnn").path
        let m = sample + "/model.onnx"
        func kappa(_ scheme: [String]) throws -> [String: [String: Any]] {
            let (code, out, err) = try CLITests.run(["quant", m] + scheme + ["--input-range", "input=0,1", "--inputs", sample, "--format", "json"], in: dir)
            #expect(code == 0, "\(err)")
            let net = try #require(try Self.json(out)["network"] as? [String: Any])
            return try #require(net["kappa"] as? [String: [String: Any]])
        }
        func num(_ d: [String: Any]?, _ k: String) -> Double? { (d?[k] as? NSNumber)?.doubleValue }
        let q = try kappa(["--weights", "int8-channel", "--activations", "uint8"])
        for side in ["float", "quantized"] {
            for k in ["deepfool_max", "deepfool_mean", "random_max", "random_mean"] {
                let v = try #require(num(q[side], k), "\(side).\(k)")
                #expect(v.isFinite && v > 0, "\(side).\(k) = \(v)")
            }
            #expect((q[side]?["inputs"] as? NSNumber)?.intValue == 16)
        }
        let (vc, vout, _) = try CLITests.run(["validate", m, "--inputs", sample, "--input-range", "input=0,1", "--format", "json"], in: dir)
        #expect(vc == 0)
        let summary = try #require(try Self.json(vout)["summary"] as? [String: Any])
        let df = (summary["deepfool"] as? [String: Any])?["max"] as? [String: Any]
        let rnd = (summary["random"] as? [String: Any])?["max"] as? [String: Any]
        #expect(num(q["float"], "deepfool_max") == num(df, "kappa"))
        #expect(num(q["float"], "random_max") == num(rnd, "kappa"))
        let same = try kappa(["--weights", "fp32", "--activations", "fp32"])
        for k in ["deepfool_max", "deepfool_mean", "random_max", "random_mean"] {
            #expect(num(same["quantized"], k) == num(same["float"], k), "\(k)")
        }
        // κ is measured with quantized weights and float activations (activation rounding is
        // piecewise constant: κ 0 almost everywhere), so activations alone change nothing.
        let activationsOnly = try kappa(["--weights", "fp32", "--activations", "uint8"])
        for k in ["deepfool_max", "deepfool_mean", "random_max", "random_mean"] {
            #expect(num(activationsOnly["quantized"], k) == num(activationsOnly["float"], k), "\(k)")
        }
        // int8 changes the network: some figure moves.
        #expect(["deepfool_max", "deepfool_mean", "random_max", "random_mean"].contains { num(q["quantized"], $0) != num(q["float"], $0) })
        let (nk, nout, _) = try CLITests.run(["quant", m, "--weights", "int8", "--input-range", "input=0,1", "--synthetic", "3", "--no-kappa", "--format", "json"], in: dir)
        let nnet = try Self.json(nout)["network"] as? [String: Any]
        #expect(nk == 0 && nnet?["kappa"] == nil)
    }

    /// `kappa diff --synthetic N | --inputs PATH`: output divergence and per matched activation
    /// the local and cumulative divergence; zero against itself, small and nonzero against the
    /// committed QDQ export.
    @Test func diffWithInputs() throws {
        let dir = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = CLITests.packageRoot.appendingPathComponent("Tests/ReferenceTests/OpCases").path
        let f = "\(cases)/family_qcnn_float/model.onnx", q = "\(cases)/family_qcnn_qdq_static/model.onnx"
        func divergence(_ args: [String]) throws -> [String: Any] {
            let (code, out, err) = try CLITests.run(["diff"] + args + ["--format", "json"], in: dir)
            #expect(code == 0, "\(err)")
            return try #require(try Self.json(out)["divergence"] as? [String: Any])
        }
        func num(_ d: Any?, _ k: String) -> Double? { ((d as? [String: Any])?[k] as? NSNumber)?.doubleValue }
        let same = try divergence([f, f, "--synthetic", "6"])
        #expect(num(same["measured"], "max_error") == 0 && num(same["measured"], "top1_agreement") == 1)
        for a in try #require(same["activations"] as? [[String: Any]]) {
            #expect(num(a, "local_max") == 0 && num(a, "cumulative_max") == 0)
        }
        let qd = try divergence([f, q, "--inputs", "\(cases)/family_qcnn_float"])
        let e = try #require(num(qd["measured"], "max_error"))
        #expect(e > 0.01 && e < 1 && (qd["measured"] as? [String: Any])?["inputs"] as? Int == 1)
        let acts = try #require(qd["activations"] as? [[String: Any]])
        #expect(acts.count == 7 && acts.allSatisfy { (num($0, "cumulative_max") ?? 0) > 0 })
        let (text, out, _) = try CLITests.run(["diff", f, q, "--synthetic", "4"], in: dir)
        #expect(text == 0 && out.contains("Matched activations (7)") && out.contains("top-1 agreement"))
        let (both, _, err) = try CLITests.run(["diff", f, q, "--synthetic", "4", "--inputs", "x"], in: dir)
        #expect(both == 2 && err.contains("only one"))
    }
}
