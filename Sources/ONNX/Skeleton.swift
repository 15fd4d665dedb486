/// Zero-copy decoding of large weights.
///
/// protobuf-c copies every `bytes` field it unpacks, so a 575 MB model would be held
/// twice (the mapped file plus protobuf-c's copies). Before unpacking, the loader builds
/// a *skeleton* of the message: the same bytes, except that every TensorProto
/// `raw_data` (field 9) of at least `threshold` bytes is replaced by two Kappa-internal
/// fixed64 fields (`kappa_raw_offset` = 9001, `kappa_raw_length` = 9002 in
/// schemas/onnx.proto) giving where the data lies in the mapped file. Enclosing
/// messages get their new lengths. The skeleton is small (no weights), protobuf-c unpacks
/// it quickly, and tensors then borrow their bytes straight from the mapping.
///
/// Runs only after `WireScan.scan` accepted the buffer (structure valid, depth bounded,
/// and no file uses the reserved field numbers), so it can trust lengths and recursion.
enum Skeleton {
    static let offsetField: UInt64 = 9001
    static let lengthField: UInt64 = 9002
    /// raw_data shorter than this stays inline (copying it is cheaper than bookkeeping).
    static let threshold = 4096

    /// The rewritten message, or nil when nothing would change (no large raw_data).
    static func build(_ buf: UnsafeRawBufferPointer) -> [UInt8]? {
        var found = false
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        rewrite(buf, kind: .model, range: 0..<buf.count, into: &out, found: &found)
        return found ? out : nil
    }

    private static func readVarint(_ buf: UnsafeRawBufferPointer, _ pos: inout Int) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while pos < buf.count && shift < 64 {
            let b = buf[pos]
            pos += 1
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { break }
            shift += 7
        }
        return result
    }

    private static func writeVarint(_ v: UInt64, _ out: inout [UInt8]) {
        var v = v
        while v >= 0x80 {
            out.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    private static func writeFixed64(field: UInt64, _ v: UInt64, _ out: inout [UInt8]) {
        writeVarint(field << 3 | 1, &out)
        for i in 0..<8 { out.append(UInt8(truncatingIfNeeded: v >> (8 * UInt64(i)))) }
    }

    private static func rewrite(_ buf: UnsafeRawBufferPointer, kind: WireScan.Kind, range: Range<Int>,
                                into out: inout [UInt8], found: inout Bool) {
        var pos = range.lowerBound
        while pos < range.upperBound {
            let fieldStart = pos
            let tag = readVarint(buf, &pos)
            let field = tag >> 3
            switch tag & 7 {
            case 0:
                _ = readVarint(buf, &pos)
            case 1:
                pos += 8
            case 5:
                pos += 4
            default:  // 2: length-delimited (WireScan refused every other wire type)
                let len = Int(readVarint(buf, &pos))
                let body = pos..<(pos + len)
                pos += len
                if kind == .tensor && field == 9 && len >= threshold {
                    found = true
                    writeFixed64(field: offsetField, UInt64(body.lowerBound), &out)
                    writeFixed64(field: lengthField, UInt64(len), &out)
                    continue
                }
                if let child = WireScan.child(of: kind, field: field), child != .other {
                    var sub: [UInt8] = []
                    rewrite(buf, kind: child, range: body, into: &sub, found: &found)
                    writeVarint(tag, &out)
                    writeVarint(UInt64(sub.count), &out)
                    out.append(contentsOf: sub)
                    continue
                }
            }
            out.append(contentsOf: UnsafeRawBufferPointer(rebasing: buf[fieldStart..<pos]))
        }
    }
}
