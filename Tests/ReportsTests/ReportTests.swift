import Foundation
import KappaTestSupport
import ONNX
import Reference
import Reports
import Sensitivity
import Testing

let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func schema(_ relative: String) throws -> JSONSchemaValidator {
    JSONSchemaValidator(root: try JSON.parse(String(contentsOf: repoRoot.appendingPathComponent(relative), encoding: .utf8)))
}

func graph(_ spec: ModelSpec, _ name: String) throws -> ModelGraph {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kappa-reports-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent(name).path
    try ONNXWriter.write(spec, to: path)
    return try ModelGraph(model: try ModelLoader.load(path: path))
}

func analyzeReport(_ spec: ModelSpec, _ name: String, norm: NormMode = .matrix) throws -> AnalyzeReport {
    let g = try graph(spec, name)
    return AnalyzeReport(graph: g, result: try SensitivityAnalysis.run(g, options: .init(norm: norm, threads: 1)))
}

struct ReportTests {
    static let models: [(String, ModelSpec)] = [
        ("tiny.onnx", SmallModels.tinyCNN()), ("mlp.onnx", SmallModels.mlp()),
        ("unsupported.onnx", SmallModels.withUnsupported()), ("nan.onnx", SmallModels.withNaN()),
    ]

    @Test(arguments: 0..<4)
    func analyzeJSONValidatesAgainstReportSchema(model: Int) throws {
        let (name, spec) = Self.models[model]
        let report = try analyzeReport(spec, name, norm: model == 0 ? .operator : .matrix)
        let json = try JSON.parse(try report.render(.json))
        let v = try schema("schemas/report.schema.json")
        #expect(v.validate(json) == [])
        // DESIGN.md §3.1 keys.
        for k in ["schema_version", "tool", "model", "findings", "layers", "network"] { #expect(json[k] != nil) }
        // Unbounded → null plus a finding.
        if case .null? = json["network"]?["eq7"]?["operator"] {
            if case let .array(f)? = json["findings"] { #expect(!f.isEmpty) }
        }
    }

    @Test func schemaRejectsABrokenReport() throws {
        let report = try analyzeReport(SmallModels.mlp(), "mlp.onnx")
        guard case var .object(o) = try JSON.parse(try report.render(.json)) else { Issue.record("not an object"); return }
        o["network"] = .object(["output": .string("y")])
        let errs = try schema("schemas/report.schema.json").validate(.object(o))
        #expect(!errs.isEmpty)
    }

    @Test func inspectAndCheckJSONValidate() throws {
        let g = try graph(SmallModels.tinyCNN(), "tiny.onnx")
        let v = try schema("schemas/report.schema.json")
        #expect(v.validate(try JSON.parse(try InspectReport(g).render(.json))) == [])
        let r = try SensitivityAnalysis.run(g, options: .init(threads: 1))
        let entry = CheckReport.Entry(graph: g, result: r, bound: .eq7, norm: .operator, maxBits: 2)
        let check = CheckReport(entries: [entry], failures: [.init(path: "x.onnx", error: "boom")], bound: .eq7, norm: .operator, maxBits: 2)
        #expect(!check.passed)
        #expect(check.findings.contains { $0.rule == Rule.precisionOverBudget })
        #expect(v.validate(try JSON.parse(try check.render(.json))) == [])
    }

    @Test(arguments: 0..<4)
    func sarifValidatesAgainstTheOfficialSchema(model: Int) throws {
        let (name, spec) = Self.models[model]
        let report = try analyzeReport(spec, name)
        let sarif = try JSON.parse(try report.render(.sarif))
        #expect(try schema("Tests/ReportsTests/Fixtures/sarif-schema-2.1.0.json").validate(sarif) == [])
        #expect(sarif["version"] == .string("2.1.0"))
        guard case let .array(runs)? = sarif["runs"], case let .array(results)? = runs.first?["results"] else {
            Issue.record("no runs/results"); return
        }
        #expect(results.count == report.findings.count + 1)  // + the KAPPA000 summary note
    }

    @Test func unsupportedModelFindingsCarryStableRuleIds() throws {
        let report = try analyzeReport(SmallModels.withUnsupported(), "unsupported.onnx")
        #expect(report.findings.map(\.rule.id).sorted() == [Rule.unsupportedOp.id, Rule.needsDomain.id])
        let nan = try analyzeReport(SmallModels.withNaN(), "nan.onnx")
        #expect(nan.findings.map(\.rule) == [Rule.nonFiniteWeight])
        let gh = try report.render(.github)
        #expect(gh.contains("unsupported.onnx,title=kappa KAPPA002 (custom_4)::node 'custom_4'"))
        #expect(gh.hasPrefix("::warning file="))
    }

    @Test func csvHasOneRowPerLayerAndMarkdownIsATable() throws {
        let report = try analyzeReport(SmallModels.tinyCNN(), "tiny.onnx")
        let csv = try report.render(.csv).split(separator: "\n")
        #expect(csv.count == report.layers.count + 1)
        #expect(csv.first?.hasPrefix("index,node,op,weight,weight_shape,frobenius,sigma_matrix") == true)
        let md = try report.render(.markdown)
        #expect(md.hasPrefix("### Kappa analyze: `"))
        #expect(md.contains("| Eq. 7 gain L |"))
    }

    @Test func colourOnlyWhenAsked() throws {
        let report = try analyzeReport(SmallModels.withUnsupported(), "unsupported.onnx")
        #expect(!(try report.render(.text)).contains("\u{1B}["))
        #expect(try report.render(.text, color: true).contains("\u{1B}["))
    }

    @Test func githubAnnotationsEscapeDataAndProperties() {
        let f = Finding(.unboundedOp, "50% of\nit", node: "a,b:c")
        let s = FindingsRenderer.github([f], modelPath: "m.onnx")
        #expect(s == "::warning file=m.onnx,title=kappa KAPPA003 (a%2Cb%3Ac)::50%25 of%0Ait\n")
    }
}

/// The empirical reports (`validate`, and `check` gating on the measurement) follow the same
/// schema as the static ones.
struct MeasuredReportSchemaTests {
    @Test func validateAndMeasuredCheckJSONValidate() throws {
        let g = try graph(SmallModels.tinyCNN(), "tiny.onnx")
        let inputs = InputSet.synthetic(count: 3, range: 0...1, seed: 4, shape: try Validation.inputShape(of: g))
        let result = try Validation.run(graph: g, inputs: inputs, options: ValidationOptions(bound: 12.5), progress: nil)
        let report = ValidationReport(result: result, model: g.model)
        let v = try schema("schemas/report.schema.json")
        let json = try JSON.parse(try report.render(.json))
        #expect(v.validate(json) == [])
        for k in ["schema_version", "tool", "model", "findings", "inputs", "summary"] { #expect(json[k] != nil) }

        let pass = CheckReport.Entry(graph: g, measured: report, maxBits: 32)
        let fail = CheckReport.Entry(graph: g, measured: report, maxBits: 1)
        #expect(pass.passed && !fail.passed)
        #expect(fail.findings.contains { $0.rule == Rule.precisionOverBudget })
        let check = CheckReport(entries: [pass, fail], failures: [], bound: .measured, norm: .operator, maxBits: 1)
        let cj = try JSON.parse(try check.render(.json))
        #expect(v.validate(cj) == [])
        if case let .string(b)? = cj["bound"] { #expect(b == "measured") } else { Issue.record("no bound key") }
    }
}
