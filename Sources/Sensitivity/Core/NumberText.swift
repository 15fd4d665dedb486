import Foundation

/// The one number formatter of Kappa's messages and reports: 4 significant digits
/// (`%.4g`), "unbounded" for +∞ (the one spelling), "–" for a value that was not computed,
/// "NaN" for an undefined one. CSV and JSON keep full precision instead.
public enum NumberText {
    public static let unbounded = "unbounded"
    public static let missing = "–"

    public static func value(_ v: Double?) -> String {
        guard let v else { return missing }
        if v.isNaN { return "NaN" }
        if v.isInfinite { return v > 0 ? unbounded : "-" + unbounded }
        return String(format: "%.4g", v)
    }

    /// Digits lost, two decimals.
    public static func digits(_ d: Double?) -> String { d.map { String(format: "%.2f", $0) } ?? missing }

    /// "12 bits", or "unbounded".
    public static func bits(_ b: Int?) -> String { b.map { "\($0) bits" } ?? unbounded }

    /// A bit count alone ("12"), or "–".
    public static func bitCount(_ b: Int?) -> String { b.map(String.init) ?? missing }

    /// Full precision for CSV; empty when absent or not finite.
    public static func csv(_ v: Double?) -> String { v.flatMap { $0.isFinite ? "\($0)" : nil } ?? "" }

    /// A share in percent, no decimals.
    public static func percent(_ v: Double?) -> String { v.flatMap { $0.isFinite ? String(format: "%.0f%%", 100 * $0) : nil } ?? "" }
}
