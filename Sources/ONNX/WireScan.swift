/// A structural pre-pass over the protobuf wire format of a ModelProto, run before
/// protobuf-c unpacks it. protobuf-c recurses once per nested message and has no depth
/// limit, so a hostile file of subgraphs inside subgraphs could exhaust the stack; this
/// scan walks the same nesting iteratively (an explicit stack), refuses depths over
/// `ModelLoader.maxNesting`, and reports truncation and bad wire types with byte offsets.
/// Large byte fields (raw_data) are skipped by their length, so the scan is cheap.
enum WireScan {
    /// The message kinds whose nesting can recurse, and the fields that lead there.
    enum Kind: UInt8 {
        case model, graph, node, attribute, function, valueInfo, type, typeSequence, typeMap, typeOptional, tensor, other
    }

    static func child(of kind: Kind, field: UInt64) -> Kind? {
        switch (kind, field) {
        case (.model, 7): return .graph
        case (.model, 25): return .function
        case (.graph, 1): return .node
        case (.graph, 5): return .tensor
        case (.graph, 15): return .other
        case (.graph, 11), (.graph, 12), (.graph, 13): return .valueInfo
        case (.node, 5): return .attribute
        case (.attribute, 6), (.attribute, 11): return .graph
        case (.attribute, 14), (.attribute, 15): return .type
        case (.attribute, 5), (.attribute, 10): return .tensor
        case (.attribute, 22), (.attribute, 23): return .other
        case (.function, 7): return .node
        case (.function, 11): return .attribute
        case (.function, 12): return .valueInfo
        case (.valueInfo, 2): return .type
        case (.type, 4): return .typeSequence
        case (.type, 5): return .typeMap
        case (.type, 9): return .typeOptional
        case (.type, 1), (.type, 8): return .other
        case (.typeSequence, 1), (.typeOptional, 1), (.typeMap, 2): return .type
        default: return nil
        }
    }

    /// Wire types allowed for the fields of the messages the scan walks (onnx.proto):
    /// 0 varint, 2 length-delimited, 5 fixed32. Repeated scalars may be packed (2).
    /// Unknown fields are skipped as protobuf requires; nil means "not checked".
    private static func allowedWireTypes(of kind: Kind, field: UInt64) -> (name: String, types: Set<UInt64>)? {
        switch (kind, field) {
        case (.model, 1): return ("ModelProto.ir_version", [0])
        case (.model, 5): return ("ModelProto.model_version", [0])
        case (.model, 2), (.model, 3), (.model, 4), (.model, 6), (.model, 7), (.model, 8), (.model, 14), (.model, 20), (.model, 25):
            return ("ModelProto field \(field)", [2])
        case (.graph, 1), (.graph, 2), (.graph, 5), (.graph, 10), (.graph, 11), (.graph, 12), (.graph, 13), (.graph, 14), (.graph, 15), (.graph, 16):
            return ("GraphProto field \(field)", [2])
        case (.node, 1), (.node, 2), (.node, 3), (.node, 4), (.node, 5), (.node, 6), (.node, 7), (.node, 8), (.node, 9):
            return ("NodeProto field \(field)", [2])
        case (.attribute, 2): return ("AttributeProto.f", [5])
        case (.attribute, 3): return ("AttributeProto.i", [0])
        case (.attribute, 20): return ("AttributeProto.type", [0])
        case (.attribute, 7): return ("AttributeProto.floats", [5, 2])
        case (.attribute, 8): return ("AttributeProto.ints", [0, 2])
        case (.attribute, 1), (.attribute, 4), (.attribute, 5), (.attribute, 6), (.attribute, 9), (.attribute, 10), (.attribute, 11),
             (.attribute, 13), (.attribute, 14), (.attribute, 15), (.attribute, 21), (.attribute, 22), (.attribute, 23):
            return ("AttributeProto field \(field)", [2])
        default: return nil
        }
    }

    /// Throws a reason string (the caller adds the path) or the nesting depth reached.
    enum Failure: Error {
        case malformed(String)
        case tooDeep(Int)
    }

    /// `root` is the message the whole buffer holds: a ModelProto, or a TensorProto for
    /// ONNX test-data files.
    static func scan(_ buf: UnsafeRawBufferPointer, maxDepth: Int, root: Kind = .model) throws(Failure) {
        guard buf.count > 0 else { throw .malformed("the file is empty") }
        var stack: [(kind: Kind, end: Int)] = [(root, buf.count)]
        var pos = 0

        func varint(_ limit: Int) throws(Failure) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard pos < limit else { throw .malformed("truncated varint at byte \(pos)") }
                let b = buf[pos]
                pos += 1
                if shift == 63 && b > 1 { throw .malformed("varint overflows 64 bits at byte \(pos - 1)") }
                result |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
                if shift > 63 { throw .malformed("varint longer than 10 bytes at byte \(pos)") }
            }
        }

        while let top = stack.last {
            if pos == top.end {
                stack.removeLast()
                continue
            }
            let fieldStart = pos
            let tag = try varint(top.end)
            let field = tag >> 3
            guard field != 0 else { throw .malformed("field number 0 at byte \(fieldStart)") }
            if top.kind == .tensor && (field == Skeleton.offsetField || field == Skeleton.lengthField) {
                throw .malformed("field \(field) at byte \(fieldStart) is reserved for Kappa's loader and never valid in a file")
            }
            if let expected = allowedWireTypes(of: top.kind, field: field), !expected.types.contains(tag & 7) {
                throw .malformed("\(expected.name) at byte \(fieldStart) has wire type \(tag & 7), expected \(expected.types.sorted().map(String.init).joined(separator: " or "))")
            }
            switch tag & 7 {
            case 0:
                _ = try varint(top.end)
            case 1, 5:
                let n = (tag & 7) == 1 ? 8 : 4
                guard top.end - pos >= n else {
                    throw .malformed("truncated fixed-width field \(field) at byte \(fieldStart)")
                }
                pos += n
            case 2:
                let len = try varint(top.end)
                guard len <= UInt64(top.end - pos) else {
                    throw .malformed("field \(field) at byte \(fieldStart) claims \(len) bytes but only \(top.end - pos) remain")
                }
                let end = pos + Int(len)
                if let kind = child(of: top.kind, field: field), kind != .other {
                    if stack.count >= maxDepth { throw .tooDeep(stack.count + 1) }
                    stack.append((kind, end))
                } else {
                    pos = end
                }
            default:
                throw .malformed("unsupported wire type \(tag & 7) for field \(field) at byte \(fieldStart)")
            }
        }
    }
}
