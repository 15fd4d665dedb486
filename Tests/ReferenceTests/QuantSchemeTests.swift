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

    /// The static analysis's fused ΔW pass (``WeightQuantizer/error``: blocks on threads, no
    /// copy) equals Q(W) from ``WeightQuantizer/quantize`` minus W element for element, with
    /// serial float64 sums (1e-12 relative: only the order of the additions differs), the exact
    /// max|ΔW| and a naive channel spread; NaN and ±∞ included, 1, 2 and 8 workers bit-identical,
    /// the last axis (one element per unit) and a tensor of more than one block.
    @Test func fusedErrorPassEqualsQuantizeThenDifference() {
        var rng = TestRandom(seed: 21)
        let schemes: [WeightScheme] = [.int(bits: 8, granularity: .tensor), .int(bits: 8, granularity: .channel),
                                       .int(bits: 4, granularity: .channel), .float(.fp16), .float(.fp8e4m3), .float32]
        let shapes: [([Int], Int)] = [([3, 5, 7], 0), ([3, 5, 7], 1), ([3, 5, 7], 2), ([64, 3, 3, 3], 0), ([1030, 1020], 1), ([1020, 1030], 0), ([17], 0)]
        var checked = 0
        for (dims, axis) in shapes {
            let count = dims.reduce(1, *)
            var values = (0..<count).map { _ in Float(rng.gaussian() * 0.2) }
            if count > 100 { values[7] = .nan; values[count / 2] = .infinity; values[count - 3] = -.infinity }
            // The two tensors of more than one block (2²⁰ elements) with the integer schemes only (debug builds are slow).
            for scheme in count > 1 << 20 ? Array(schemes.prefix(2)) : schemes {
                let q = WeightQuantizer.quantize(values, dims: dims, scheme: scheme, axis: axis).values
                var f = 0.0, df = 0.0, mx = 0.0
                var expected = [Float](repeating: 0, count: count)
                for i in 0..<count {
                    let dv = Double(q[i]) - Double(values[i])
                    expected[i] = Float(dv)
                    f += Double(values[i]) * Double(values[i]); df += dv * dv; mx = max(mx, abs(dv))
                }
                var summaries: [WeightQuantizer.ErrorSummary] = []
                for workers in [1, 2, 8] {
                    var delta = [Float](repeating: -1, count: count)
                    let e = values.withUnsafeBufferPointer { v in
                        delta.withUnsafeMutableBufferPointer { d in WeightQuantizer.error(v, dims: dims, scheme: scheme, axis: axis, into: d, workers: workers) }
                    }
                    let same = zip(delta, expected).allSatisfy { $0.bitPattern == $1.bitPattern || ($0.isNaN && $1.isNaN) }
                    #expect(same, "\(dims) axis \(axis) \(scheme) workers \(workers)")
                    summaries.append(e)
                }
                let e = summaries[0]
                for other in summaries.dropFirst() {
                    #expect(other.frobenius.bitPattern == e.frobenius.bitPattern && other.deltaFrobenius.bitPattern == e.deltaFrobenius.bitPattern
                            && other.maxAbsError == e.maxAbsError && other.spread == e.spread, "\(dims) \(scheme): threads changed the sums")
                }
                func close(_ a: Double, _ b: Double) -> Bool { a == b || (a.isNaN && b.isNaN) || abs(a - b) <= 1e-12 * abs(b) }
                #expect(close(e.frobenius, f.squareRoot()) && close(e.deltaFrobenius, df.squareRoot()), "\(dims) \(scheme)")
                #expect(e.maxAbsError == mx, "\(dims) \(scheme)")
                // Naive spread: r_c = max |W_c| over the finite values of channel c.
                let n = dims[axis], inner = dims[(axis + 1)...].reduce(1, *)
                var r = [Float](repeating: 0, count: n)
                for i in 0..<count where values[i].isFinite { r[(i / inner) % n] = max(r[(i / inner) % n], abs(values[i])) }
                let nz = r.filter { $0 > 0 }
                let spread = n > 1 && nz.count > 1 ? Double(nz.max() ?? 0) / Double(nz.min() ?? 1) : nil
                #expect(e.spread == spread, "\(dims) axis \(axis)")
                checked += 1
            }
        }
        #expect(checked == (shapes.count - 2) * schemes.count + 2 * 2)
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
