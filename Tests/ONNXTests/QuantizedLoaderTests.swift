import Foundation
import KappaTestSupport
import ONNX
import Testing

/// Folding of quantized weights: blocked DequantizeLinear (opset 21), 4-bit and 8-bit float
/// inputs, com.microsoft DequantizeLinear, and refused inconsistent scales — each against
/// values computed by hand from the ONNX operator definition y = (x − zero_point) · scale.
@Suite("Loader: quantized weights")
struct QuantizedLoaderTests {
    static let opCases = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ReferenceTests/OpCases").path

    @Test("blocked DequantizeLinear: block_size 2 on axis 1, a partial last block, per-block zero points")
    func blocked() throws {
        // q (INT8, 2×5) = [[1, 2, 3, 4, 5], [−1, −2, −3, −4, −5]]; blocks along axis 1 of size 2:
        // columns {0, 1}, {2, 3}, {4} → scale (2×3), zero point (2×3).
        let g = try prepared(model(nodes: [
            NodeSpec("DequantizeLinear", name: "dq", inputs: ["q", "s", "z"], outputs: ["w"],
                     attributes: [("axis", .int(1)), ("block_size", .int(2))]),
        ], initializers: [
            TensorSpec(name: "q", dataType: DataType.int8.rawValue, dims: [2, 5], data: .raw(leBytes([Int8(1), 2, 3, 4, 5, -1, -2, -3, -4, -5]))),
            .float("s", dims: [2, 3], values: [0.5, 2, -1, 1, 0.25, 4]),
            TensorSpec(name: "z", dataType: DataType.int8.rawValue, dims: [2, 3], data: .raw(leBytes([Int8(1), 0, 5, 0, -2, -5]))),
        ], opset: 21))
        // row 0: (1−1)·.5, (2−1)·.5, (3−0)·2, (4−0)·2, (5−5)·(−1)
        // row 1: (−1−0)·1, (−2−0)·1, (−3+2)·.25, (−4+2)·.25, (−5+5)·4
        #expect(g.constants["w"]?.floats() == [0, 0.5, 6, 8, -0.0, -1, -2, -0.25, -0.5, 0])
        #expect(g.constants["w"]?.dims == [2, 5])
    }

    @Test("blocked DequantizeLinear on axis 0 (a conv weight blocked over output channels)")
    func blockedAxis0() throws {
        // q (UINT8, 3×2), block_size 2 on axis 0: rows {0, 1}, {2} → scale (2×2), no zero point.
        let g = try prepared(model(nodes: [
            NodeSpec("DequantizeLinear", name: "dq", inputs: ["q", "s"], outputs: ["w"],
                     attributes: [("axis", .int(0)), ("block_size", .int(2))]),
        ], initializers: [
            TensorSpec(name: "q", dataType: DataType.uint8.rawValue, dims: [3, 2], data: .raw([1, 2, 3, 4, 5, 6])),
            .float("s", dims: [2, 2], values: [1, 10, 100, 1000]),
        ], opset: 21))
        #expect(g.constants["w"]?.floats() == [1, 20, 3, 40, 500, 6000])
    }

    @Test("blocked scales of the wrong shape are refused, naming the node", arguments: [
        ([2, 2], "blocked scale"),   // 5 columns need ⌈5/2⌉ = 3 blocks
        ([5], "blocked scale"),      // rank differs
    ])
    func blockedMismatch(_ scaleDims: [Int], _ phrase: String) throws {
        let (error, path) = try loadError(model(nodes: [
            NodeSpec("DequantizeLinear", name: "dq_blocked", inputs: ["q", "s"], outputs: ["w"],
                     attributes: [("axis", .int(1)), ("block_size", .int(2))]),
        ], initializers: [
            TensorSpec(name: "q", dataType: DataType.int8.rawValue, dims: [2, 5], data: .raw(Array(repeating: 1, count: 10))),
            .float("s", dims: scaleDims, values: Array(repeating: 1, count: scaleDims.reduce(1, *))),
        ], opset: 21))
        expectError(error, "badNode", path: path, naming: ["dq_blocked", phrase])
    }

    @Test("a zero point whose length differs from the scale's is refused")
    func zeroPointLength() throws {
        let (error, path) = try loadError(model(nodes: [
            NodeSpec("DequantizeLinear", name: "dq_zp", inputs: ["q", "s", "z"], outputs: ["w"]),
        ], initializers: [
            TensorSpec(name: "q", dataType: DataType.int8.rawValue, dims: [3], data: .raw([1, 2, 3])),
            .float("s", dims: [], values: [0.5]),
            TensorSpec(name: "z", dataType: DataType.int8.rawValue, dims: [2], data: .raw([0, 1])),
        ]))
        expectError(error, "badNode", path: path, naming: ["dq_zp", "zero point of 2 values"])
    }

    @Test("INT4, UINT4 and FLOAT8 weights dequantize (packed nibbles, low first; fp8 codes)")
    func subByteWeights() throws {
        let g = try prepared(model(nodes: [
            NodeSpec("DequantizeLinear", name: "dq4", inputs: ["q4", "s", "z4"], outputs: ["w4"]),
            NodeSpec("DequantizeLinear", name: "dqu4", inputs: ["u4", "s"], outputs: ["wu4"]),
            NodeSpec("DequantizeLinear", name: "dq8", inputs: ["f8", "s"], outputs: ["w8"]),
        ], initializers: [
            // INT4 [−8, 7, −1] → bytes 0x78, 0x0F; zero point −1 (nibble F).
            TensorSpec(name: "q4", dataType: DataType.int4.rawValue, dims: [3], data: .raw([0x78, 0x0F])),
            TensorSpec(name: "z4", dataType: DataType.int4.rawValue, dims: [], data: .raw([0x0F])),
            // UINT4 [3, 12] → 0xC3.
            TensorSpec(name: "u4", dataType: DataType.uint4.rawValue, dims: [2], data: .raw([0xC3])),
            // FLOAT8E4M3FN [1, −2, 448].
            TensorSpec(name: "f8", dataType: DataType.float8e4m3fn.rawValue, dims: [3], data: .raw([0x38, 0xC0, 0x7E])),
            .float("s", dims: [], values: [0.5]),
        ], opset: 21))
        #expect(g.constants["w4"]?.floats() == [-3.5, 4, 0])
        #expect(g.constants["wu4"]?.floats() == [1.5, 6])
        #expect(g.constants["w8"]?.floats() == [0.5, -1, 224])
    }

    @Test("com.microsoft DequantizeLinear of a constant folds like the standard op")
    func contribDequantize() throws {
        var spec = model(nodes: [
            NodeSpec("DequantizeLinear", name: "ms_dq", domain: "com.microsoft", inputs: ["q", "s", "z"], outputs: ["w"],
                     attributes: [("axis", .int(0))]),
        ], initializers: [
            TensorSpec(name: "q", dataType: DataType.uint8.rawValue, dims: [2, 2], data: .raw([10, 20, 30, 40])),
            .float("s", dims: [2], values: [0.5, -1]),
            TensorSpec(name: "z", dataType: DataType.uint8.rawValue, dims: [2], data: .raw([10, 40])),
        ])
        spec.opsets.append((domain: "com.microsoft", version: 1))
        let g = try prepared(spec)
        #expect(g.constants["w"]?.floats() == [0, 5, 10, -0.0])
    }

    @Test("QuantizeLinear of a constant folds: round half to even, saturation, per axis, 4-bit zero points")
    func quantizeConstants() throws {
        let g = try prepared(model(nodes: [
            NodeSpec("QuantizeLinear", name: "q_ties", inputs: ["x", "one", "zu8"], outputs: ["q1"]),
            NodeSpec("DequantizeLinear", name: "dq_ties", inputs: ["q1", "one", "zu8"], outputs: ["w1"]),
            NodeSpec("QuantizeLinear", name: "q_axis", inputs: ["m", "s2", "z2"], outputs: ["q2"], attributes: [("axis", .int(0))]),
            NodeSpec("DequantizeLinear", name: "dq_axis", inputs: ["q2", "s2", "z2"], outputs: ["w2"], attributes: [("axis", .int(0))]),
            NodeSpec("QuantizeLinear", name: "q_int4", inputs: ["big", "one", "z4"], outputs: ["q3"]),
        ], initializers: [
            .float("x", dims: [6], values: [0.5, 1.5, 2.5, -0.5, 300, -10]),
            .float("one", dims: [], values: [1]),
            TensorSpec(name: "zu8", dataType: DataType.uint8.rawValue, dims: [], data: .raw([0])),
            .float("m", dims: [2, 2], values: [1, -1, 0.75, 0.25]),
            .float("s2", dims: [2], values: [0.5, 0.25]),
            TensorSpec(name: "z2", dataType: DataType.int8.rawValue, dims: [2], data: .raw(leBytes([Int8(1), -2]))),
            .float("big", dims: [2], values: [10, -10]),
            TensorSpec(name: "z4", dataType: DataType.int4.rawValue, dims: [], data: .raw([0])),
        ], opset: 21))
        // Ties to even (0.5 → 0, 1.5 → 2, 2.5 → 2, −0.5 → −0 → 0), UINT8 saturation (300 → 255, −10 → 0).
        #expect(g.constants["q1"]?.int64s() == [0, 2, 2, 0, 255, 0])
        #expect(g.constants["w1"]?.floats() == [0, 2, 2, 0, 255, 0])
        // Row 0: 1/0.5 + 1 = 3, −1/0.5 + 1 = −1; row 1: 0.75/0.25 − 2 = 1, 0.25/0.25 − 2 = −1; DQ recovers m.
        #expect(g.constants["q2"]?.int64s() == [3, -1, 1, -1])
        #expect(g.constants["w2"]?.floats() == [1, -1, 0.75, 0.25])
        // INT4 zero point: saturation to −8…7.
        #expect(g.constants["q3"]?.int64s() == [7, -8])
    }

    /// onnxruntime's INT4/UINT4 case: y = x ⊙ DQ(w_int4) + DQ(w_uint4) with the folded
    /// constants reproduces onnxruntime's stored output (1e-6), so the nibble order and the
    /// odd-count padding agree with onnxruntime's.
    @Test("the committed INT4/UINT4 case reproduces onnxruntime's output from the folded weights")
    func onnxruntimeInt4() throws {
        let dir = Self.opCases + "/dequantizelinear_int4_uint4_initializers_opset21"
        let g = try ModelGraph(model: ModelLoader.load(path: dir + "/model.onnx"))
        let w = try #require(g.constants["dequantizelinear1"]).doubles()
        let b = try #require(g.constants["dequantizelinear2"]).doubles()
        let x = try TensorLoader.load(path: dir + "/test_data_set_0/input_0.pb").doubles()
        let y = try TensorLoader.load(path: dir + "/test_data_set_0/output_0.pb").doubles()
        #expect(w.count == 12 && b.count == 4 && x.count == 12 && y.count == 12)
        for i in 0..<12 {
            let v = x[i] * w[i] + b[i % 4]
            #expect(abs(v - y[i]) <= 1e-6 * max(1, abs(y[i])), "element \(i): \(v) vs onnxruntime \(y[i])")
        }
    }
}
