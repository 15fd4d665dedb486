/// ONNX `TensorProto.DataType` codes (onnx.proto, IR 11) with their byte sizes.
///
/// The 8-bit floats (IR 9) and the 4-bit types (IR 10–11) are read as the ONNX spec
/// (docs/docsgen/source/technical/float8.md, int4.md, float4.md) defines them; see
/// ``float8ToDouble(_:_:)`` and ``fourBitToDouble(_:_:)``.
public enum DataType: Int32, Sendable, CaseIterable, CustomStringConvertible {
    case float = 1, uint8 = 2, int8 = 3, uint16 = 4, int16 = 5, int32 = 6, int64 = 7
    case string = 8, bool = 9, float16 = 10, double = 11, uint32 = 12, uint64 = 13
    case complex64 = 14, complex128 = 15, bfloat16 = 16
    case float8e4m3fn = 17, float8e4m3fnuz = 18, float8e5m2 = 19, float8e5m2fnuz = 20
    case uint4 = 21, int4 = 22, float4e2m1 = 23

    /// Bits per element; nil for strings. The 4-bit types are packed two per byte.
    public var bitWidth: Int? {
        switch self {
        case .uint4, .int4, .float4e2m1: return 4
        case .uint8, .int8, .bool, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz: return 8
        case .uint16, .int16, .float16, .bfloat16: return 16
        case .float, .int32, .uint32: return 32
        case .int64, .uint64, .double, .complex64: return 64
        case .complex128: return 128
        case .string: return nil
        }
    }

    /// Bytes per element in `raw_data` (little-endian) when an element is whole bytes; nil for
    /// strings and for the packed 4-bit types (half a byte: use ``byteCount(elements:)``).
    public var byteSize: Int? {
        guard let b = bitWidth, b % 8 == 0 else { return nil }
        return b / 8
    }

    /// Whether two elements share one byte (INT4, UINT4, FLOAT4E2M1): element 2k in the low
    /// nibble of byte k, element 2k + 1 in its high nibble.
    public var isPacked4Bit: Bool { bitWidth == 4 }

    /// Bytes `count` elements take in `raw_data`: count × byteSize, or ⌈count/2⌉ for the packed
    /// 4-bit types (an odd count leaves the last high nibble unused); nil for strings or when the
    /// byte count would overflow.
    public func byteCount(elements count: Int) -> Int? {
        guard let b = bitWidth, count >= 0 else { return nil }
        if b == 4 { return count / 2 + count % 2 }
        let (v, o) = count.multipliedReportingOverflow(by: b / 8)
        return o ? nil : v
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
        case .float, .double, .float16, .bfloat16, .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float4e2m1:
            return true
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
        case .float8e4m3fn: return "FLOAT8E4M3FN"
        case .float8e4m3fnuz: return "FLOAT8E4M3FNUZ"
        case .float8e5m2: return "FLOAT8E5M2"
        case .float8e5m2fnuz: return "FLOAT8E5M2FNUZ"
        case .uint4: return "UINT4"
        case .int4: return "INT4"
        case .float4e2m1: return "FLOAT4E2M1"
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

/// An 8-bit float code → its value, per the ONNX spec (technical/float8.md):
/// - FLOAT8E4M3FN: 1 sign, 4 exponent bits (bias 7), 3 mantissa bits; no infinities; NaN is
///   S.1111.111 (0x7F, 0xFF); subnormals m·2⁻⁹; largest 448.
/// - FLOAT8E4M3FNUZ: bias 8; no infinities, no −0; the only NaN is 0x80; subnormals m·2⁻¹⁰;
///   largest 240.
/// - FLOAT8E5M2: 1 sign, 5 exponent bits (bias 15), 2 mantissa bits (the top byte of a binary16):
///   ±∞ at S.11111.00, NaN at S.11111.{01,10,11}; subnormals m·2⁻¹⁶; largest 57344.
/// - FLOAT8E5M2FNUZ: bias 16; no infinities, no −0; the only NaN is 0x80; subnormals m·2⁻¹⁷;
///   largest 57344.
/// Every value is exact in Double. Other types give NaN.
@inlinable
public func float8ToDouble(_ code: UInt8, _ type: DataType) -> Double {
    let negative = code & 0x80 != 0
    let (expBits, bias, fnuz): (Int, Int, Bool)
    switch type {
    case .float8e4m3fn: (expBits, bias, fnuz) = (4, 7, false)
    case .float8e4m3fnuz: (expBits, bias, fnuz) = (4, 8, true)
    case .float8e5m2: (expBits, bias, fnuz) = (5, 15, false)
    case .float8e5m2fnuz: (expBits, bias, fnuz) = (5, 16, true)
    default: return .nan
    }
    let mantBits = 7 - expBits
    let e = Int(code >> UInt8(mantBits)) & ((1 << expBits) - 1)
    let m = Int(code) & ((1 << mantBits) - 1)
    if fnuz, code == 0x80 { return .nan }
    if !fnuz, e == (1 << expBits) - 1 {
        if type == .float8e5m2 { return m == 0 ? (negative ? -.infinity : .infinity) : .nan }
        if m == (1 << mantBits) - 1 { return .nan }  // E4M3FN: only S.1111.111 is NaN
    }
    let magnitude: Double
    if e == 0 {
        magnitude = Double(m) * Double(sign: .plus, exponent: 1 - bias - mantBits, significand: 1)
    } else {
        magnitude = (1 + Double(m) / Double(1 << mantBits)) * Double(sign: .plus, exponent: e - bias, significand: 1)
    }
    return negative ? -magnitude : magnitude
}

/// A 4-bit code (0…15, the nibble) → its value: UINT4 0…15; INT4 two's complement −8…7;
/// FLOAT4E2M1 (technical/float4.md) 1 sign, 2 exponent bits (bias 1), 1 mantissa bit, no
/// infinities or NaN: ±{0, 0.5, 1, 1.5, 2, 3, 4, 6}. Other types give NaN.
@inlinable
public func fourBitToDouble(_ nibble: UInt8, _ type: DataType) -> Double {
    let v = nibble & 0x0F
    switch type {
    case .uint4: return Double(v)
    case .int4: return Double(Int(v) - (v >= 8 ? 16 : 0))
    case .float4e2m1:
        let e = Int((v >> 1) & 0x3), m = Double(v & 1)
        let magnitude = e == 0 ? m * 0.5 : (1 + m / 2) * Double(sign: .plus, exponent: e - 1, significand: 1)
        return v & 0x8 != 0 ? -magnitude : magnitude
    default: return .nan
    }
}
