import Foundation
import ONNX
import Testing
@testable import Reference

/// Forward results against values computed by hand (or from the ONNX operator spec's
/// examples), exact up to float32 rounding: |got − want| ≤ 1e-5·(1 + |want|).
struct ForwardTests {
    struct Case: CustomStringConvertible, Sendable {
        var op: OpCase
        var input: [Float]
        var want: [Float]
        var wantShape: [Int]
        var description: String { op.label }
    }

    static let cases: [Case] = [
        Case(op: OpCase(label: "Relu", op: "Relu", inputs: [("x", [4])]), input: [-1, 0, 2, -0.5], want: [0, 0, 2, 0], wantShape: [4]),
        Case(op: OpCase(label: "LeakyRelu", op: "LeakyRelu", inputs: [("x", [2])], attributes: ["alpha": .float(0.1)]),
             input: [-2, 3], want: [-0.2, 3], wantShape: [2]),
        Case(op: OpCase(label: "HardSwish", op: "HardSwish", inputs: [("x", [3])]), input: [-4, 1, 4],
             want: [0, 1 * (1.0 / 6 + 0.5), 4], wantShape: [3]),
        Case(op: OpCase(label: "Gelu exact", op: "Gelu", inputs: [("x", [2])], opset: 20), input: [1, -1],
             want: [0.8413447, -0.15865526], wantShape: [2]),
        // Conv 3×3 all-ones kernel on a 3×3 ramp with pads 1: each output sums its neighbourhood.
        Case(op: OpCase(label: "Conv ones 3×3 pads 1", op: "Conv", inputs: [("x", [1, 1, 3, 3])],
                        constants: [floats("w", [1, 1, 3, 3], Array(repeating: 1, count: 9)), floats("b", [1], [0.5])],
                        attributes: ["pads": .ints([1, 1, 1, 1])]),
             input: [1, 2, 3, 4, 5, 6, 7, 8, 9], want: [12, 21, 16, 27, 45, 33, 24, 39, 28].map { $0 + 0.5 }, wantShape: [1, 1, 3, 3]),
        // ConvTranspose stride 2 of [1, 2] with kernel [1, 1, 1]: overlapping taps add.
        Case(op: OpCase(label: "ConvTranspose 1-D stride 2", op: "ConvTranspose", inputs: [("x", [1, 1, 2])],
                        constants: [floats("w", [1, 1, 3], [1, 1, 1])], attributes: ["strides": .ints([2])]),
             input: [1, 2], want: [1, 1, 3, 2, 2], wantShape: [1, 1, 5]),
        Case(op: OpCase(label: "Gemm transB", op: "Gemm", inputs: [("a", [1, 2])],
                        constants: [floats("w", [2, 2], [1, 2, 3, 4]), floats("c", [2], [10, 20])], attributes: ["transB": .int(1)]),
             input: [1, 1], want: [13, 27], wantShape: [1, 2]),
        Case(op: OpCase(label: "MaxPool 2×2/2", op: "MaxPool", inputs: [("x", [1, 1, 4, 4])],
                        attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 2])]),
             input: (1...16).map(Float.init), want: [6, 8, 14, 16], wantShape: [1, 1, 2, 2]),
        // ONNX spec example averagepool_2d_pads: count_include_pad 0 at the corner divides by 4.
        Case(op: OpCase(label: "AveragePool pads excl.", op: "AveragePool", inputs: [("x", [1, 1, 2, 2])],
                        attributes: ["kernel_shape": .ints([2, 2]), "pads": .ints([1, 1, 0, 0])]),
             input: [1, 2, 3, 4], want: [1, 1.5, 2, 2.5], wantShape: [1, 1, 2, 2]),
        Case(op: OpCase(label: "AveragePool pads incl.", op: "AveragePool", inputs: [("x", [1, 1, 2, 2])],
                        attributes: ["kernel_shape": .ints([2, 2]), "pads": .ints([1, 1, 0, 0]), "count_include_pad": .int(1)]),
             input: [1, 2, 3, 4], want: [0.25, 0.75, 1, 2.5], wantShape: [1, 1, 2, 2]),
        Case(op: OpCase(label: "Softmax", op: "Softmax", inputs: [("x", [1, 3])]), input: [1, 2, 3],
             want: [0.09003057, 0.24472847, 0.66524096], wantShape: [1, 3]),
        // LRN size 1: y = x/(k + α·x²)^β.
        Case(op: OpCase(label: "LRN size 1", op: "LRN", inputs: [("x", [1, 1, 1, 1])],
                        attributes: ["size": .int(1), "alpha": .float(1), "beta": .float(0.5), "bias": .float(1)]),
             input: [2], want: [2 / Float(5).squareRoot()], wantShape: [1, 1, 1, 1]),
        Case(op: OpCase(label: "Pad reflect", op: "Pad", inputs: [("x", [3])], constants: [ints("p", [2, 2])],
                        attributes: ["mode": .string("reflect")]),
             input: [1, 2, 3], want: [3, 2, 1, 2, 3, 2, 1], wantShape: [7]),
        Case(op: OpCase(label: "Pad constant value", op: "Pad", inputs: [("x", [2])], constants: [ints("p", [1, 0]), floats("v", [], [9])]),
             input: [1, 2], want: [9, 1, 2], wantShape: [3]),
        Case(op: OpCase(label: "Resize nearest ×2", op: "Resize", inputs: [("x", [1, 1, 2, 2])],
                        constants: [floats("roi", [0], []), floats("s", [4], [1, 1, 2, 2])]),
             input: [1, 2, 3, 4], want: [1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4], wantShape: [1, 1, 4, 4]),
        Case(op: OpCase(label: "Slice reverse", op: "Slice", inputs: [("x", [5])],
                        constants: [ints("s", [-1]), ints("e", [-6]), ints("a", [0]), ints("st", [-2])]),
             input: [1, 2, 3, 4, 5], want: [5, 3, 1], wantShape: [3]),
        Case(op: OpCase(label: "Transpose", op: "Transpose", inputs: [("x", [2, 3])]), input: [1, 2, 3, 4, 5, 6],
             want: [1, 4, 2, 5, 3, 6], wantShape: [3, 2]),
        Case(op: OpCase(label: "ReduceMax keepdims 0", op: "ReduceMax", inputs: [("x", [2, 3])], attributes: ["axes": .ints([1]), "keepdims": .int(0)]),
             input: [1, 5, 2, 7, 0, 3], want: [5, 7], wantShape: [2]),
        Case(op: OpCase(label: "Div broadcast", op: "Div", inputs: [("x", [2, 2])], constants: [floats("d", [2, 1], [2, 4])]),
             input: [2, 4, 8, 12], want: [1, 2, 2, 3], wantShape: [2, 2]),
        Case(op: OpCase(label: "BatchNormalization", op: "BatchNormalization", inputs: [("x", [1, 2, 1, 1])],
                        constants: [floats("g", [2], [2, 1]), floats("b", [2], [1, 0]), floats("m", [2], [1, 2]), floats("v", [2], [4, 1])],
                        attributes: ["epsilon": .float(0)]),
             input: [3, 5], want: [3, 3], wantShape: [1, 2, 1, 1]),
    ]

    @Test(arguments: cases)
    func forwardMatchesHandComputed(_ c: Case) throws {
        let engine = try Engine(graph: c.op.graph())
        let name = c.op.inputs[0].0
        let y = try engine.forward([name: Value(shape: c.op.inputs[0].1, data: c.input)]).result
        #expect(y.shape == c.wantShape)
        #expect(y.data.count == c.want.count)
        for (g, w) in zip(y.data, c.want) {
            #expect(abs(g - w) <= 1e-5 * (1 + abs(w)), "\(c.op.label): got \(y.data), want \(c.want)")
        }
    }

    /// Model-zoo AlexNet's Dropout declares its mask output: identity plus an all-ones mask.
    @Test func dropoutWithMaskOutput() throws {
        let c = OpCase(label: "Dropout", op: "Dropout", inputs: [("x", [3])], outputs: ["y", "mask"])
        let t = try Engine(graph: c.graph()).forward(["x": Value(shape: [3], data: [1, -2, 3])])
        #expect(t.values["y"]?.data == [1, -2, 3])
        #expect(t.values["mask"]?.data == [1, 1, 1])
    }

    @Test func unsupportedOpNamesTheNode() throws {
        let c = OpCase(label: "STFT", op: "STFT", inputs: [("x", [2])])
        #expect(throws: ReferenceError.unsupportedOp(node: "n0", op: "STFT")) { try Engine(graph: c.graph()) }
        let message = ReferenceError.unsupportedOp(node: "n0", op: "STFT").localizedDescription
        #expect(message.contains("'n0'") && message.contains("STFT"))
    }

    /// A shape operand computed from the perturbed tensor is refused; one computed from another
    /// input is a run-time parameter (here [0, 0]: copy both dimensions).
    @Test func shapeOperandThatDependsOnThePerturbationIsRefused() throws {
        let c = OpCase(label: "Reshape", op: "Reshape", inputs: [("x", [2, 2]), ("s", [2])])
        let feeds = ["x": Value(zeros: [2, 2]), "s": Value(zeros: [2], dtype: .int64)]
        let perturbingS = try Engine(graph: c.graph(), input: "s")
        #expect(throws: ReferenceError.notConstant(node: "n0", op: "Reshape", input: "s")) { try perturbingS.forward(feeds) }
        let perturbingX = try Engine(graph: c.graph(), input: "x")
        #expect(try perturbingX.forward(feeds).result.shape == [2, 2])
    }
}
