import Foundation
import ONNX
import Sensitivity
import Testing
@testable import Reference

/// Q(W) of every scheme (DESIGN.md §1.10) against onnxruntime's quantizer and onnx's reference
/// float8 quantizer (values made once by scripts/make_quant_refs.py and
/// scripts/make_quant_refs_fp8.py, committed in QuantRefs/), and against closed forms.
struct QuantSchemeTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("QuantRefs")

    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: folder.appendingPathComponent(name))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    static func floats(_ v: Any?) -> [Float] { (v as? [NSNumber] ?? []).map { Float($0.doubleValue) } }
    static func ints(_ v: Any?) -> [Int] { (v as? [NSNumber] ?? []).map { $0.intValue } }

    /// Scales, zero points and codes bit for bit equal to onnxruntime's `quantize_data`
    /// (which quantize_static writes), per tensor and per channel, int8/uint8/int4, ties included.
    @Test func integerWeightsMatchOnnxruntime() throws {
        let doc = try Self.json("quant_refs.json")
        let tensors = try #require(doc["tensors"] as? [[String: Any]])
        var checked = 0
        for t in tensors {
            let dims = Self.ints(t["shape"]), values = Self.floats(t["values"])
            let schemes = try #require(t["schemes"] as? [String: [String: Any]])
            for (name, s) in schemes {
                let bits = (s["dtype"] as? String) == "int4" ? 4 : 8
                let symmetric = s["symmetric"] as? Bool ?? true
                let perChannel = s["axis"] is NSNumber
                let expectedQ = Self.ints(s["q"])
                let (scales, zps): ([Float], [Int]) = perChannel ? (Self.floats(s["scale"]), Self.ints(s["zero_point"]))
                    : ([Float((s["scale"] as? NSNumber)?.doubleValue ?? .nan)], [(s["zero_point"] as? NSNumber)?.intValue ?? -999])
                if symmetric {
                    let r = WeightQuantizer.quantize(values, dims: dims, scheme: .int(bits: bits, granularity: perChannel ? .channel : .tensor), axis: 0)
                    #expect(r.codes == expectedQ, "\(t["name"] ?? "")/\(name)")
                    #expect(r.grids.map(\.scale) == scales, "\(t["name"] ?? "")/\(name)")
                    #expect(r.grids.map(\.zeroPoint) == zps, "\(t["name"] ?? "")/\(name)")
                    // Q(W) = (q − zp)·scale in float32.
                    for i in values.indices {
                        let c = perChannel ? i / (values.count / dims[0]) : 0
                        #expect(r.values[i] == Float(expectedQ[i] - zps[c]) * scales[c])
                    }
                } else {
                    // uint8 asymmetric (weights of QUInt8 models; the activation grid's formula).
                    let g = IntegerGrid(lo: Double(values.min() ?? 0), hi: Double(values.max() ?? 0), qmin: 0, qmax: 255, symmetric: false)
                    #expect(g.scale == scales[0] && g.zeroPoint == zps[0], "\(name)")
                    #expect(values.map(g.quantize) == expectedQ, "\(name)")
                }
                checked += 1
            }
            let fp16 = WeightQuantizer.quantize(values, dims: dims, scheme: .float(.fp16), axis: 0).values
            #expect(fp16 == Self.floats((t["float16"] as? [String: Any])?["values"]))
            let bf16 = WeightQuantizer.quantize(values, dims: dims, scheme: .float(.bf16), axis: 0).values
            #expect(bf16 == Self.floats((t["bfloat16"] as? [String: Any])?["values"]))
        }
        #expect(checked == 16)
    }

    /// float8 e4m3fn / e5m2 (round to nearest even, saturating) equal onnx's reference
    /// QuantizeLinear(saturate=1), on normals, subnormals, ties and values beyond the range.
    @Test(arguments: [FloatFormat.fp8e4m3, .fp8e5m2])
    func float8MatchesOnnxReference(_ f: FloatFormat) throws {
        let doc = try Self.json("quant_refs_fp8.json")
        let fp8 = try #require(doc["float8"] as? [String: Any])
        let x = Self.floats(fp8["values"]), expected = Self.floats(fp8[f.rawValue])
        #expect(x.count == expected.count && x.count > 80)
        for (v, e) in zip(x, expected) { #expect(f.round(v) == e, "\(f.rawValue)(\(v))") }
    }

    /// Activation grids from a range: scale and zero point of onnxruntime's compute_scale_zp,
    /// codes of quantize_nparray (inside the range, saturating outside it, exact ties).
    @Test func activationGridsMatchOnnxruntime() throws {
        let doc = try Self.json("quant_refs_fp8.json")
        let cases = try #require(doc["activations"] as? [[String: Any]])
        #expect(cases.count == 4)
        for c in cases {
            let lo = (c["lo"] as? NSNumber)?.doubleValue ?? .nan, hi = (c["hi"] as? NSNumber)?.doubleValue ?? .nan
            let signed = (c["dtype"] as? String) == "int8"
            let g = IntegerGrid(lo: lo, hi: hi, qmin: signed ? -128 : 0, qmax: signed ? 127 : 255, symmetric: false)
            // Float: Foundation's JSON parser on Linux can miss the last bit of a double.
            #expect(g.scale == Float((c["scale"] as? NSNumber)?.doubleValue ?? .nan))
            #expect(g.zeroPoint == (c["zero_point"] as? NSNumber)?.intValue)
            let x = Self.floats(c["values"])
            #expect(x.map(g.quantize) == Self.ints(c["q"]), "\(c["name"] ?? "")")
            #expect(x.map { g.dequantize(g.quantize($0)) } == Self.floats(c["dequantized"]))
        }
    }

    /// Closed forms: |Q(w) − w| ≤ scale/2 on a symmetric grid (no saturation: the absmax maps to
    /// ±127 exactly), Q of a multiple of the scale is exact, ties go to the even code.
    @Test func integerClosedForm() {
        var rng = TestRandom(seed: 11)
        let values = (0..<300).map { _ in Float(rng.gaussian() * 0.3) }
        let r = WeightQuantizer.quantize(values, dims: [10, 30], scheme: .int(bits: 8, granularity: .channel), axis: 0)
        for c in 0..<10 {
            let row = values[(c * 30)..<(c * 30 + 30)]
            let absmax = row.map(abs).max() ?? 0
            #expect(r.grids[c].scale == Float(Double(absmax) * 2 / 254))
            for i in (c * 30)..<(c * 30 + 30) {
                #expect(abs(Double(r.values[i]) - Double(values[i])) <= Double(r.grids[c].scale) / 2 * (1 + 1e-6))
                #expect(abs(r.codes[i]) <= 127)
            }
        }
        let g = IntegerGrid(scale: 0.5, zeroPoint: 0, qmin: -127, qmax: 127)
        #expect([0.25, 0.75, -0.25, -0.75, 1.25, 3.0, 100, -200].map(g.quantize) == [0, 2, 0, -2, 2, 6, 127, -127])
    }

    /// fp16 equals Swift's own Float16 conversion (IEEE round to nearest even) in range and
    /// saturates beyond it; bf16 and the float8 formats equal the engine's Cast (an independent
    /// implementation: the float8 grid of every code, or the bfloat16 bit trick) on a sweep; the
    /// relative error is at most u in the normal range.
    @Test(arguments: FloatFormat.allCases)
    func floatFormatsClosedForm(_ f: FloatFormat) {
        var rng = TestRandom(seed: 12)
        for k in 0..<4000 {
            let scale = Double(sign: .plus, exponent: (k % 40) - 25, significand: 1)
            let x = Float(rng.gaussian() * scale)
            let r = f.round(x)
            if Double(abs(x)) < f.maxFinite {
                #expect(r == Cast.convert(x, to: f.dataType), "\(f.rawValue)(\(x))")
                if f == .fp16 { #expect(r == Float(Float16(x))) }
                let err = abs(Double(r) - Double(x))
                #expect(err <= max(f.unitRoundoff * Double(abs(x)), f.subnormalHalfStep))
            } else {
                #expect(abs(Double(r)) == f.maxFinite)
            }
        }
        #expect(f.round(Float(f.maxFinite) * 4) == Float(f.maxFinite))
        #expect(f.round(-.infinity) == -Float(f.maxFinite))
    }
}
