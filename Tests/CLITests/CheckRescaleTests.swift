import Foundation
import Testing

/// `kappa check --rescale`: the gate reads the tightest sound Eq. 7 (plain, folded or rescaled)
/// that `kappa analyze` reports for the same model; without the flag it reads the plain bound.
struct CheckRescaleTests {
    static func json(_ s: String) throws -> [String: Any] { try QuantCLITests.json(s) }

    @Test func rescaledGateUsesAnalyzesTightestBound() throws {
        let dir = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let m = CLITests.packageRoot.appendingPathComponent("samples/digits_cnn/model.onnx").path
        let (ac, aout, aerr) = try CLITests.run(["analyze", m, "--norm", "operator", "--rescale", "--format", "json"], in: dir)
        #expect(ac == 0, "\(aerr)")
        let network = try #require(try Self.json(aout)["network"] as? [String: Any])
        let plain = try #require(((network["eq7"] as? [String: Any])?["operator"] as? NSNumber)?.doubleValue)
        let tightening = try #require(network["tightening"] as? [String: Any])
        let rescaled = try #require((((tightening["rescaled"] as? [String: Any])?["eq7"] as? [String: Any])?["operator"] as? NSNumber)?.doubleValue)
        #expect(rescaled < plain)
        // A budget between the two: the plain gate fails, the rescaled one passes.
        let bits = Int((log2(rescaled)).rounded(.up)) + 1
        #expect(Int((log2(plain)).rounded(.up)) + 1 > bits, "the sample's rescaling should gain a bit (plain \(plain), rescaled \(rescaled))")
        let (pc, pout, _) = try CLITests.run(["check", m, "--max-bits", "\(bits)", "--format", "json"], in: dir)
        #expect(pc == 1)
        let plainReport = try Self.json(pout)
        #expect(plainReport["rescaled"] as? Bool == false)
        let (rc, rout, rerr) = try CLITests.run(["check", m, "--max-bits", "\(bits)", "--rescale", "--format", "json"], in: dir)
        #expect(rc == 0, "\(rerr)")
        let report = try Self.json(rout)
        #expect(report["rescaled"] as? Bool == true)
        let entry = try #require((report["models"] as? [[String: Any]])?.first)
        let kappa = try #require(((entry["precision"] as? [String: Any])?["kappa"] as? NSNumber)?.doubleValue)
        #expect(abs(kappa - rescaled) <= 1e-12 * rescaled, "check gated on \(kappa), analyze's rescaled bound is \(rescaled)")
        // Not with a domain or a measurement: one line naming the clash, exit 2.
        for extra in [["--input-range", "input=0,1"], ["--synthetic", "2"], ["--bound", "eq8"]] {
            let (c, _, e) = try CLITests.run(["check", m, "--max-bits", "9", "--rescale"] + extra, in: dir)
            #expect(c == 2 && e.contains(extra[0]), "\(extra): \(e)")
        }
    }
}
