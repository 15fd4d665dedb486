import Foundation

/// A JSON value, parsed by a small strict parser (so booleans and integers stay distinct).
indirect enum JSON: Equatable {
    case null, bool(Bool), number(Double), string(String), array([JSON]), object([String: JSON])

    static func parse(_ text: String) throws -> JSON {
        var p = Parser(chars: Array(text.unicodeScalars))
        let v = try p.value()
        p.skip()
        guard p.i == p.chars.count else { throw Parser.Failure(at: p.i) }
        return v
    }

    subscript(key: String) -> JSON? { if case let .object(o) = self { return o[key] } else { return nil } }

    struct Parser {
        struct Failure: Error { var at: Int }
        var chars: [Unicode.Scalar]
        var i = 0
        mutating func skip() { while i < chars.count, [" ", "\n", "\r", "\t"].contains(chars[i]) { i += 1 } }
        mutating func expect(_ s: String) throws {
            for c in s.unicodeScalars { guard i < chars.count, chars[i] == c else { throw Failure(at: i) }; i += 1 }
        }
        mutating func value() throws -> JSON {
            skip()
            guard i < chars.count else { throw Failure(at: i) }
            switch chars[i] {
            case "n": try expect("null"); return .null
            case "t": try expect("true"); return .bool(true)
            case "f": try expect("false"); return .bool(false)
            case "\"": return .string(try string())
            case "[":
                i += 1; var a: [JSON] = []; skip()
                if i < chars.count, chars[i] == "]" { i += 1; return .array(a) }
                while true {
                    a.append(try value()); skip()
                    guard i < chars.count else { throw Failure(at: i) }
                    if chars[i] == "," { i += 1; continue }
                    try expect("]"); return .array(a)
                }
            case "{":
                i += 1; var o: [String: JSON] = [:]; skip()
                if i < chars.count, chars[i] == "}" { i += 1; return .object(o) }
                while true {
                    skip(); let k = try string(); skip(); try expect(":")
                    o[k] = try value(); skip()
                    guard i < chars.count else { throw Failure(at: i) }
                    if chars[i] == "," { i += 1; continue }
                    try expect("}"); return .object(o)
                }
            default:
                let start = i
                while i < chars.count, "+-0123456789.eE".unicodeScalars.contains(chars[i]) { i += 1 }
                guard let d = Double(String(String.UnicodeScalarView(chars[start..<i]))) else { throw Failure(at: start) }
                return .number(d)
            }
        }
        mutating func string() throws -> String {
            try expect("\"")
            var s = String.UnicodeScalarView()
            while i < chars.count, chars[i] != "\"" {
                if chars[i] == "\\" {
                    i += 1
                    guard i < chars.count else { throw Failure(at: i) }
                    switch chars[i] {
                    case "n": s.append("\n"); case "t": s.append("\t"); case "r": s.append("\r")
                    case "b": s.append("\u{8}"); case "f": s.append("\u{C}")
                    case "u":
                        guard i + 4 < chars.count, let v = UInt32(String(String.UnicodeScalarView(chars[(i + 1)...(i + 4)])), radix: 16) else { throw Failure(at: i) }
                        s.append(Unicode.Scalar(v) ?? "?"); i += 4
                    default: s.append(chars[i])
                    }
                } else {
                    s.append(chars[i])
                }
                i += 1
            }
            try expect("\"")
            return String(s)
        }
    }
}

/// Validates a JSON value against the subset of JSON Schema (draft-04 … 2020-12) that
/// Kappa's report schema and the SARIF 2.1.0 schema use: $ref (local), type, required,
/// properties, additionalProperties, items, enum, const, anyOf/oneOf/allOf, minimum,
/// minItems, uniqueItems, pattern. `format`, `default` and `description` are ignored.
struct JSONSchemaValidator {
    let root: JSON

    func validate(_ v: JSON) -> [String] { errors(v, root, "$") }

    func resolve(_ ref: String) -> JSON? {
        guard ref.hasPrefix("#") else { return nil }
        var cur = root
        for part in ref.dropFirst().split(separator: "/") {
            guard let next = cur[String(part).replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")] else { return nil }
            cur = next
        }
        return cur
    }

    static func typeMatches(_ v: JSON, _ t: String) -> Bool {
        switch (t, v) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object), ("number", .number): return true
        case let ("integer", .number(d)): return d == d.rounded()
        default: return false
        }
    }

    func errors(_ v: JSON, _ s: JSON, _ path: String) -> [String] {
        guard case let .object(schema) = s else { return [] }
        var out: [String] = []
        if case let .string(ref)? = schema["$ref"] {
            guard let target = resolve(ref) else { return ["\(path): unresolvable $ref \(ref)"] }
            out += errors(v, target, path)
        }
        switch schema["type"] {
        case let .string(t)?: if !Self.typeMatches(v, t) { out.append("\(path): expected \(t)") }
        case let .array(ts)?:
            if !ts.contains(where: { if case let .string(t) = $0 { return Self.typeMatches(v, t) } else { return false } }) {
                out.append("\(path): expected one of \(ts)")
            }
        default: break
        }
        if case let .array(options)? = schema["enum"], !options.contains(v) { out.append("\(path): \(v) not in enum") }
        if let c = schema["const"], c != v { out.append("\(path): expected const \(c)") }
        if case let .number(m)? = schema["minimum"], case let .number(d) = v, d < m { out.append("\(path): \(d) < minimum \(m)") }
        if case let .string(pattern)? = schema["pattern"], case let .string(str) = v,
           str.range(of: pattern, options: .regularExpression) == nil {
            out.append("\(path): '\(str)' does not match \(pattern)")
        }
        if case let .array(all)? = schema["allOf"] { for sub in all { out += errors(v, sub, path) } }
        if case let .array(any)? = schema["anyOf"], !any.contains(where: { errors(v, $0, path).isEmpty }) {
            out.append("\(path): matches none of anyOf")
        }
        if case let .array(one)? = schema["oneOf"], one.filter({ errors(v, $0, path).isEmpty }).count != 1 {
            out.append("\(path): must match exactly one of oneOf")
        }
        if case let .object(obj) = v {
            if case let .array(req)? = schema["required"] {
                for case let .string(k) in req where obj[k] == nil { out.append("\(path): missing required '\(k)'") }
            }
            var props: [String: JSON] = [:]
            if case let .object(p)? = schema["properties"] { props = p }
            for (k, val) in obj {
                if let ps = props[k] { out += errors(val, ps, "\(path).\(k)") } else {
                    switch schema["additionalProperties"] {
                    case .bool(false)?: out.append("\(path): unexpected property '\(k)'")
                    case let ap? where ap != .bool(true): out += errors(val, ap, "\(path).\(k)")
                    default: break
                    }
                }
            }
        }
        if case let .array(arr) = v {
            if case let .number(m)? = schema["minItems"], Double(arr.count) < m { out.append("\(path): fewer than \(m) items") }
            if case .bool(true)? = schema["uniqueItems"] {
                for (i, a) in arr.enumerated() where arr[..<i].contains(a) { out.append("\(path)[\(i)]: duplicate item") }
            }
            if let items = schema["items"], case .object = items {
                for (i, a) in arr.enumerated() { out += errors(a, items, "\(path)[\(i)]") }
            }
        }
        return out
    }
}
