import ONNX

/// Cast (`to`, required) and CastLike (the type of input 1), every direction between the
/// numeric types and BOOL. The engine keeps float32 values tagged with their type:
/// - to FLOAT/DOUBLE: the values as they are (an integer above 2²⁴ was already rounded to
///   the nearest float32, ties to even, when it entered the engine);
/// - to FLOAT16 / BFLOAT16: rounded to nearest even at that precision (65520 → ∞, values
///   below half the smallest subnormal → ±0), held as the float32 of the result;
/// - to an integer type: floats truncate toward zero (NaN → 0); the result wraps modulo the
///   type's width as C++'s conversions do for in-range values (out-of-range float → int is
///   undefined in ONNX; onnxruntime's results there are not matched);
/// - to BOOL: x ≠ 0 (NaN → true); from BOOL: 0/1;
/// - to the 8-bit floats and FLOAT4E2M1: the nearest representable value, ties to the even
///   code, saturating to the largest finite value (the `saturate = 1` default; NaN stays NaN);
///   to INT4/UINT4: rounded half to even and clamped to the type's range (the onnx reference's
///   conversion).
/// VJP: the identity where the value is kept or only rounded to a narrower float (straight
/// through a float16 rounding) and from an integer type (an integer keeps its value in every
/// numeric type; this carries the straight-through gradient of quantized chains such as
/// MatMulInteger → Cast → Mul); zero from a float to an integer type (truncation is
/// piecewise constant) or to BOOL; none from BOOL (nil).
struct Cast: Kernel {
    let to: DataType
    let from: DataType

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let target: DataType
        if c.op == "CastLike" {
            guard c.has(1) else { throw c.fail("missing target_type input") }
            target = c.dtype(1)
        } else {
            guard let code = c.node.int("to") else { throw c.fail("missing attribute 'to'") }
            guard let t = DataType(rawValue: Int32(truncatingIfNeeded: code)), t.isNumeric || t == .bool else {
                throw c.fail("cannot cast to data type \(code)")
            }
            target = t
        }
        _ = try c.shape(0)
        return Cast(to: target, from: c.dtype(0))
    }

    /// One value converted to `type` (float32 representation of the result).
    static func convert(_ x: Float, to type: DataType) -> Float {
        switch type {
        case .float, .double: return x
        case .float16: return halfToFloat(floatToHalf(x))
        case .bfloat16: return bfloat16ToFloat(floatToBFloat16(x))
        case .bool: return x != 0 ? 1 : 0
        case .int8: return Float(Int8(truncatingIfNeeded: saturatingInt64(x)))
        case .uint8: return Float(UInt8(truncatingIfNeeded: saturatingInt64(x)))
        case .int16: return Float(Int16(truncatingIfNeeded: saturatingInt64(x)))
        case .uint16: return Float(UInt16(truncatingIfNeeded: saturatingInt64(x)))
        case .int32: return Float(Int32(truncatingIfNeeded: saturatingInt64(x)))
        case .uint32: return Float(UInt32(truncatingIfNeeded: saturatingInt64(x)))
        case .int64: return Float(saturatingInt64(x))
        case .uint64: return x < 0 ? Float(UInt64(truncatingIfNeeded: saturatingInt64(x))) : x.rounded(.towardZero)
        case .float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float4e2m1:
            return LowPrecisionGrid.nearest(x, type)
        case .int4: return x.isNaN ? 0 : min(7, max(-8, x.rounded(.toNearestOrEven)))
        case .uint4: return x.isNaN ? 0 : min(15, max(0, x.rounded(.toNearestOrEven)))
        case .string, .complex64, .complex128: return x
        }
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        if to == .float || to == .double || to == x.dtype { return [Value(shape: x.shape, data: x.data, dtype: to)] }
        var y = x.data
        for i in y.indices { y[i] = Self.convert(y[i], to: to) }
        return [Value(shape: x.shape, data: y, dtype: to)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        let rest = [[Float]?](repeating: nil, count: max(0, a.inputs.count - 1))
        if from == .bool { return [nil] + rest }
        if to == .bool || (from.isFloatingPoint && !to.isFloatingPoint) { return [.zeros(a.grad.count)] + rest }
        return [a.grad] + rest
    }
}

/// Float → bfloat16 bits, round to nearest even (NaN kept quiet).
func floatToBFloat16(_ f: Float) -> UInt16 {
    if f.isNaN { return 0x7FC0 }
    let bits = f.bitPattern
    let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
    return UInt16(truncatingIfNeeded: rounded >> 16)
}

/// The finite values of an 8-bit or 4-bit float type, sorted, for round-to-nearest-even
/// with saturation (``Cast``).
enum LowPrecisionGrid {
    struct Grid: Sendable {
        /// Ascending finite values, each with whether its code is even (the tie-break).
        var values: [Float]
        var even: [Bool]
    }

    static let grids: [DataType: Grid] = {
        var out: [DataType: Grid] = [:]
        for t in [DataType.float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz, .float4e2m1] {
            var pairs: [(Float, Bool)] = []
            let codes = t == .float4e2m1 ? 16 : 256
            for c in 0..<codes {
                let v = t == .float4e2m1 ? fourBitToDouble(UInt8(c), t) : float8ToDouble(UInt8(c), t)
                guard v.isFinite, !(v == 0 && v.sign == .minus) else { continue }
                pairs.append((Float(v), c % 2 == 0))
            }
            pairs.sort { $0.0 < $1.0 }
            out[t] = Grid(values: pairs.map(\.0), even: pairs.map(\.1))
        }
        return out
    }()

    static func nearest(_ x: Float, _ type: DataType) -> Float {
        guard let g = grids[type], let first = g.values.first, let last = g.values.last else { return x }
        if x.isNaN { return x }
        if x <= first { return first }
        if x >= last { return last }
        var lo = 0, hi = g.values.count - 1  // values[lo] ≤ x < values[hi]
        while hi - lo > 1 {
            let mid = (lo + hi) / 2
            if g.values[mid] <= x { lo = mid } else { hi = mid }
        }
        let a = g.values[lo], b = g.values[hi]
        if x - a < b - x { return a }
        if b - x < x - a { return b }
        return g.even[lo] ? a : b
    }
}
