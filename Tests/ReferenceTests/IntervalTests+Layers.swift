import Foundation
import ONNX
import Sensitivity
import Testing
@testable import Reference

/// Soundness of the layer rules: linear maps by centre and radius, normalizations, softmax,
/// reductions and pooling against the float64 reference; data movement against the engine.
extension IntervalTests {
    static func uint8(_ name: String, _ values: [UInt8]) -> Tensor {
        let buffer = OwnedBuffer(byteCount: values.count)
        for (i, v) in values.enumerated() { buffer.raw[i] = v }
        return Tensor(name: name, dataType: .uint8, dims: values.count == 1 ? [] : [values.count], storage: .folded,
                      bytes: UnsafeRawBufferPointer(buffer.raw), owner: buffer)
    }

    static func w(_ name: String, _ dims: [Int], _ seed: UInt64) -> Tensor { seeded(name, dims, seed: seed, lo: -1, hi: 1) }

    static let layers: [Case] = [
        Case(op: OpCase(label: "Conv 3×3 pads strides", op: "Conv", inputs: [("x", [2, 3, 7, 6])],
                        constants: [w("w", [4, 3, 3, 3], 1), w("b", [4], 2)],
                        attributes: ["pads": .ints([1, 0, 1, 2]), "strides": .ints([2, 1])])),
        Case(op: OpCase(label: "Conv groups dilations", op: "Conv", inputs: [("x", [1, 4, 8, 8])],
                        constants: [w("w", [6, 2, 3, 2], 3)], attributes: ["group": .int(2), "dilations": .ints([2, 1])])),
        Case(op: OpCase(label: "Conv 1-D", op: "Conv", inputs: [("x", [1, 2, 9])], constants: [w("w", [3, 2, 4], 4), w("b", [3], 5)])),
        Case(op: OpCase(label: "Conv depthwise wide box", op: "Conv", inputs: [("x", [1, 3, 5, 5])], constants: [w("w", [3, 1, 3, 3], 6)],
                        attributes: ["group": .int(3), "pads": .ints([1, 1, 1, 1])]), boxes: [.wide]),
        Case(op: OpCase(label: "Gemm transB bias", op: "Gemm", inputs: [("x", [3, 5])], constants: [w("w", [4, 5], 7), w("c", [4], 8)],
                        attributes: ["transB": .int(1)])),
        Case(op: OpCase(label: "Gemm transA α β C column", op: "Gemm", inputs: [("x", [5, 3])], constants: [w("w", [5, 4], 9), w("c", [3, 1], 10)],
                        attributes: ["transA": .int(1), "alpha": .float(-0.7), "beta": .float(1.5)])),
        Case(op: OpCase(label: "Gemm constant A", op: "Gemm", inputs: [("x", [5, 4])], constants: [w("a", [3, 4], 11)], order: ["a", "x"],
                        attributes: ["transB": .int(1)])),
        Case(op: OpCase(label: "Gemm two bounded operands", op: "Gemm", inputs: [("a", [3, 4]), ("b", [4, 2])])),
        Case(op: OpCase(label: "MatMul constant right batched", op: "MatMul", inputs: [("x", [2, 3, 4])], constants: [w("w", [4, 5], 12)])),
        Case(op: OpCase(label: "MatMul constant left", op: "MatMul", inputs: [("x", [2, 4, 3])], constants: [w("w", [5, 4], 13)], order: ["w", "x"])),
        Case(op: OpCase(label: "MatMul 1-D constant", op: "MatMul", inputs: [("x", [3, 4])], constants: [w("w", [4], 14)])),
        Case(op: OpCase(label: "MatMul bounded × bounded broadcast", op: "MatMul", inputs: [("a", [2, 1, 3, 4]), ("b", [3, 4, 2])])),
        Case(op: OpCase(label: "MatMul bounded 1-D × bounded", op: "MatMul", inputs: [("a", [4]), ("b", [2, 4, 3])])),
        Case(op: OpCase(label: "BatchNormalization", op: "BatchNormalization", inputs: [("x", [2, 3, 4])],
                        constants: [w("s", [3], 15), w("b", [3], 16), w("m", [3], 17), seeded("v", [3], seed: 18, lo: 0.1, hi: 2)])),
        Case(op: OpCase(label: "LayerNormalization axis −1", op: "LayerNormalization", inputs: [("x", [2, 3, 6])],
                        constants: [w("s", [6], 19), w("b", [6], 20)], opset: 17)),
        Case(op: OpCase(label: "LayerNormalization axis 1 narrow", op: "LayerNormalization", inputs: [("x", [2, 3, 4])],
                        constants: [w("s", [3, 4], 21)], attributes: ["axis": .int(1)], opset: 17), boxes: [.small]),
        Case(op: OpCase(label: "InstanceNormalization", op: "InstanceNormalization", inputs: [("x", [2, 3, 4, 2])],
                        constants: [w("s", [3], 22), w("b", [3], 23)])),
        Case(op: OpCase(label: "GroupNormalization per channel", op: "GroupNormalization", inputs: [("x", [1, 4, 3])],
                        constants: [w("s", [4], 24), w("b", [4], 25)], attributes: ["num_groups": .int(2)], opset: 21), boxes: [.small]),
        Case(op: OpCase(label: "Softmax axis −1", op: "Softmax", inputs: [("x", [3, 5])], opset: 13), boxes: [.wide]),
        Case(op: OpCase(label: "Softmax axis 1 of 3", op: "Softmax", inputs: [("x", [2, 4, 3])], attributes: ["axis": .int(1)], opset: 13)),
        Case(op: OpCase(label: "Softmax opset 11 coerced", op: "Softmax", inputs: [("x", [2, 3, 2])], opset: 11)),
        Case(op: OpCase(label: "Softmax narrow", op: "Softmax", inputs: [("x", [2, 6])], opset: 13), boxes: [.small]),
        Case(op: OpCase(label: "LogSoftmax", op: "LogSoftmax", inputs: [("x", [3, 5])], opset: 13), boxes: [.wide]),
        Case(op: OpCase(label: "ReduceSum axes", op: "ReduceSum", inputs: [("x", [2, 3, 4])], constants: [ints("a", [1])], opset: 13)),
        Case(op: OpCase(label: "ReduceMean keepdims 0", op: "ReduceMean", inputs: [("x", [2, 3, 4])],
                        attributes: ["axes": .ints([0, 2]), "keepdims": .int(0)], opset: 13)),
        Case(op: OpCase(label: "ReduceMax", op: "ReduceMax", inputs: [("x", [2, 3, 4])], attributes: ["axes": .ints([2])], opset: 13)),
        Case(op: OpCase(label: "ReduceMin all", op: "ReduceMin", inputs: [("x", [2, 3])], opset: 13)),
        Case(op: OpCase(label: "ReduceL1", op: "ReduceL1", inputs: [("x", [2, 3])], attributes: ["axes": .ints([1])], opset: 13)),
        Case(op: OpCase(label: "ReduceL2", op: "ReduceL2", inputs: [("x", [2, 3])], attributes: ["axes": .ints([1])], opset: 13)),
        Case(op: OpCase(label: "ReduceSumSquare", op: "ReduceSumSquare", inputs: [("x", [2, 3])], attributes: ["axes": .ints([1])], opset: 13)),
        Case(op: OpCase(label: "ReduceLogSum", op: "ReduceLogSum", inputs: [("x", [2, 3])], attributes: ["axes": .ints([1])], opset: 13), boxes: [.positive]),
        Case(op: OpCase(label: "ReduceLogSumExp", op: "ReduceLogSumExp", inputs: [("x", [2, 4])], attributes: ["axes": .ints([1])], opset: 13), boxes: [.wide]),
        Case(op: OpCase(label: "ReduceProd", op: "ReduceProd", inputs: [("x", [2, 3])], attributes: ["axes": .ints([1])], opset: 13)),
        Case(op: OpCase(label: "CumSum reverse exclusive", op: "CumSum", inputs: [("x", [2, 5])], constants: [ints("a", [1])],
                        attributes: ["reverse": .int(1), "exclusive": .int(1)])),
        Case(op: OpCase(label: "TopK largest", op: "TopK", inputs: [("x", [3, 6])], constants: [ints("k", [3])], outputs: ["y", "i"]),
             boxes: [.small]),
        Case(op: OpCase(label: "TopK smallest axis 0", op: "TopK", inputs: [("x", [5, 2])], constants: [ints("k", [2])],
                        attributes: ["axis": .int(0), "largest": .int(0)], outputs: ["y", "i"])),
        Case(op: OpCase(label: "ArgMax narrow", op: "ArgMax", inputs: [("x", [3, 5])], attributes: ["axis": .int(1)]), boxes: [.small]),
        Case(op: OpCase(label: "ArgMin keepdims 0", op: "ArgMin", inputs: [("x", [3, 5])], attributes: ["keepdims": .int(0)])),
        Case(op: OpCase(label: "LRN", op: "LRN", inputs: [("x", [1, 5, 2, 2])], attributes: ["size": .int(3), "alpha": .float(0.5), "beta": .float(0.75)]),
             boxes: [.wide]),
        Case(op: OpCase(label: "MaxPool pads", op: "MaxPool", inputs: [("x", [1, 2, 5, 5])],
                        attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])])),
        Case(op: OpCase(label: "AveragePool count_include_pad", op: "AveragePool", inputs: [("x", [1, 2, 5, 5])],
                        attributes: ["kernel_shape": .ints([2, 3]), "pads": .ints([1, 0, 0, 1]), "count_include_pad": .int(1)])),
        Case(op: OpCase(label: "GlobalAveragePool", op: "GlobalAveragePool", inputs: [("x", [2, 3, 4, 4])])),
        Case(op: OpCase(label: "GlobalMaxPool", op: "GlobalMaxPool", inputs: [("x", [2, 3, 4, 4])])),
        Case(op: OpCase(label: "Transpose", op: "Transpose", inputs: [("x", [2, 3, 4])], attributes: ["perm": .ints([2, 0, 1])])),
        Case(op: OpCase(label: "Concat", op: "Concat", inputs: [("a", [2, 3]), ("b", [2, 1])], constants: [w("k", [2, 2], 26)],
                        order: ["a", "k", "b"], attributes: ["axis": .int(1)])),
        Case(op: OpCase(label: "Gather constant indices", op: "Gather", inputs: [("x", [4, 3])], constants: [ints("i", [3, 0, 3])])),
        Case(op: OpCase(label: "Flatten", op: "Flatten", inputs: [("x", [2, 3, 4])], attributes: ["axis": .int(2)])),
        Case(op: OpCase(label: "Cast to int32", op: "Cast", inputs: [("x", [3, 4])], attributes: ["to": .int(6)]), boxes: [.wide]),
        Case(op: OpCase(label: "QuantizeLinear", op: "QuantizeLinear", inputs: [("x", [3, 4])],
                        constants: [floats("s", [], [0.02]), uint8("z", [128])])),
        Case(op: OpCase(label: "DequantizeLinear", op: "DequantizeLinear", inputs: [("x", [3, 4])], constants: [floats("s", [], [0.5]), floats("z", [], [3])]),
             boxes: [.wide]),
    ]

    @Test("layer rules are sound", arguments: layers)
    func layersSound(_ c: Case) throws {
        try checkFloat64(c)
    }
}
