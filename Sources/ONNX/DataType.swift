/// ONNX `TensorProto.DataType` codes (onnx.proto, IR 10) with their byte sizes.
public enum DataType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7
    case string = 8, bool = 9, float16 = 10, double = 11, uint32 = 12, uint64 = 13
    case complex64 = 14, complex128 = 15, bfloat16 = 16

    /// Bytes per element in `raw_data` (little-endian); nil for strings.
    public var byteSize: Int? {
        switch self {
        case .uint8, .int8, .bool: return 1
        case .uint16, .int16, .float16, .bfloat16: return 2
        case .float, .int32, .uint32: return 4
        case .int64, .uint64, .double, .complex64: return 8
        case .complex128: return 16
        case .string: return nil
        }
    }

    /// Whether Kappa can read the values as real numbers.
    public var isNumeric: Bool {
        switch self {
        case .string, .complex64, .complex128: return false
        default: return true
        }
    }

    public var isFloatingPoint: Bool {
        switch self {
        case .float, .double, .float16, .bfloat16: return true
        default: return false
        }
    }

    /// The spelling used in ONNX documentation and in Kappa's reports.
    public var description: String {
        switch self {
        case .float: return "FLOAT"
        case .uint8: return "UINT8"
        case .int8: return "INT8"
        case .uint16: return "UINT16"
        case .int16: return "INT16"
        case .int32: return "INT32"
        case .int64: return "INT64"
        case .string: return "STRING"
        case .bool: return "BOOL"
        case .float16: return "FLOAT16"
        case .double: return "DOUBLE"
        case .uint32: return "UINT32"
        case .uint64: return "UINT64"
        case .complex64: return "COMPLEX64"
        case .complex128: return "COMPLEX128"
        case .bfloat16: return "BFLOAT16"
        }
    }
}

/// IEEE 754 binary16 bits → Float (exact: every half is a float).
@inlinable
public func halfToFloat(_ h: UInt16) -> Float {
    let sign = UInt32(h >> 15) << 31
    let exp = Int((h >> 10) & 0x1F)
    let mant = UInt32(h & 0x3FF)
    if exp == 0 {
        // zero or subnormal: mant · 2^-24
        let v = Float(mant) * Float(sign: .plus, exponent: -24, significand: 1)
        return sign != 0 ? -v : v
    }
    if exp == 31 {
        return Float(bitPattern: sign | 0x7F80_0000 | (mant << 13))
    }
    return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (mant << 13))
}

/// bfloat16 bits → Float (the upper half of a float32).
@inlinable
public func bfloat16ToFloat(_ b: UInt16) -> Float {
    Float(bitPattern: UInt32(b) << 16)
}

/// Float → IEEE binary16 bits, round to nearest even (used by the test writer).
public func floatToHalf(_ f: Float) -> UInt16 {
    let bits = f.bitPattern
    let sign = UInt16((bits >> 16) & 0x8000)
    if f.isNaN { return sign | 0x7E00 }
    let a = abs(f)
    if a >= 65520 { return sign | 0x7C00 }
    if a < Float(sign: .plus, exponent: -25, significand: 1) { return sign }
    if a < Float(sign: .plus, exponent: -14, significand: 1) {
        // subnormal: round(a / 2^-24)
        let m = (a * Float(sign: .plus, exponent: 24, significand: 1)).rounded(.toNearestOrEven)
        return sign | UInt16(m)
    }
    let e = Int((a.bitPattern >> 23) & 0xFF) - 127 + 15
    var m = a.bitPattern & 0x7F_FFFF
    var exp = UInt32(e)
    // round mantissa from 23 to 10 bits, nearest even
    let rest = m & 0x1FFF
    m >>= 13
    if rest > 0x1000 || (rest == 0x1000 && (m & 1) == 1) { m += 1 }
    if m == 0x400 { m = 0; exp += 1 }
    return sign | UInt16(exp << 10) | UInt16(m)
}
