import Foundation

/// Reads NumPy `.npy` files (format versions 1.0, 2.0, 3.0): the magic `\x93NUMPY`, a
/// version, a header length (u16 for 1.x, u32 for 2.x/3.x), a Python dict literal
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }` and the raw
/// data. Accepted dtypes: little-endian float32 `<f4`, float64 `<f8` and uint8 `|u1`
/// (converted to float32); C order only. Anything else is refused with the file named.
public enum NpyReader {
    public struct Header: Equatable, Sendable {
        public var descr: String
        public var shape: [Int]
        public var dataOffset: Int
        /// Bytes per element of `descr` (4, 8 or 1).
        public var itemSize: Int
    }

    /// Bytes per element of an accepted dtype, nil for any other.
    static func itemSize(_ descr: String) -> Int? {
        switch descr {
        case "<f4": return 4
        case "<f8": return 8
        case "|u1", "<u1", "u1": return 1
        default: return nil
        }
    }

    static func fail(_ path: String, _ reason: String) -> ReferenceError { .inputFile(path: path, reason: reason) }

    /// Parses the header of `bytes` (the whole file).
    public static func header(_ bytes: Data, path: String) throws(ReferenceError) -> Header {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard bytes.count >= 10, Array(bytes.prefix(6)) == magic else { throw fail(path, "not a .npy file (bad magic)") }
        let b = [UInt8](bytes.prefix(12))
        let major = b[6]
        let headerLength: Int, start: Int
        switch major {
        case 1:
            headerLength = Int(b[8]) | Int(b[9]) << 8
            start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail(path, ".npy header is truncated") }
            headerLength = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24
            start = 12
        default:
            throw fail(path, ".npy format version \(major).\(b[7]) is not supported (1, 2 or 3)")
        }
        guard headerLength <= 1 << 20, start + headerLength <= bytes.count else { throw fail(path, ".npy header is truncated") }
        let text = String(decoding: bytes[bytes.startIndex + start ..< bytes.startIndex + start + headerLength], as: UTF8.self)
        guard let descr = field(text, "descr").flatMap(quoted) else { throw fail(path, ".npy header has no 'descr'") }
        guard let size = itemSize(descr) else {
            throw fail(path, "dtype '\(descr)' is not supported (float32 '<f4', float64 '<f8' or uint8 '|u1')")
        }
        guard let fortran = field(text, "fortran_order") else { throw fail(path, ".npy header has no 'fortran_order'") }
        guard fortran.hasPrefix("False") else { throw fail(path, "fortran_order arrays are not supported (save in C order)") }
        guard let shapeText = field(text, "shape"), shapeText.hasPrefix("("), let close = shapeText.firstIndex(of: ")") else {
            throw fail(path, ".npy header has no valid 'shape'")
        }
        var shape: [Int] = []
        for part in shapeText[shapeText.index(after: shapeText.startIndex)..<close].split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0, v <= 1 << 31 else { throw fail(path, ".npy shape entry '\(t)' is invalid") }
            shape.append(v)
        }
        return Header(descr: descr, shape: shape, dataOffset: start + headerLength, itemSize: size)
    }

    /// The value of `key` in the header dict, as raw text up to the next top-level comma.
    static func field(_ text: String, _ key: String) -> String? {
        for q in ["'", "\""] {
            if let r = text.range(of: "\(q)\(key)\(q)") {
                var rest = text[r.upperBound...].drop { $0 == " " }
                guard rest.first == ":" else { continue }
                rest = rest.dropFirst().drop { $0 == " " }
                return String(rest)
            }
        }
        return nil
    }

    static func quoted(_ s: String) -> String? {
        guard let q = s.first, q == "'" || q == "\"" else { return nil }
        let body = s.dropFirst()
        guard let end = body.firstIndex(of: q) else { return nil }
        return String(body[..<end])
    }

    /// Reads a whole `.npy` file as float32 values and its shape.
    public static func read(path: String) throws(ReferenceError) -> (shape: [Int], values: [Float]) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .mappedIfSafe) } catch {
            throw fail(path, "cannot read: \(error.localizedDescription)")
        }
        let h = try header(data, path: path)
        var count = 1
        for d in h.shape {
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o, p <= 1 << 31 else { throw fail(path, "shape \(h.shape) is too large") }
            count = p
        }
        let size = h.itemSize
        let available = data.count - h.dataOffset
        guard available == count * size else {
            throw fail(path, "holds \(available) data bytes, shape \(h.shape) of '\(h.descr)' needs \(count * size)")
        }
        let body = data[(data.startIndex + h.dataOffset)...]
        var out = [Float](repeating: 0, count: count)
        body.withUnsafeBytes { raw in
            switch size {
            case 4: for i in 0..<count { out[i] = raw.loadUnaligned(fromByteOffset: i * 4, as: Float.self) }
            case 8: for i in 0..<count { out[i] = Float(raw.loadUnaligned(fromByteOffset: i * 8, as: Double.self)) }
            default: for i in 0..<count { out[i] = Float(raw[i]) }
            }
        }
        return (h.shape, out)
    }
}
