import Foundation

/// Escaping for HTML text and attribute values. Every string that comes from a model file
/// (node, tensor and producer names, doc strings, paths) goes through ``escape(_:)``: node
/// names can contain anything, markup included.
public enum HTMLText {
    /// Text or a double-quoted attribute value: `&`, `<`, `>`, `"` and `'` become character
    /// references, so the result can neither open a tag nor end an attribute. Characters that
    /// are not allowed in an HTML (or XML 1.0) document — C0 controls other than tab, LF and CR,
    /// DEL, C1 controls and Unicode noncharacters — become U+FFFD, so the page stays valid and
    /// well formed whatever the file held.
    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(allowed(u) ? u : "\u{FFFD}")
            }
        }
        return out
    }

    /// Whether a scalar may appear literally in the document (HTML's "control" and
    /// "noncharacter" parse errors; XML 1.0 `Char`).
    static func allowed(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        if v == 0x09 || v == 0x0A || v == 0x0D { return true }
        if v < 0x20 || (0x7F...0x9F).contains(v) { return false }
        if (0xFDD0...0xFDEF).contains(v) || (v & 0xFFFE) == 0xFFFE { return false }
        return true
    }

    /// A number as the text reports print it (4 significant digits, "unbounded", "–").
    static func num(_ v: Double?) -> String { escape(NumberText.value(v)) }
}

/// One table of an HTML report: a caption, column headers (`th scope="col"`), and rows whose
/// first cell is the row header when `rowHeaders` is set. Cells are plain text (escaped when
/// rendered) unless built with ``Cell/html(_:)``.
public struct HTMLTable: Sendable {
    public struct Cell: Sendable {
        var html: String
        var numeric: Bool
        var classes: [String]
        /// Plain text, escaped; right-aligned when `numeric`.
        public static func text(_ s: String, numeric: Bool = false, classes: [String] = []) -> Cell {
            Cell(html: HTMLText.escape(s), numeric: numeric, classes: classes)
        }
        /// A formatted number (4 significant digits), right-aligned.
        public static func number(_ v: Double?, classes: [String] = []) -> Cell {
            Cell(html: HTMLText.num(v), numeric: true, classes: classes)
        }
        /// Markup the caller built from escaped pieces.
        public static func html(_ s: String, numeric: Bool = false, classes: [String] = []) -> Cell {
            Cell(html: s, numeric: numeric, classes: classes)
        }
    }

    public var caption: String
    public var header: [String]
    public var rows: [[Cell]]
    public var rowClasses: [[String]]
    public var rowHeaders: Bool
    public var id: String?

    public init(caption: String, header: [String], rows: [[Cell]], rowClasses: [[String]] = [], rowHeaders: Bool = false, id: String? = nil) {
        self.caption = caption
        self.header = header
        self.rows = rows
        self.rowClasses = rowClasses
        self.rowHeaders = rowHeaders
        self.id = id
    }

    public var html: String {
        var s = "<div class=\"scroll\"><table\(id.map { " id=\"\(HTMLText.escape($0))\"" } ?? "")>\n"
        s += "<caption>\(HTMLText.escape(caption))</caption>\n<thead><tr>"
        for h in header { s += "<th scope=\"col\">\(HTMLText.escape(h))</th>" }
        s += "</tr></thead>\n<tbody>\n"
        for (i, r) in rows.enumerated() {
            let rc = i < rowClasses.count ? rowClasses[i] : []
            s += rc.isEmpty ? "<tr>" : "<tr class=\"\(rc.joined(separator: " "))\">"
            for (j, c) in r.enumerated() {
                let classes = (c.numeric ? ["num"] : []) + c.classes
                let attr = classes.isEmpty ? "" : " class=\"\(classes.joined(separator: " "))\""
                s += rowHeaders && j == 0 ? "<th scope=\"row\"\(attr)>\(c.html)</th>" : "<td\(attr)>\(c.html)</td>"
            }
            s += "</tr>\n"
        }
        s += "</tbody>\n</table></div>\n"
        return s
    }
}
