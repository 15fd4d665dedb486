import Foundation
import ONNX

/// A floating-point storage format Q rounds to (DESIGN.md §1.10): round to nearest, ties to
/// even, saturating to the largest finite value (the `saturate = 1` of ONNX's float8 casts;
/// float16/bfloat16 are clamped the same way, as onnxconverter-common's fp16 conversion does,
/// instead of overflowing to ∞).
public enum FloatFormat: String, Sendable, CaseIterable, Codable {
    case fp16, bf16
    case fp8e4m3 = "fp8-e4m3"
    case fp8e5m2 = "fp8-e5m2"

    /// Stored mantissa bits m (precision m + 1).
    public var mantissaBits: Int {
        switch self { case .fp16: return 10; case .bf16: return 7; case .fp8e4m3: return 3; case .fp8e5m2: return 2 }
    }
    /// The exponent of the smallest normal number.
    public var minExponent: Int {
        switch self { case .fp16: return -14; case .bf16: return -126; case .fp8e4m3: return -6; case .fp8e5m2: return -14 }
    }
    /// The largest finite value (e4m3fn: 1.75·2⁸, its top code being NaN).
    public var maxFinite: Double {
        switch self {
        case .fp16: return 65504
        case .bf16: return Double(Float(bitPattern: 0x7F7F_0000))
        case .fp8e4m3: return 448
        case .fp8e5m2: return 57344
        }
    }
    /// The ONNX type (for the engine's Cast in the simulation).
    public var dataType: DataType {
        switch self { case .fp16: return .float16; case .bf16: return .bfloat16; case .fp8e4m3: return .float8e4m3fn; case .fp8e5m2: return .float8e5m2 }
    }
    /// u = 2^−(m+1): |R(v) − v| ≤ u·|v| for |v| in the normal range.
    public var unitRoundoff: Double { Double(sign: .plus, exponent: -(mantissaBits + 1), significand: 1) }
    /// η = half the subnormal spacing 2^(e_min − m − 1): |R(v) − v| ≤ η below the normal range.
    public var subnormalHalfStep: Double { Double(sign: .plus, exponent: minExponent - mantissaBits - 1, significand: 1) }

    /// R(x): the nearest value of the format (ties to the even significand), saturated to
    /// ±`maxFinite`; NaN stays NaN. Exact: x/q is a float64 scaling by a power of two and
    /// rounding it to an integer is exact, for q = 2^(max(e, e_min) − m), e = ⌊log₂|x|⌋.
    public func round(_ x: Float) -> Float {
        guard x.isFinite else { return x.isNaN ? x : Float(x < 0 ? -maxFinite : maxFinite) }
        if x == 0 { return x }
        let d = Double(x)
        let e = max(Int(d.exponent), minExponent)
        let q = Double(sign: .plus, exponent: e - mantissaBits, significand: 1)
        var r = (d / q).rounded(.toNearestOrEven) * q
        if r > maxFinite { r = maxFinite } else if r < -maxFinite { r = -maxFinite }
        return Float(r)
    }
}

/// Per tensor (one scale) or per output channel (one scale per slice of the output-channel axis).
public enum Granularity: String, Sendable, Codable { case tensor, channel }

/// How a layer's weight is stored: kept in float32, symmetric integers of `bits` bits with the
/// onnxruntime quantizer's ranges (int8 [−127, 127], int4 [−8, 7]), or a float format.
public enum WeightScheme: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    case float32
    case int(bits: Int, granularity: Granularity)
    case float(FloatFormat)

    /// `fp32`/`none`, `int8`, `int8-channel`, `int4`, `int4-channel` (`-tensor` also accepted),
    /// `fp16`, `bf16`, `fp8-e4m3` (`fp8-e4m3fn`), `fp8-e5m2`.
    public init?(parsing s: String) {
        let t = s.lowercased()
        switch t {
        case "fp32", "float32", "none": self = .float32
        case "int8", "int8-tensor": self = .int(bits: 8, granularity: .tensor)
        case "int8-channel": self = .int(bits: 8, granularity: .channel)
        case "int4", "int4-tensor": self = .int(bits: 4, granularity: .tensor)
        case "int4-channel": self = .int(bits: 4, granularity: .channel)
        case "fp8-e4m3fn": self = .float(.fp8e4m3)
        default:
            guard let f = FloatFormat(rawValue: t) else { return nil }
            self = .float(f)
        }
    }

    public static let names = "fp32, int8, int8-channel, int4, int4-channel, fp16, bf16, fp8-e4m3, fp8-e5m2"

    public var description: String {
        switch self {
        case .float32: return "fp32"
        case let .int(bits, g): return "int\(bits)\(g == .channel ? "-channel" : "")"
        case let .float(f): return f.rawValue
        }
    }

    /// The ordering of `kappa quant --max-error`'s plan: a layer is raised one step at a time.
    public var higher: WeightScheme? {
        switch self {
        case .float32: return nil
        case .int(4, .tensor): return .int(bits: 4, granularity: .channel)
        case .int(4, .channel), .int(8, .tensor): return .int(bits: 8, granularity: .channel)
        case .int: return .float(.fp16)
        case .float(.fp8e4m3), .float(.fp8e5m2), .float(.bf16): return .float(.fp16)
        case .float(.fp16): return .float32
        }
    }

    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let v = WeightScheme(parsing: s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown weight scheme '\(s)' (one of \(Self.names))"))
        }
        self = v
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// How the input of a weight layer is rounded before the layer reads it: kept, per-tensor
/// asymmetric integers with the scale and zero point onnxruntime computes from a range
/// [lo, hi] (uint8 [0, 255], int8 [−128, 127]), or a float format.
public enum ActivationScheme: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
    case float32
    case int(signed: Bool)
    case float(FloatFormat)

    public init?(parsing s: String) {
        let t = s.lowercased()
        switch t {
        case "fp32", "float32", "none": self = .float32
        case "int8": self = .int(signed: true)
        case "uint8": self = .int(signed: false)
        case "fp8-e4m3fn": self = .float(.fp8e4m3)
        default:
            guard let f = FloatFormat(rawValue: t) else { return nil }
            self = .float(f)
        }
    }

    public static let names = "fp32, int8, uint8, fp16, bf16, fp8-e4m3, fp8-e5m2"

    public var description: String {
        switch self {
        case .float32: return "fp32"
        case let .int(signed): return signed ? "int8" : "uint8"
        case let .float(f): return f.rawValue
        }
    }

    public var higher: ActivationScheme? {
        switch self {
        case .float32: return nil
        case .int, .float(.fp8e4m3), .float(.fp8e5m2), .float(.bf16): return .float(.fp16)
        case .float(.fp16): return .float32
        }
    }

    public init(from decoder: Decoder) throws {
        let s = try decoder.singleValueContainer().decode(String.self)
        guard let v = ActivationScheme(parsing: s) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown activation scheme '\(s)' (one of \(Self.names))"))
        }
        self = v
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
