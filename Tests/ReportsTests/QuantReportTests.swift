import Foundation
import KappaTestSupport
import ONNX
import Reference
import Reports
import Sensitivity
import Testing

/// The quant and diff reports validate against schemas/report.schema.json; SARIF of a failed
/// quantization gate validates against the official SARIF 2.1.0 schema and carries KAPPA007.
struct QuantReportTests {
    @Test func quantJSONValidates() throws {
        let g = try graph(SmallModels.tinyCNN(), "tiny.onnx")
        let domain = try InputDomain.declared([try DomainSpec.parse("x=0,1").get()], graph: g).get()
        let r = try QuantRun.analyse(g, settings: QuantSettings(weights: .int(bits: 8, granularity: .channel), activations: .int(signed: false)),
                                     domain: domain, threads: 1)
        let feeds = try QuantRun.syntheticFeeds(g, count: 4, seed: 1, domain: domain)
        let m = try QuantMeasurement.measure(g, targets: r.targets, output: r.output, feeds: feeds)
        let plan = try QuantRun.plan(g, analysis: r, measured: m, feeds: feeds, maxError: 1e-9, domain: domain)
        // Only float32 everywhere meets 1e-9: the fake-quantized graph with every layer excluded is the float model exactly.
        #expect(plan.met && plan.excluded.count == 3 && plan.final.maxError == 0 && plan.steps.count == 4)
        let gate = QuantGate.evaluate(bound: r.bound, measured: nil, maxError: 1e-9, scheme: "int8-channel/uint8")
        #expect(!gate.passed && gate.finding?.rule == .quantErrorOverBudget)
        let shape = try Validation.inputShape(of: g)
        let kappa = try QuantMeasurement.kappa(g, targets: r.targets, output: r.output, perturb: nil,
                                               inputs: InputSet.synthetic(count: 3, range: 0...1, seed: 1, shape: shape),
                                               options: ValidationOptions(seed: 1, domain: domain))
        #expect(kappa.quantized.inputs == 3 && kappa.float.inputs == 3)
        let report = QuantReport(graph: g, result: r, domain: domain, measured: m, plan: plan, gate: gate, kappa: kappa)
        let v = try schema("schemas/report.schema.json")
        #expect(v.validate(try JSON.parse(try report.render(.json))) == [])
        let noDomain = try QuantRun.analyse(g, settings: QuantSettings(weights: .float(.fp16), activations: .float32), domain: nil, threads: 1)
        #expect(noDomain.bound == nil)
        #expect(v.validate(try JSON.parse(try QuantReport(graph: g, result: noDomain, domain: nil).render(.json))) == [])
        let sarif = try JSON.parse(try report.render(.sarif))
        #expect(try schema("Tests/ReportsTests/Fixtures/sarif-schema-2.1.0.json").validate(sarif) == [])
        #expect(try report.render(.sarif).contains("KAPPA007"))
        for f in [OutputFormat.text, .markdown, .csv, .github] { #expect(!(try report.render(f)).isEmpty) }
    }

    @Test func diffJSONValidates() throws {
        let a = try graph(SmallModels.mlp(seed: 3), "a.onnx"), b = try graph(SmallModels.mlp(seed: 4), "b.onnx")
        let r = try ModelDiff.run(float: a, export: b, threads: 1)
        #expect(r.pairs.count == 3 && r.pairs.allSatisfy { $0.deltaFrobenius > 0 })
        let feeds = try QuantRun.syntheticFeeds(a, count: 3, seed: 1, domain: nil)
        let d = try DiffDivergence.run(float: a, export: b, feeds: feeds)
        #expect(d.stats.maxError > 0 && !d.activations.isEmpty)
        let report = DiffReport(float: a, export: b, result: r, maxDivergence: 0.1, divergence: d)
        #expect(!report.passed)
        #expect(try schema("schemas/report.schema.json").validate(try JSON.parse(try report.render(.json))) == [])
        for f in [OutputFormat.text, .markdown, .csv, .html] { #expect(!(try report.render(f)).isEmpty) }
    }
}
