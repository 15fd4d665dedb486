import Foundation
import KappaTestSupport
import Testing

/// End-to-end tests of the built `kappa` binary: stdout, stderr and exit code of each case
/// are compared with `Snapshots/<case>.txt`; `KAPPA_RECORD=1 swift test` re-records them.
/// Models are written into a temporary folder that is the working directory, so reports
/// hold relative paths only.
struct CLITests {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let snapshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")

    /// The kappa executable next to the test products (`swift build` / `swift test` build it).
    static func binary() throws -> URL {
        let candidates = [packageRoot.appendingPathComponent(".build/debug/kappa")]
            + ((try? FileManager.default.contentsOfDirectory(atPath: packageRoot.appendingPathComponent(".build").path)) ?? [])
                .map { packageRoot.appendingPathComponent(".build/\($0)/debug/kappa") }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw CLIError("kappa binary not found under .build; run `swift build` first")
        }
        return found
    }

    struct CLIError: Error, CustomStringConvertible { var description: String; init(_ s: String) { description = s } }

    /// A fresh folder with the test models.
    static func workspace() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kappa-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try ONNXWriter.write(SmallModels.tinyCNN(), to: dir.appendingPathComponent("tiny.onnx").path)
        try ONNXWriter.write(SmallModels.mlp(), to: dir.appendingPathComponent("mlp.onnx").path)
        try ONNXWriter.write(SmallModels.withUnsupported(), to: dir.appendingPathComponent("unsupported.onnx").path)
        try ONNXWriter.write(SmallModels.withNaN(), to: dir.appendingPathComponent("nan.onnx").path)
        try Data("this is not a protobuf".utf8).write(to: dir.appendingPathComponent("broken.onnx"))
        return dir
    }

    /// Runs kappa in `dir`; `environment` entries are added to (a nil value removes) the inherited ones.
    static func run(_ args: [String], in dir: URL, environment: [String: String?] = [:]) throws -> (Int32, String, String) {
        let p = Process()
        p.executableURL = try binary()
        p.arguments = args
        p.currentDirectoryURL = dir
        var env = ProcessInfo.processInfo.environment
        env["NO_COLOR"] = "1"
        for (k, v) in environment { env[k] = v }
        p.environment = env
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
    }

    static let cases: [(String, [String], Int32)] = [
        ("analyze-text", ["analyze", "tiny.onnx"], 0),
        ("analyze-operator-json", ["analyze", "tiny.onnx", "--norm", "operator", "--format", "json"], 0),
        ("analyze-markdown", ["analyze", "mlp.onnx", "--format", "markdown"], 0),
        ("analyze-csv", ["analyze", "tiny.onnx", "--format", "csv"], 0),
        ("analyze-sarif", ["analyze", "unsupported.onnx", "--format", "sarif"], 0),
        ("analyze-github", ["analyze", "unsupported.onnx", "--format", "github"], 0),
        ("analyze-unsupported-text", ["analyze", "unsupported.onnx"], 0),
        ("analyze-output-tensor", ["analyze", "tiny.onnx", "--output", "conv_3", "--exact"], 0),
        ("analyze-unknown-output", ["analyze", "tiny.onnx", "--output", "nope"], 2),
        ("analyze-broken-model", ["analyze", "broken.onnx"], 2),
        ("analyze-missing-model", ["analyze", "missing.onnx"], 2),
        ("check-pass", ["check", "tiny.onnx", "mlp.onnx", "--max-bits", "16"], 0),
        ("check-over-budget", ["check", "tiny.onnx", "--max-bits", "4"], 1),
        ("check-exit-zero", ["check", "tiny.onnx", "--max-bits", "4", "--exit-zero"], 0),
        ("check-eq8-matrix-json", ["check", "mlp.onnx", "--max-bits", "4", "--bound", "eq8", "--norm", "matrix", "--format", "json"], 1),
        ("check-unsupported-sarif", ["check", "unsupported.onnx", "--max-bits", "30", "--format", "sarif"], 1),
        ("check-nan-github", ["check", "nan.onnx", "--max-bits", "8", "--format", "github"], 1),
        ("check-bad-model-among-several", ["check", "tiny.onnx", "broken.onnx", "--max-bits", "16", "--format", "csv"], 2),
        ("check-markdown", ["check", "tiny.onnx", "unsupported.onnx", "--max-bits", "8", "--format", "markdown"], 1),
        ("check-missing-max-bits", ["check", "tiny.onnx"], 2),
        ("check-bad-norm", ["check", "tiny.onnx", "--max-bits", "8", "--norm", "spectral"], 2),
        ("analyze-bad-operator-tolerance", ["analyze", "tiny.onnx", "--operator-tolerance", "0"], 2),
        ("inspect-text", ["inspect", "tiny.onnx"], 0),
        ("inspect-json", ["inspect", "mlp.onnx", "--format", "json"], 0),
        ("inspect-csv", ["inspect", "tiny.onnx", "--format", "csv"], 0),
        ("inspect-markdown", ["inspect", "unsupported.onnx", "--format", "markdown"], 0),
        ("inspect-nan-sarif", ["inspect", "nan.onnx", "--format", "sarif"], 0),
        ("inspect-broken-model", ["inspect", "broken.onnx"], 2),
        ("inspect-bad-input-shape", ["inspect", "tiny.onnx", "--input-shape", "x=1x0"], 2),
        ("inspect-unknown-input-shape", ["inspect", "tiny.onnx", "--input-shape", "nope=1x2"], 2),
        ("validate-synthetic-text", ["validate", "tiny.onnx", "--synthetic", "3", "--seed", "4", "--quiet"], 0),
        ("validate-synthetic-json", ["validate", "tiny.onnx", "--synthetic", "2", "--format", "json", "--no-bound", "--quiet"], 0),
        ("validate-no-inputs", ["validate", "mlp.onnx"], 2),
        ("validate-missing-inputs", ["validate", "mlp.onnx", "--inputs", "nowhere"], 2),
        ("check-measured-pass", ["check", "tiny.onnx", "--max-bits", "16", "--synthetic", "3", "--quiet"], 0),
        ("check-measured-over-budget-json", ["check", "tiny.onnx", "--max-bits", "1", "--synthetic", "3", "--format", "json", "--quiet"], 1),
        ("validate-quiet-and-progress", ["validate", "tiny.onnx", "--synthetic", "1", "--quiet", "--progress"], 2),
        ("check-measured-with-static-bound", ["check", "mlp.onnx", "--max-bits", "8", "--synthetic", "3", "--bound", "eq8"], 2),
    ]

    @Test(arguments: cases.indices)
    func snapshot(_ i: Int) throws {
        let (name, args, expected) = Self.cases[i]
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (code, out, err) = try Self.run(args, in: dir)
        #expect(code == expected, "kappa \(args.joined(separator: " ")): exit \(code)\n\(err)")
        let actual = "$ kappa \(args.joined(separator: " "))\nexit: \(code)\n--- stdout\n\(out)--- stderr\n\(err)"
        let file = Self.snapshots.appendingPathComponent("\(name).txt")
        if ProcessInfo.processInfo.environment["KAPPA_RECORD"] == "1" {
            try FileManager.default.createDirectory(at: Self.snapshots, withIntermediateDirectories: true)
            try Data(actual.utf8).write(to: file)
            return
        }
        let expectedText = try String(contentsOf: file, encoding: .utf8)
        #expect(Self.sameUpToRounding(actual, expectedText), "snapshot \(name) differs; re-record with KAPPA_RECORD=1")
    }

    /// Snapshot equality with numbers compared to a relative 1e-5: the text between numbers must
    /// match exactly, every number within 1e-5. BLAS kernels differ in the last bits between
    /// CPUs, so full-precision JSON and CSV values differ in their last digits (float64 norms) or
    /// from about the 6th digit (the float32 reference engine's κ, a ratio of differences of
    /// forward passes: 2.5e-6 between OpenBLAS's Prescott and SkylakeX kernels on tiny.onnx).
    static func sameUpToRounding(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        let (ta, na) = split(a), (tb, nb) = split(b)
        guard ta == tb, na.count == nb.count else { return false }
        return zip(na, nb).allSatisfy { x, y in x == y || abs(x - y) <= 1e-5 * max(abs(x), abs(y)) }
    }

    /// The text with every decimal number replaced by "#", and the numbers in order.
    static func split(_ s: String) -> (String, [Double]) {
        var text = "", numbers: [Double] = [], current = ""
        func flush() {
            guard !current.isEmpty else { return }
            if let v = Double(current), current.contains(where: { $0.isNumber }) { numbers.append(v); text += "#" } else { text += current }
            current = ""
        }
        for ch in s {
            if ch.isASCII && (ch.isNumber || ch == "." || ch == "e" || ch == "E" || ((ch == "-" || ch == "+") && (current.isEmpty || current.last == "e" || current.last == "E"))) {
                if ch == "e" || ch == "E", current.isEmpty { text.append(ch); continue }
                current.append(ch)
            } else {
                flush()
                text.append(ch)
            }
        }
        flush()
        return (text, numbers)
    }

    @Test func reportFileOptionWritesTheFileAndNothingOnStdout() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (code, out, _) = try Self.run(["analyze", "mlp.onnx", "--format", "json", "-o", "report.json"], in: dir)
        #expect(code == 0)
        #expect(out.isEmpty)
        let text = try String(contentsOf: dir.appendingPathComponent("report.json"), encoding: .utf8)
        #expect(text.contains("\"schema_version\" : 1"))
    }

    @Test func progressGoesToStderrOnRequest() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (code, _, err) = try Self.run(["analyze", "mlp.onnx", "--progress", "--threads", "1"], in: dir)
        #expect(code == 0)
        #expect(err.contains("layer 3/3"))
    }

    @Test func htmlReportFile() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (code, out, err) = try Self.run(["analyze", "mlp.onnx", "--format", "html", "-o", "report.html"], in: dir)
        #expect(code == 0 && out.isEmpty && err.isEmpty, "\(err)")
        let text = try String(contentsOf: dir.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(text.hasPrefix("<!DOCTYPE html>") && text.contains("<h1>Kappa analyze: mlp.onnx</h1>") && text.hasSuffix("</html>\n"))
        let (rcode, _, rerr) = try Self.run(["run", "mlp.onnx", "--inputs", ".", "--format", "html"], in: dir)
        #expect(rcode == 2 && rerr.contains("html"), "\(rerr)")
    }

    /// Progress never reaches stdout: with --progress (every step, plain lines since stderr
    /// is a pipe here) stdout is byte-identical to the --quiet run's; --quiet prints no
    /// progress; a quick run without either prints none either (lines come every 10 s).
    @Test func validateProgressLinesOnStderrOnly() throws {
        let dir = try Self.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let args = ["validate", "tiny.onnx", "--synthetic", "3", "--seed", "4"]
        let (c1, out1, err1) = try Self.run(args + ["--progress"], in: dir)
        let (c2, out2, err2) = try Self.run(args + ["--quiet"], in: dir)
        let (c3, out3, err3) = try Self.run(args, in: dir)
        #expect(c1 == 0 && c2 == 0 && c3 == 0)
        #expect(out1 == out2 && out2 == out3)
        #expect(!out1.contains("kappa: input"))
        for i in 1...3 { #expect(err1.contains("kappa: input \(i)/3 ("), "\(err1)") }
        #expect(err1.contains("kappa: input 1/3 (33%) synthetic #0: κ max "))
        #expect(err1.contains("kappa: 3 inputs in 0:"))
        #expect(err1.contains("kappa: layer "))  // the static bound's norms
        #expect(!err1.contains("\u{1B}") && !err1.contains("\r"))
        #expect(!err2.contains("kappa: input") && !err2.contains("kappa: layer"))
        #expect(!err3.contains("kappa: input") && !err3.contains("kappa: layer"), "\(err3)")
    }
}
