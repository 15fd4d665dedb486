import Foundation

/// Renders findings for machines: SARIF 2.1.0 (GitHub code scanning), GitHub workflow
/// annotations, and CSV. Shared by every command's report.
public enum FindingsRenderer {
    public static func render(_ findings: [Finding], format: OutputFormat, modelPath: String) throws -> String {
        switch format {
        case .sarif: return try encodeJSON(SARIFLog(findings: findings, modelPath: modelPath))
        case .github: return github(findings, modelPath: modelPath)
        case .csv:
            var s = "rule,severity,node,message\n"
            for f in findings { s += [f.rule.id, f.severity.rawValue, f.node ?? "", f.message].map(csvField).joined(separator: ",") + "\n" }
            return s
        case .json: return try encodeJSON(findings)
        case .html:
            var page = HTMLPage(title: "Kappa findings: \((modelPath as NSString).lastPathComponent)", subtitle: modelPath)
            page.section("findings", "Findings", HTMLPage.findings(findings))
            return page.html
        case .text, .markdown:
            return findings.map { "\($0.severity.rawValue): [\($0.rule.id)] \($0.message)" }.joined(separator: "\n") + (findings.isEmpty ? "" : "\n")
        }
    }

    /// `::error file=…,title=…::message` lines; data and properties escaped as the
    /// GitHub Actions toolkit does (% → %25, CR → %0D, LF → %0A; in properties also : and ,).
    public static func github(_ findings: [Finding], modelPath: String) -> String {
        findings.map { f in
            let level = f.severity == .error ? "error" : (f.severity == .warning ? "warning" : "notice")
            let title = "kappa \(f.rule.id)" + (f.node.map { " (\($0))" } ?? "")
            return "::\(level) file=\(escapeProperty(f.file ?? modelPath)),title=\(escapeProperty(title))::\(escapeData(f.message))"
        }.joined(separator: "\n") + (findings.isEmpty ? "" : "\n")
    }

    public static func escapeData(_ s: String) -> String {
        s.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: "\r", with: "%0D")
            .replacingOccurrences(of: "\n", with: "%0A")
    }

    public static func escapeProperty(_ s: String) -> String {
        escapeData(s).replacingOccurrences(of: ":", with: "%3A").replacingOccurrences(of: ",", with: "%2C")
    }

    public static func csvField(_ s: String) -> String {
        s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
            ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
    }
}

/// SARIF 2.1.0, built from Codable structs. The model file is the artifact (no line
/// region: a model has no lines); the node is named in the message and in a logical
/// location; partialFingerprints are set by Kappa so code scanning can track results.
struct SARIFLog: Encodable {
    var version = "2.1.0"
    var schema = "https://json.schemastore.org/sarif-2.1.0.json"
    var runs: [Run]

    enum CodingKeys: String, CodingKey {
        case version, runs
        case schema = "$schema"
    }

    struct Run: Encodable {
        var tool: Tool
        var results: [Result]
        var artifacts: [Artifact]
    }
    struct Tool: Encodable { var driver: Driver }
    struct Driver: Encodable {
        var name = "kappa"
        var version = kappaVersion
        var semanticVersion = kappaVersion
        var informationUri = "https://example.invalid/kappa"
        var rules: [ReportingDescriptor]
    }
    struct ReportingDescriptor: Encodable {
        var id: String
        var name: String
        var shortDescription: Text
        var fullDescription: Text
        var defaultConfiguration: Config
        var help: Text
    }
    struct Config: Encodable { var level: String }
    struct Text: Encodable { var text: String }
    struct Result: Encodable {
        var ruleId: String
        var ruleIndex: Int
        var level: String
        var message: Text
        var locations: [Location]
        var partialFingerprints: [String: String]
    }
    struct Location: Encodable {
        var physicalLocation: Physical
        var logicalLocations: [Logical]?
    }
    struct Physical: Encodable { var artifactLocation: ArtifactLocation }
    struct ArtifactLocation: Encodable { var uri: String; var index: Int }
    struct Logical: Encodable { var name: String; var kind: String }
    struct Artifact: Encodable { var location: ArtifactLocation0 }
    struct ArtifactLocation0: Encodable { var uri: String }

    init(findings: [Finding], modelPath: String) {
        let used = Array(Set(findings.map(\.rule))).sorted { $0.id < $1.id }
        let rules = used.map { r in
            ReportingDescriptor(id: r.id, name: r.name, shortDescription: Text(text: r.summary), fullDescription: Text(text: r.help),
                 defaultConfiguration: Config(level: r.level.rawValue),
                 help: Text(text: "\(r.help) See Kappa's README, section 'Findings', for rule \(r.id)."))
        }
        // One artifact per model file (a check over several models names each finding's file).
        var files = [modelPath]
        for f in findings { if let p = f.file, !files.contains(p) { files.append(p) } }
        func uri(_ p: String) -> String { p.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: " ", with: "%20") }
        let results = findings.map { f in
            let file = f.file ?? modelPath
            return Result(ruleId: f.rule.id, ruleIndex: used.firstIndex(of: f.rule) ?? 0,
                   level: f.severity == .error ? "error" : (f.severity == .warning ? "warning" : "note"),
                   message: Text(text: f.node.map { "\(f.message) [node \($0)]" } ?? f.message),
                   locations: [Location(physicalLocation: Physical(artifactLocation: ArtifactLocation(uri: uri(file), index: files.firstIndex(of: file) ?? 0)),
                                        logicalLocations: f.node.map { [Logical(name: $0, kind: "function")] })],
                   partialFingerprints: ["kappaFinding/v1": SARIFLog.fingerprint("\(f.rule.id)|\(file)|\(f.node ?? "")")])
        }
        runs = [Run(tool: Tool(driver: Driver(rules: rules)), results: results,
                    artifacts: files.map { Artifact(location: ArtifactLocation0(uri: uri($0))) })]
    }

    /// FNV-1a 64-bit of the rule, file and node: stable across runs and machines.
    static func fingerprint(_ s: String) -> String {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in s.utf8 { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        return String(h, radix: 16)
    }
}
