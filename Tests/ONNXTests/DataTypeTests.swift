import Foundation
import KappaTestSupport
import ONNX
import Testing

/// One tensor written to a file and what the loader must give back.
struct StoredTensorCase: Sendable, CustomTestStringConvertible {
    var label: String
    var dataType: DataType
    var data: TensorData
    /// Values as Double (compared bit for bit; NaN matches NaN).
    var expected: [Double]
    /// Exact INT64 values where Double would round.
    var expectedInt64: [Int64]? = nil
    /// Exact little-endian bytes the tensor must expose (raw_data layout).
    var expectedBytes: [UInt8]? = nil

    var testDescription: String { label }
}

/// Independent IEEE 754 binary16 decoding (sign · 2^(e−15) · 1.m, subnormals m · 2^−24),
/// written from the standard, not from `halfToFloat`.
func referenceHalf(_ h: UInt16) -> Double {
    let sign: Double = h & 0x8000 != 0 ? -1 : 1
    let e = Int((h >> 10) & 0x1F), m = Double(h & 0x3FF)
    switch e {
    case 0: return sign * m * pow(2, -24)
    case 31: return m == 0 ? sign * .infinity : .nan
    default: return sign * (1 + m / 1024) * pow(2, Double(e - 15))
    }
}

/// Independent bfloat16 decoding: 1 sign, 8 exponent, 7 mantissa bits.
func referenceBFloat16(_ b: UInt16) -> Double {
    let sign: Double = b & 0x8000 != 0 ? -1 : 1
    let e = Int((b >> 7) & 0xFF), m = Double(b & 0x7F)
    switch e {
    case 0: return sign * m * pow(2, -133)
    case 255: return m == 0 ? sign * .infinity : .nan
    default: return sign * (1 + m / 128) * pow(2, Double(e - 127))
    }
}

/// Hand-checked binary16 patterns: 1, −2, smallest subnormal, largest finite, −0,
/// smallest normal, largest subnormal, 1/3 rounded, ±∞.
let halfPatterns: [(UInt16, Double)] = [
    (0x3C00, 1), (0xC000, -2), (0x0001, 0x1p-24), (0x7BFF, 65504), (0x8000, -0.0), (0x0400, 0x1p-14),
    (0x03FF, 1023 * 0x1p-24), (0x3555, 0.333251953125), (0x7C00, .infinity), (0xFC00, -.infinity),
]
/// Hand-checked bfloat16 patterns: 1, −2, π rounded, largest finite, smallest subnormal, −∞.
let bfloat16Patterns: [(UInt16, Double)] = [
    (0x3F80, 1), (0xC000, -2), (0x4049, 3.140625), (0x7F7F, 3.3895313892515355e38), (0x0001, 0x1p-133),
    (0xFF80, -.infinity),
]

let floatValues: [Float] = [1, -2.5, 0, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 3.14159, -1e-30]
let doubleValues: [Double] = [1, -2.5, 0, -0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, .pi, 1e300]
let int64Values: [Int64] = [.min, -1, 0, 1 << 53 + 1, .max]
let int32Values: [Int32] = [.min, -1, 0, 7, .max]

let storedTensorCases: [StoredTensorCase] = [
    .init(label: "FLOAT raw_data", dataType: .float, data: .raw(leBytes(floatValues)),
          expected: floatValues.map(Double.init), expectedBytes: leBytes(floatValues)),
    .init(label: "FLOAT float_data", dataType: .float, data: .floatData(floatValues),
          expected: floatValues.map(Double.init), expectedBytes: leBytes(floatValues)),
    .init(label: "DOUBLE raw_data", dataType: .double, data: .raw(leBytes(doubleValues)),
          expected: doubleValues, expectedBytes: leBytes(doubleValues)),
    .init(label: "DOUBLE double_data", dataType: .double, data: .doubleData(doubleValues),
          expected: doubleValues, expectedBytes: leBytes(doubleValues)),
    .init(label: "FLOAT16 raw_data", dataType: .float16, data: .raw(leBytes(halfPatterns.map(\.0))),
          expected: halfPatterns.map(\.1), expectedBytes: leBytes(halfPatterns.map(\.0))),
    .init(label: "FLOAT16 int32_data (bit patterns)", dataType: .float16,
          data: .int32Data(halfPatterns.map { Int32($0.0) }),
          expected: halfPatterns.map(\.1), expectedBytes: leBytes(halfPatterns.map(\.0))),
    .init(label: "BFLOAT16 raw_data", dataType: .bfloat16, data: .raw(leBytes(bfloat16Patterns.map(\.0))),
          expected: bfloat16Patterns.map(\.1), expectedBytes: leBytes(bfloat16Patterns.map(\.0))),
    .init(label: "BFLOAT16 int32_data (bit patterns)", dataType: .bfloat16,
          data: .int32Data(bfloat16Patterns.map { Int32($0.0) }),
          expected: bfloat16Patterns.map(\.1), expectedBytes: leBytes(bfloat16Patterns.map(\.0))),
    .init(label: "INT8 raw_data", dataType: .int8, data: .raw(leBytes([Int8.min, -1, 0, 1, .max])),
          expected: [-128, -1, 0, 1, 127], expectedBytes: [0x80, 0xFF, 0, 1, 0x7F]),
    .init(label: "INT8 int32_data", dataType: .int8, data: .int32Data([-128, -1, 0, 1, 127]),
          expected: [-128, -1, 0, 1, 127], expectedBytes: [0x80, 0xFF, 0, 1, 0x7F]),
    .init(label: "UINT8 raw_data", dataType: .uint8, data: .raw([0, 1, 200, 255]),
          expected: [0, 1, 200, 255], expectedBytes: [0, 1, 200, 255]),
    .init(label: "UINT8 int32_data", dataType: .uint8, data: .int32Data([0, 1, 200, 255]),
          expected: [0, 1, 200, 255], expectedBytes: [0, 1, 200, 255]),
    .init(label: "INT16 raw_data", dataType: .int16, data: .raw(leBytes([Int16.min, -1, 0, 300, .max])),
          expected: [-32768, -1, 0, 300, 32767], expectedBytes: leBytes([Int16.min, -1, 0, 300, .max])),
    .init(label: "INT16 int32_data", dataType: .int16, data: .int32Data([-32768, -1, 0, 300, 32767]),
          expected: [-32768, -1, 0, 300, 32767], expectedBytes: leBytes([Int16.min, -1, 0, 300, .max])),
    .init(label: "INT32 raw_data", dataType: .int32, data: .raw(leBytes(int32Values)),
          expected: int32Values.map(Double.init), expectedInt64: int32Values.map(Int64.init),
          expectedBytes: leBytes(int32Values)),
    .init(label: "INT32 int32_data", dataType: .int32, data: .int32Data(int32Values),
          expected: int32Values.map(Double.init), expectedInt64: int32Values.map(Int64.init),
          expectedBytes: leBytes(int32Values)),
    .init(label: "INT64 raw_data", dataType: .int64, data: .raw(leBytes(int64Values)),
          expected: int64Values.map(Double.init), expectedInt64: int64Values, expectedBytes: leBytes(int64Values)),
    .init(label: "INT64 int64_data", dataType: .int64, data: .int64Data(int64Values),
          expected: int64Values.map(Double.init), expectedInt64: int64Values, expectedBytes: leBytes(int64Values)),
    .init(label: "BOOL raw_data", dataType: .bool, data: .raw([0, 1, 1, 0]),
          expected: [0, 1, 1, 0], expectedBytes: [0, 1, 1, 0]),
    .init(label: "BOOL int32_data", dataType: .bool, data: .int32Data([0, 1, 1, 0]),
          expected: [0, 1, 1, 0], expectedBytes: [0, 1, 1, 0]),
] + float8Cases + fourBitCases

/// Hand-decoded 8-bit float codes (ONNX technical/float8.md): value = (−1)^S · 2^(E − bias) ·
/// (1 + M/2^m), subnormals (E = 0) (−1)^S · 2^(1 − bias) · M/2^m.
let float8Patterns: [(DataType, [(UInt8, Double)])] = [
    // E4M3FN, bias 7: 0.0111.000 = 1; 0.0111.100 = 1.5; 1.1000.000 = −2; 0.1111.110 = 1.75·2⁸ = 448;
    // 0.0000.001 = 2⁻⁶·1/8 = 2⁻⁹; 0.0000.111 = 7·2⁻⁹; 0.0001.000 = 2⁻⁶; 1.0000.000 = −0;
    // S.1111.111 = NaN (no infinities).
    (.float8e4m3fn, [(0x38, 1), (0x3C, 1.5), (0xC0, -2), (0x7E, 448), (0x01, 0x1p-9), (0x07, 7 * 0x1p-9),
                     (0x08, 0x1p-6), (0x80, -0.0), (0x7F, .nan), (0xFF, .nan), (0x00, 0)]),
    // E4M3FNUZ, bias 8: 0.1000.000 = 1; 0.1111.111 = 1.875·2⁷ = 240 (exponent 15 is ordinary);
    // 0.0000.001 = 2⁻⁷/8 = 2⁻¹⁰; 0x80 (the would-be −0) = NaN; 1.1111.111 = −240.
    (.float8e4m3fnuz, [(0x40, 1), (0x7F, 240), (0x01, 0x1p-10), (0x80, .nan), (0xFF, -240), (0x00, 0)]),
    // E5M2, bias 15: 0.01111.00 = 1; 0.11110.11 = 1.75·2¹⁵ = 57344; 0.11111.00 = +∞; 1.11111.00 = −∞;
    // 0.11111.01 = NaN; 0.00000.01 = 2⁻¹⁴/4 = 2⁻¹⁶; 0.00001.00 = 2⁻¹⁴; 1.00000.00 = −0.
    (.float8e5m2, [(0x3C, 1), (0x7B, 57344), (0x7C, .infinity), (0xFC, -.infinity), (0x7D, .nan), (0x01, 0x1p-16),
                   (0x04, 0x1p-14), (0x80, -0.0), (0xC2, -3)]),
    // E5M2FNUZ, bias 16: 0.10000.00 = 1; 0.11111.11 = 1.75·2¹⁵ = 57344; 0x80 = NaN; 0.00000.01 = 2⁻¹⁵/4 = 2⁻¹⁷.
    (.float8e5m2fnuz, [(0x40, 1), (0x7F, 57344), (0x80, .nan), (0x01, 0x1p-17), (0xFF, -57344), (0x00, 0)]),
]

/// Independent decoding of every 8-bit float code from the spec's table construction
/// (sign, exponent and mantissa fields by division, special codes listed per type).
func referenceFloat8(_ code: UInt8, _ type: DataType) -> Double {
    let (e, bias): (Int, Int) = switch type {
    case .float8e4m3fn: (4, 7)
    case .float8e4m3fnuz: (4, 8)
    case .float8e5m2: (5, 15)
    default: (5, 16)
    }
    let m = 7 - e
    let c = Int(code)
    let sign: Double = c >= 128 ? -1 : 1
    let field = c % 128
    let ef = field / (1 << m), mf = field % (1 << m)
    switch type {
    case .float8e4m3fn where field == 127: return .nan
    case .float8e5m2 where ef == 31: return mf == 0 ? sign * .infinity : .nan
    case .float8e4m3fnuz, .float8e5m2fnuz: if c == 128 { return .nan }
    default: break
    }
    if ef == 0 { return sign * Double(mf) / Double(1 << m) * pow(2, Double(1 - bias)) }
    return sign * (1 + Double(mf) / Double(1 << m)) * pow(2, Double(ef - bias))
}

let float8Cases: [StoredTensorCase] = float8Patterns.flatMap { (type, patterns) -> [StoredTensorCase] in
    let codes = patterns.map(\.0)
    return [
        .init(label: "\(type) raw_data", dataType: type, data: .raw(codes), expected: patterns.map(\.1), expectedBytes: codes),
        .init(label: "\(type) int32_data (bit patterns)", dataType: type, data: .int32Data(codes.map { Int32($0) }),
              expected: patterns.map(\.1), expectedBytes: codes),
    ]
}

/// 4-bit types, two per byte, element 2k in the low nibble (ONNX int4.md, float4.md):
/// INT4 −8, 7, −1, 0, 3 → nibbles 8, 7, F, 0, 3 → bytes 0x78, 0x0F, 0x03 (odd count: the last
/// high nibble is padding); UINT4 1, 15, 2 → 0xF1, 0x02; FLOAT4E2M1 (bias 1, no ∞/NaN)
/// 0.001 = 0.5, 0.111 = 1.5·2² = 6, 1.010 = −1, 1.000 = −0 → 0x71, 0x8A.
let fourBitCases: [StoredTensorCase] = [
    .init(label: "INT4 raw_data (odd count)", dataType: .int4, data: .raw([0x78, 0x0F, 0x03]),
          expected: [-8, 7, -1, 0, 3], expectedBytes: [0x78, 0x0F, 0x03]),
    .init(label: "INT4 int32_data (packed pairs)", dataType: .int4, data: .int32Data([0x78, 0x0F, 0x03]),
          expected: [-8, 7, -1, 0, 3], expectedBytes: [0x78, 0x0F, 0x03]),
    .init(label: "UINT4 raw_data", dataType: .uint4, data: .raw([0xF1, 0x02]), expected: [1, 15, 2, 0],
          expectedBytes: [0xF1, 0x02]),
    .init(label: "UINT4 int32_data (odd count)", dataType: .uint4, data: .int32Data([0xF1, 0x02]), expected: [1, 15, 2],
          expectedBytes: [0xF1, 0x02]),
    .init(label: "FLOAT4E2M1 raw_data", dataType: .float4e2m1, data: .raw([0x71, 0x8A]), expected: [0.5, 6, -1, -0.0],
          expectedBytes: [0x71, 0x8A]),
    .init(label: "FLOAT4E2M1 int32_data", dataType: .float4e2m1, data: .int32Data([0x71, 0x8A]), expected: [0.5, 6, -1, -0.0],
          expectedBytes: [0x71, 0x8A]),
]

func sameDouble(_ a: Double, _ b: Double) -> Bool { a.isNaN ? b.isNaN : a.bitPattern == b.bitPattern }

@Suite("Loader: data types")
struct DataTypeTests {
    @Test("each data type from raw_data and from its typed field", arguments: storedTensorCases)
    func storedTensor(_ c: StoredTensorCase) throws {
        let spec = model(initializers: [TensorSpec(name: "w", dataType: c.dataType.rawValue,
                                                   dims: [Int64(c.expected.count)], data: c.data)])
        let m = try roundTrip(spec)
        let t = try #require(m.graph.initializers.first)
        #expect(t.name == "w")
        #expect(t.dataType == c.dataType)
        #expect(t.dims == [c.expected.count])
        #expect(t.storage == .initializer)
        #expect(t.byteCount == c.dataType.byteCount(elements: c.expected.count))
        let got = t.doubles()
        #expect(got.count == c.expected.count)
        for (i, (g, e)) in zip(got, c.expected).enumerated() {
            #expect(sameDouble(g, e), "element \(i): got \(g), wrote \(e)")
        }
        if let ints = c.expectedInt64 { #expect(t.int64s() == ints) }
        if let bytes = c.expectedBytes { #expect(t.withUnsafeBytes { Array($0) } == bytes) }
    }

    @Test("16-bit patterns decode to their hand-checked values")
    func handCheckedPatterns() {
        for (bits, value) in halfPatterns {
            #expect(sameDouble(referenceHalf(bits), value), "reference half 0x\(String(bits, radix: 16))")
            #expect(sameDouble(Double(halfToFloat(bits)), value), "halfToFloat 0x\(String(bits, radix: 16))")
        }
        for (bits, value) in bfloat16Patterns {
            #expect(sameDouble(referenceBFloat16(bits), value), "reference bfloat16 0x\(String(bits, radix: 16))")
            #expect(sameDouble(Double(bfloat16ToFloat(bits)), value), "bfloat16ToFloat 0x\(String(bits, radix: 16))")
        }
        #expect(halfToFloat(0x7E00).isNaN)
        #expect(bfloat16ToFloat(0x7FC0).isNaN)
    }

    @Test("all 65,536 binary16 and bfloat16 patterns match the independent decoders")
    func exhaustive16Bit() {
        var halfMismatch = 0, bfMismatch = 0, roundTripMismatch = 0
        for b in 0...UInt16.max {
            if !sameDouble(Double(halfToFloat(b)), referenceHalf(b)) { halfMismatch += 1 }
            if !sameDouble(Double(bfloat16ToFloat(b)), referenceBFloat16(b)) { bfMismatch += 1 }
            // floatToHalf inverts halfToFloat on every non-NaN pattern.
            let f = halfToFloat(b)
            if !f.isNaN && floatToHalf(f) != b { roundTripMismatch += 1 }
        }
        #expect(halfMismatch == 0)
        #expect(bfMismatch == 0)
        #expect(roundTripMismatch == 0)
    }

    @Test("floatToHalf rounds to nearest even, overflows to ∞ and underflows to 0")
    func floatToHalfRounding() {
        #expect(floatToHalf(1 + 0x1p-11) == 0x3C00)      // tie → even mantissa 0
        #expect(floatToHalf(1 + 3 * 0x1p-11) == 0x3C02)  // tie → even mantissa 2
        #expect(floatToHalf(65519) == 0x7BFF)
        #expect(floatToHalf(65520) == 0x7C00)
        #expect(floatToHalf(-1e10) == 0xFC00)
        #expect(floatToHalf(0x1p-25) == 0x0000)          // tie between 0 and 2^-24 → 0
        #expect(floatToHalf(1.5 * 0x1p-25) == 0x0001)
        #expect(floatToHalf(-0.0) == 0x8000)
        #expect(floatToHalf(.nan) & 0x7C00 == 0x7C00 && floatToHalf(.nan) & 0x3FF != 0)
    }

    @Test("all 256 codes of the four 8-bit float types match the independent decoder")
    func exhaustiveFloat8() {
        for type in [DataType.float8e4m3fn, .float8e4m3fnuz, .float8e5m2, .float8e5m2fnuz] {
            var mismatch = 0, nans = 0
            for c in 0...UInt8.max {
                let v = float8ToDouble(c, type)
                if !sameDouble(v, referenceFloat8(c, type)) { mismatch += 1 }
                if v.isNaN { nans += 1 }
            }
            #expect(mismatch == 0, "\(type)")
            // E4M3FN: 2 NaN codes; E5M2: 6 (±∞ are not NaN); the FNUZ types: only 0x80.
            #expect(nans == [DataType.float8e4m3fn: 2, .float8e5m2: 6][type, default: 1], "\(type)")
        }
        for (type, patterns) in float8Patterns {
            for (c, v) in patterns { #expect(sameDouble(float8ToDouble(c, type), v), "\(type) 0x\(String(c, radix: 16))") }
        }
        #expect((0...15).map { fourBitToDouble(UInt8($0), .float4e2m1) } == [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.0, -0.5, -1, -1.5, -2, -3, -4, -6])
        #expect((0...15).map { fourBitToDouble(UInt8($0), .int4) } == [0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1])
        #expect((0...15).map { fourBitToDouble(UInt8($0), .uint4) } == (0...15).map(Double.init))
    }

    @Test("byte sizes: whole bytes per element, ⌈count/2⌉ for the packed 4-bit types")
    func byteSizes() {
        #expect(DataType.float8e4m3fn.byteSize == 1 && DataType.float8e5m2fnuz.byteSize == 1)
        for t in [DataType.int4, .uint4, .float4e2m1] {
            #expect(t.byteSize == nil && t.isPacked4Bit && t.bitWidth == 4)
            #expect([0, 1, 2, 3, 7, 8].map { t.byteCount(elements: $0) } == [0, 1, 1, 2, 4, 4])
        }
        #expect(DataType.float.byteCount(elements: 3) == 12)
        #expect(DataType.string.byteCount(elements: 3) == nil)
        #expect(DataType(rawValue: 23) == .float4e2m1 && DataType(rawValue: 24) == nil)
        #expect(DataType.float8e4m3fn.isFloatingPoint && DataType.float4e2m1.isFloatingPoint && !DataType.int4.isFloatingPoint)
        #expect(DataType.float8e5m2.description == "FLOAT8E5M2" && DataType.int4.description == "INT4")
    }

    @Test("scalars and empty tensors load")
    func scalarsAndEmpty() throws {
        let m = try roundTrip(model(initializers: [
            .float("scalar", dims: [], values: [42]),
            TensorSpec(name: "empty", dataType: DataType.float.rawValue, dims: [0, 3], data: .raw([])),
            TensorSpec(name: "emptyTyped", dataType: DataType.int64.rawValue, dims: [2, 0], data: .int64Data([])),
        ]))
        let byName = Dictionary(uniqueKeysWithValues: m.graph.initializers.map { ($0.name, $0) })
        #expect(byName["scalar"]?.dims == [])
        #expect(byName["scalar"]?.floats() == [42])
        #expect(byName["empty"]?.count == 0)
        #expect(byName["empty"]?.dims == [0, 3])
        #expect(byName["emptyTyped"]?.int64s() == [])
    }

    @Test("UINT16, UINT32 and UINT64 typed fields")
    func unsignedWide() throws {
        let m = try roundTrip(model(initializers: [
            TensorSpec(name: "u16", dataType: DataType.uint16.rawValue, dims: [3], data: .int32Data([0, 1, 65535])),
            TensorSpec(name: "u32", dataType: DataType.uint32.rawValue, dims: [2], data: .uint64Data([7, 4_294_967_295])),
            TensorSpec(name: "u64", dataType: DataType.uint64.rawValue, dims: [2], data: .uint64Data([3, 1 << 40])),
        ]))
        let byName = Dictionary(uniqueKeysWithValues: m.graph.initializers.map { ($0.name, $0) })
        #expect(byName["u16"]?.doubles() == [0, 1, 65535])
        #expect(byName["u32"]?.doubles() == [7, 4_294_967_295])
        #expect(byName["u64"]?.doubles() == [3, 0x1p40])
    }

    @Test("NaN and ±∞ weights load and are counted, not rejected")
    func nonFinite() throws {
        let spec = model(initializers: [
            .float("w", dims: [5], values: [1, .nan, .infinity, -.infinity, 2]),
            TensorSpec(name: "h", dataType: DataType.float16.rawValue, dims: [3], data: .raw(leBytes([UInt16(0x7E00), 0x3C00, 0xFC00]))),
            TensorSpec(name: "d", dataType: DataType.double.rawValue, dims: [2], data: .doubleData([.nan, 1])),
            .int64("i", dims: [2], values: [1, 2]),
        ], inputs: [ValueInfoSpec("x", shape: [5])],
           outputs: [ValueInfoSpec("y", shape: [5])])
        var s = spec
        s.graph?.nodes = [NodeSpec("Mul", name: "mul", inputs: ["x", "w"], outputs: ["y"])]
        let g = try prepared(s)
        #expect(g.constants["w"]?.nonFiniteCount() == 3)
        #expect(g.constants["h"]?.nonFiniteCount() == 2)
        #expect(g.constants["d"]?.nonFiniteCount() == 1)
        #expect(g.constants["i"]?.nonFiniteCount() == 0)
        #expect(g.shapes["y"] == [5])
    }

    @Test("typed fields with the wrong element count are refused, naming tensor and field",
          arguments: [
              (DataType.float, TensorData.floatData([1, 2]), "float_data"),
              (DataType.double, TensorData.doubleData([1]), "double_data"),
              (DataType.int64, TensorData.int64Data([1, 2, 3, 4]), "int64_data"),
              (DataType.int32, TensorData.int32Data([]), "int32_data"),
              (DataType.float16, TensorData.int32Data([1]), "int32_data"),
              (DataType.float, TensorData.none, "float_data"),
              (DataType.int8, TensorData.raw([1, 2]), "raw_data"),
              // 3 INT4 elements take ⌈3/2⌉ = 2 bytes: one byte per element (3) or 1 byte is wrong.
              (DataType.int4, TensorData.raw([1, 2, 3]), "raw_data"),
              (DataType.uint4, TensorData.raw([1]), "raw_data"),
              (DataType.int4, TensorData.int32Data([1, 2, 3]), "int32_data"),
              (DataType.float8e4m3fn, TensorData.raw([1, 2]), "raw_data"),
              (DataType.float8e5m2, TensorData.int32Data([1]), "int32_data"),
          ])
    func typedFieldCount(_ dtype: DataType, _ data: TensorData, _ field: String) throws {
        let (error, path) = try loadError(model(initializers: [
            TensorSpec(name: "weights_7", dataType: dtype.rawValue, dims: [3], data: data),
        ]))
        expectError(error, "dataSizeMismatch", path: path, naming: ["weights_7", field])
    }
}

@Test("SeededRandom.gaussians equals repeated gaussian() calls and leaves the same state")
func seededGaussiansMatch() {
    var a = SeededRandom(seed: 9), b = SeededRandom(seed: 9)
    let fast = a.gaussians(1000, scale: 0.3)
    let slow = (0..<1000).map { _ in Float(b.gaussian() * 0.3) }
    #expect(fast == slow)
    #expect(a.next() == b.next())
    #expect(a.gaussians(0).isEmpty)
}
