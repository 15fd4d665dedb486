import Foundation
import ONNX
@_exported import Sensitivity

/// Kappa's version, printed by `--version` and written into every report.
public let kappaVersion = "0.1.0"

/// Version of the JSON report layout (DESIGN.md §3.1, schemas/report.schema.json).
/// Bump it when a key is renamed or removed; adding keys does not bump it.
public let reportSchemaVersion = 1

/// Output formats shared by every command.
public enum OutputFormat: String, CaseIterable, Sendable {
    case text, json, markdown, csv, sarif, github, html
}

public struct ToolInfo: Codable, Sendable, Equatable {
    public var name = "kappa"
    public var version = kappaVersion
    public init() {}
}

public struct ModelInfo: Codable, Sendable, Equatable {
    public var path: String
    public var producer: String
    public var irVersion: Int
    public var opsets: [String: Int]

    enum CodingKeys: String, CodingKey {
        case path, producer, opsets
        case irVersion = "ir_version"
    }

    public init(_ model: Model) {
        path = model.path
        producer = [model.producerName, model.producerVersion].filter { !$0.isEmpty }.joined(separator: " ")
        irVersion = model.irVersion
        opsets = Dictionary(uniqueKeysWithValues: model.opsets.map { ($0.key.isEmpty ? "ai.onnx" : $0.key, $0.value) })
    }
}

/// JSON encoding used by every report: sorted keys, pretty, non-finite numbers as null.
public func encodeJSON<T: Encodable>(_ value: T) throws -> String {
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    let data = try enc.encode(value)
    return String(decoding: data, as: UTF8.self) + "\n"
}

/// A Double that encodes NaN/±∞ as JSON null (an unbounded value is `null` plus a finding).
public struct JSONNumber: Codable, Sendable, Equatable {
    public var value: Double?
    public init(_ v: Double?) { value = v.flatMap { $0.isFinite ? $0 : nil } }
    /// The value as a bound: null (unbounded) reads as +∞.
    public var bound: Double { value ?? .infinity }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if let value { try c.encode(value) } else { try c.encodeNil() }
    }
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        value = c.decodeNil() ? nil : try c.decode(Double.self)
    }
}

/// Text helpers shared by the renderers.
public enum TextFormat {
    /// Left/right aligned columns; numeric-looking cells are right aligned.
    public static func table(_ header: [String], _ rows: [[String]], indent: String = "  ") -> String {
        let all = [header] + rows
        var widths = Array(repeating: 0, count: header.count)
        for r in all { for (i, c) in r.enumerated() where i < widths.count { widths[i] = max(widths[i], c.count) } }
        func isNumeric(_ s: String) -> Bool {
            guard let f = s.first else { return false }
            return f.isNumber || (f == "-" && s.count > 1) || s == NumberText.unbounded || s == NumberText.missing || s == "NaN"
        }
        var out = ""
        for (ri, r) in all.enumerated() {
            var line = indent
            for (i, c) in r.enumerated() where i < widths.count {
                let pad = String(repeating: " ", count: widths[i] - c.count)
                let right = ri > 0 && isNumeric(c)
                line += (right ? pad + c : c + pad) + (i == r.count - 1 ? "" : "  ")
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }

    public static func bytes(_ n: Int) -> String {
        let units = ["B", "kB", "MB", "GB", "TB"]
        var v = Double(n)
        var u = 0
        while v >= 1000 && u < units.count - 1 { v /= 1000; u += 1 }
        return u == 0 ? "\(n) B" : String(format: "%.1f %@", v, units[u])
    }

    public static func grouped(_ n: Int) -> String {
        let s = String(n)
        var out = ""
        for (i, ch) in s.reversed().enumerated() {
            if i > 0 && i % 3 == 0 && ch != "-" { out.append(",") }
            out.append(ch)
        }
        return String(out.reversed())
    }

    public static func shape(_ dims: [Dim]?) -> String {
        guard let dims else { return "?" }
        return "[" + dims.map(\.description).joined(separator: ", ") + "]"
    }
}
