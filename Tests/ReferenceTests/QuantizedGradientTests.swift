import Foundation
import ONNX
import Testing
@testable import Reference

/// The straight-through VJPs of the quantized ops (finite differences of a rounding map are
/// 0 or a jump, so these are checked against their definition instead): QuantizeLinear
/// has VJP 1/scale inside the type's range and 0 where it saturated, DequantizeLinear
/// scale, so Q→DQ passes the cotangent unchanged inside the range; quantized ops are
/// differentiated as the float op on the dequantized operands; and on whole models the
/// quantized graphs' input gradients agree with their float twin's.
struct QuantizedGradientTests {
    /// The full Jacobian (rows = output elements) of `output` with respect to `input`.
    static func jacobian(_ c: OpCase, feeds: [String: Value], input: String) throws -> (y: Value, jac: [Float]) {
        let graph = try c.graph()
        let engine = try Engine(graph: graph, output: c.checked ?? c.outputs[0], input: input)
        let trace = try engine.forward(feeds)
        let n = trace.result.count
        var eye = [Float](repeating: 0, count: n * n)
        for i in 0..<n { eye[i * n + i] = 1 }
        return (trace.result, try engine.vjp(trace, cotangents: eye, rows: n))
    }

    @Test func quantizeLinearIsOneOverScaleUntilItSaturates() throws {
        let c = OpCase(label: "Q", op: "QuantizeLinear", inputs: [("x", [6])],
                       constants: [floats("s", [], [0.5]), int8("z", [], [0])])
        let x: [Float] = [-70, -63.9, -1.2, 0.3, 63.4, 70]
        let (y, jac) = try Self.jacobian(c, feeds: ["x": Value(shape: [6], data: x)], input: "x")
        #expect(y.data == [-128, -128, -2, 1, 127, 127])
        #expect(y.dtype == .int8)
        let want: [Float] = [0, 2, 2, 2, 2, 0]
        for i in 0..<6 { for j in 0..<6 { #expect(jac[i * 6 + j] == (i == j ? want[i] : 0), "∂y\(i)/∂x\(j)") } }
    }

    @Test func dequantizeLinearIsTheScalePerAxis() throws {
        let c = OpCase(label: "DQ", op: "DequantizeLinear", inputs: [("q", [2, 3])],
                       constants: [floats("s", [3], [0.5, 2, 0.25]), floats("z", [3], [1, 0, -2])], attributes: ["axis": .int(1)])
        let (y, jac) = try Self.jacobian(c, feeds: ["q": Value(shape: [2, 3], data: [3, 4, 2, -1, 0, 6], dtype: .int8)], input: "q")
        #expect(y.data == [1, 8, 1, -1, 0, 2])
        for i in 0..<6 { #expect(jac[i * 6 + i] == [0.5, 2, 0.25][i % 3]) }
    }

    @Test func qlinearMatMulIsTheFloatProductOnDequantizedOperands() throws {
        // Requantization multiplier a_scale·b_scale/y_scale = 0.289: no product lands on a .5 tie.
        let (as_, bs, ys): (Float, Float, Float) = (0.1, 0.05, 0.0173)
        let b: [Float] = [3, -2, 1, 4, -5, 2]
        let c = OpCase(label: "QLinearMatMul", op: "QLinearMatMul", inputs: [("a", [2, 3])],
                       constants: [floats("as", [], [as_]), int8("az", [], [1]), int8("b", [3, 2], b.map { Int64($0) }),
                                   floats("bs", [], [bs]), int8("bz", [], [0]), floats("ys", [], [ys]), int8("yz", [], [0])],
                       order: ["a", "as", "az", "b", "bs", "bz", "ys", "yz"])
        let a: [Float] = [2, 0, 3, -1, 4, 1]
        let (y, jac) = try Self.jacobian(c, feeds: ["a": Value(shape: [2, 3], data: a, dtype: .int8)], input: "a")
        // ∂y[m, n]/∂a[m, k] = b[k, n]·a_scale·b_scale/y_scale (no element saturates here).
        for m in 0..<2 {
            for n in 0..<2 {
                var acc: Float = 0
                for k in 0..<3 { acc += (a[m * 3 + k] - 1) * b[k * 2 + n] }
                #expect(y.data[m * 2 + n] == (acc * as_ * bs / ys).rounded(.toNearestOrEven))
                for k in 0..<3 {
                    let want = b[k * 2 + n] * as_ * bs / ys
                    #expect(abs(jac[(m * 2 + n) * 6 + m * 3 + k] - want) <= 1e-5 * max(1, abs(want)))
                }
            }
        }
    }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("OpCases").path

    /// The input gradient of the first logit of an op-case model on its stored input.
    static func logitGradient(_ name: String) throws -> [Float] {
        let dir = folder + "/" + name
        let x = try TensorLoader.load(path: dir + "/test_data_set_0/input_0.pb")
        let graph = try ModelGraph(model: ModelLoader.load(path: dir + "/model.onnx"))
        let engine = try Engine(graph: graph)
        let trace = try engine.forward(Value(shape: x.dims, data: x.floats()))
        var e = [Float](repeating: 0, count: trace.result.count)
        e[0] = 1
        return try engine.vjp(trace, cotangents: e, rows: 1)
    }

    /// Two graph forms of the same static quantization of a CNN (QDQ: QuantizeLinear/
    /// DequantizeLinear around float ops; QOperator: QLinearConv, QLinearMatMul, QLinearAdd)
    /// must give the same straight-through input gradient (measured: equal to 1e-7). The
    /// float model is no reference here: 8-bit activations enter its max-pools (measured
    /// 0.32 apart on the stored input).
    @Test func staticQuantizationFormsAgree() throws {
        guard FileManager.default.fileExists(atPath: Self.folder + "/family_qcnn_qdq_static/model.onnx") else { return }
        let qdq = try Self.logitGradient("family_qcnn_qdq_static")
        let qop = try Self.logitGradient("family_qcnn_qoperator_static")
        #expect(Self.distance(qop, qdq) < 1e-5)
    }

    /// Dynamic quantization (DynamicQuantizeLinear → MatMulInteger / ConvInteger → Cast →
    /// Mul, activations float between the layers): the straight-through gradient follows the
    /// float model's up to the 8-bit weights (measured relative ℓ2 distances 0.006 and 0.009;
    /// a missing scale or a dropped path gives errors ≥ 0.5).
    @Test(arguments: ["family_qcnn_dynamic", "family_qcnn_dynamic_conv_and_matmul"])
    func dynamicQuantizationFollowsTheFloatModel(_ name: String) throws {
        guard FileManager.default.fileExists(atPath: Self.folder + "/family_qcnn_float/model.onnx") else { return }
        let float = try Self.logitGradient("family_qcnn_float")
        let quantized = try Self.logitGradient(name)
        #expect(Self.distance(quantized, float) < 0.05, "\(name)")
    }

    /// ‖a − b‖/‖b‖ (∞ for different lengths or b = 0).
    static func distance(_ a: [Float], _ b: [Float]) -> Float {
        let norm = b.map { $0 * $0 }.reduce(0, +).squareRoot()
        guard a.count == b.count, norm > 0 else { return .infinity }
        return zip(a, b).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot() / norm
    }
}

/// An INT8 constant (test fixtures for quantized types).
func int8(_ name: String, _ dims: [Int], _ values: [Int64]) -> Tensor {
    let bytes = values.map { Int8(clamping: $0) }
    let buf = OwnedBuffer(byteCount: bytes.count)
    bytes.withUnsafeBytes { src in
        if let base = src.baseAddress { buf.raw.baseAddress?.copyMemory(from: base, byteCount: src.count) }
    }
    return Tensor(name: name, dataType: .int8, dims: dims, storage: .folded,
                  bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf.raw)[0..<bytes.count]), owner: buf)
}
