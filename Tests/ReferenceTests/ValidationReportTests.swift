import Foundation
import ONNX
import Reports
import Sensitivity
import Testing
@testable import Reference

/// The validate report: JSON keys of DESIGN.md §3.1, shard merge, the gate, the SVG plot.
struct ValidationReportTests {
    static func report(shard: Shard = .all, seed: UInt64 = 8, bound: Double? = 5) throws -> ValidationReport {
        let (graph, _, _) = try DeepFoolTests.linear(n: 4, classes: 5, seed: 12, softmax: true)
        let inputs = InputSet.synthetic(count: 5, range: 0...1, seed: 3, shape: [1, 4])
        let r = try Validation.run(graph: graph, inputs: inputs, options: ValidationOptions(seed: seed, shard: shard, bound: bound), inputsDescription: "synthetic 5")
        return ValidationReport(result: r, model: graph.model)
    }

    @Test func jsonHasTheContractKeys() throws {
        let json = try Self.report().render(.json)
        let obj = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        for k in ["schema_version", "tool", "model", "findings", "inputs", "summary"] { #expect(obj[k] != nil, "missing \(k)") }
        let row = try #require((obj["inputs"] as? [[String: Any]])?.first)
        for k in ["source", "label", "adversarial_label", "flipped", "steps", "rel_perturbation", "kappa_final", "kappa_max", "kappa_random"] {
            #expect(row[k] != nil, "missing inputs[].\(k)")
        }
        let summary = try #require(obj["summary"] as? [String: Any])
        for k in ["deepfool", "random", "observed_gain_max", "bound", "tightness"] { #expect(summary[k] != nil, "missing summary.\(k)") }
        let max = try #require((summary["deepfool"] as? [String: Any])?["max"] as? [String: Any])
        #expect(Set(max.keys) == ["kappa", "digits", "bits"])
    }

    @Test func mergingShardsEqualsOneRun() throws {
        let whole = try Self.report()
        let parts = try (0..<3).map { ("s\($0).json", try Self.report(shard: Shard(index: $0, count: 3))) }
        // Round-trip through JSON as `kappa merge` does.
        let decoded = try parts.map { ($0.0, try JSONDecoder().decode(ValidationReport.self, from: Data($0.1.render(.json).utf8))) }
        let merged = try ValidationReport.merge(decoded.reversed())
        #expect(merged.inputs == whole.inputs)
        #expect(merged.summary == whole.summary)
        #expect(merged.shards.count == 3)
        // A missing shard is merged with a warning.
        let partial = try ValidationReport.merge(Array(decoded.prefix(2)))
        #expect(partial.findings.contains { $0.message.contains("merged 2 of 3 shards") })
    }

    @Test func mergeRefusesDifferentSettingsOrDuplicates() throws {
        let a = try Self.report(shard: Shard(index: 0, count: 2))
        let b = try Self.report(shard: Shard(index: 1, count: 2), seed: 9)
        #expect(throws: ValidationReport.MergeError.self) { try ValidationReport.merge([("a", a), ("b", b)]) }
        #expect(throws: ValidationReport.MergeError.self) { try ValidationReport.merge([("a", a), ("a2", a)]) }
        var other = try Self.report(shard: Shard(index: 1, count: 2))
        other.model.path = "other.onnx"
        do {
            _ = try ValidationReport.merge([("a.json", a), ("b.json", other)])
            Issue.record("different models merged")
        } catch {
            #expect(error.localizedDescription.contains("b.json") && error.localizedDescription.contains("other.onnx"))
        }
    }

    @Test func gateComparesBitsOfMaximumKappa() throws {
        let r = try Self.report()
        let kmax = try #require([r.summary.deepfool.max, r.summary.random.max].compactMap { $0 }.max { $0.kappa < $1.kappa })
        let bits = try #require(kmax.bits)
        let pass = Gate.evaluate(r.measurementSummary, output: "logits", maxBits: bits)
        #expect(pass.passed && pass.finding == nil && pass.precision.bits == bits)
        let fail = Gate.evaluate(r.measurementSummary, output: "logits", maxBits: bits - 1)
        #expect(!fail.passed)
        #expect(fail.finding?.rule == .precisionOverBudget)
        var empty = r
        empty.inputs = []
        empty.summary = try Self.report(bound: nil).summary
        empty.summary.deepfool.max = nil
        empty.summary.random.max = nil
        #expect(!Gate.evaluate(empty.measurementSummary, output: "logits", maxBits: 30).passed)
    }

    @Test func textAndPlotRender() throws {
        let r = try Self.report()
        let text = try r.render(.text)
        #expect(text.contains("Table I") && text.contains("DeepFool") && text.contains("tightness"))
        let svg = ValidationPlot.svg(r)
        #expect(svg.hasPrefix("<?xml") && svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<circle").count - 1 == r.inputs.count + 1)  // points + legend
        let csv = try r.render(.csv)
        #expect(csv.split(separator: "\n").count == r.inputs.count + 1)
    }
}
