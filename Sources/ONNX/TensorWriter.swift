import CProtobufC
import Foundation
import ONNXProto

/// Writes tensors for `kappa run`: an ONNX TensorProto (the `output_k.pb` files of the ONNX
/// test-data layout: dims, data_type, name and little-endian raw_data, packed by protobuf-c)
/// or a NumPy `.npy` file (format 1.0). Values arrive as float32 (the engine's
/// representation) and are converted to the element type: integers exactly (they are
/// integers already), FLOAT16/BFLOAT16 rounded to nearest even, BOOL as 0/1 bytes. The 8-bit
/// and 4-bit types, strings and complex numbers are not written.
public enum TensorWriter {
    public enum WriteError: Error, Sendable, Equatable, CustomStringConvertible {
        case unsupportedType(DataType)
        case countMismatch(values: Int, dims: [Int])
        public var description: String {
            switch self {
            case let .unsupportedType(t): return "writing \(t) tensors is not supported"
            case let .countMismatch(v, d): return "\(v) values for dims \(d)"
            }
        }
    }

    /// The little-endian bytes of `values` as `type` (the TensorProto raw_data layout).
    public static func rawBytes(_ values: [Float], as type: DataType) throws(WriteError) -> [UInt8] {
        var out: [UInt8] = []
        func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        switch type {
        case .float: out.reserveCapacity(4 * values.count); for v in values { put(v.bitPattern) }
        case .double: for v in values { put(Double(v).bitPattern) }
        case .float16: for v in values { put(floatToHalf(v)) }
        case .bfloat16: for v in values { put(bfloat16Bits(v)) }
        case .bool: for v in values { out.append(v != 0 ? 1 : 0) }
        case .int8: for v in values { put(Int8(clamping: integer(v))) }
        case .uint8: for v in values { out.append(UInt8(clamping: integer(v))) }
        case .int16: for v in values { put(Int16(clamping: integer(v))) }
        case .uint16: for v in values { put(UInt16(clamping: integer(v))) }
        case .int32: for v in values { put(Int32(clamping: integer(v))) }
        case .uint32: for v in values { put(UInt32(clamping: integer(v))) }
        case .int64: for v in values { put(integer(v)) }
        case .uint64: for v in values { put(UInt64(clamping: integer(v))) }
        default: throw .unsupportedType(type)
        }
        return out
    }

    /// A serialised TensorProto.
    public static func tensorProto(name: String, dims: [Int], type: DataType, values: [Float]) throws(WriteError) -> Data {
        guard dims.reduce(1, *) == values.count else { throw .countMismatch(values: values.count, dims: dims) }
        var raw = try rawBytes(values, as: type)
        var dims64 = dims.map { Int64($0) }
        var message = Onnx__TensorProto()
        onnx__tensor_proto__init(&message)
        message.has_data_type = 1
        message.data_type = type.rawValue
        let data: Data = name.withCString { cName in
            dims64.withUnsafeMutableBufferPointer { d in
                raw.withUnsafeMutableBufferPointer { r in
                    message.n_dims = d.count
                    message.dims = d.baseAddress
                    message.name = UnsafeMutablePointer(mutating: cName)
                    message.has_raw_data = 1
                    message.raw_data = ProtobufCBinaryData(len: r.count, data: r.baseAddress)
                    let size = onnx__tensor_proto__get_packed_size(&message)
                    var bytes = [UInt8](repeating: 0, count: size)
                    let written = bytes.withUnsafeMutableBufferPointer { onnx__tensor_proto__pack(&message, $0.baseAddress) }
                    return Data(bytes.prefix(written))
                }
            }
        }
        return data
    }

    /// A `.npy` file (format 1.0, C order, little-endian).
    public static func npy(dims: [Int], type: DataType, values: [Float]) throws(WriteError) -> Data {
        guard dims.reduce(1, *) == values.count else { throw .countMismatch(values: values.count, dims: dims) }
        let descr: String
        switch type {
        case .float: descr = "<f4"
        case .double: descr = "<f8"
        case .float16: descr = "<f2"
        case .bool: descr = "|b1"
        case .int8: descr = "|i1"
        case .uint8: descr = "|u1"
        case .int16: descr = "<i2"
        case .uint16: descr = "<u2"
        case .int32: descr = "<i4"
        case .uint32: descr = "<u4"
        case .int64: descr = "<i8"
        case .uint64: descr = "<u8"
        default: throw .unsupportedType(type)
        }
        let shape = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
        // Magic (6) + version (2) + length (2) + header + "\n", padded to a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let n = UInt16(header.utf8.count)
        out.append(contentsOf: [UInt8(n & 0xFF), UInt8(n >> 8)])
        out.append(contentsOf: Array(header.utf8))
        out.append(contentsOf: try rawBytes(values, as: type))
        return out
    }

    static func integer(_ v: Float) -> Int64 {
        guard v.isFinite else { return v.isNaN ? 0 : (v > 0 ? .max : .min) }
        if v >= 0x1p63 { return .max }
        if v < -0x1p63 { return .min }
        return Int64(v.rounded(.towardZero))
    }

    /// Float → bfloat16 bits, round to nearest even.
    static func bfloat16Bits(_ f: Float) -> UInt16 {
        if f.isNaN { return 0x7FC0 }
        let b = f.bitPattern
        return UInt16(truncatingIfNeeded: (b &+ 0x7FFF &+ ((b >> 16) & 1)) >> 16)
    }
}
