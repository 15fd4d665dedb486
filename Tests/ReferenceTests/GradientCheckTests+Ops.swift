import ONNX
@testable import Reference

/// The VJP checks of the ops added for the coverage work (same method and tolerances as
/// ``GradientCheckTests``): math, broadcasting variadics, reductions, data movement with
/// constant indices, Einsum, the normalizations, pooling and interpolation. Values stay on
/// the ops' smooth domains (`.positive` for Sqrt/Log/Pow/LogSum, `.distinct` where an
/// extreme is selected, inputs ±[0.1, 1.5] away from the kinks at 0).
extension GradientCheckTests {
    static let opCases: [OpCase] = {
        var c: [OpCase] = []
        let x = [("x", [2, 3, 4])]
        for op in ["Erf", "Exp", "Sin", "Cos", "Neg", "Abs", "Softsign", "Mish"] {
            c.append(OpCase(label: op, op: op, inputs: x))
        }
        for op in ["Sqrt", "Log", "Reciprocal"] {
            c.append(OpCase(label: "\(op) positive", op: op, inputs: x, values: .positive))
        }
        c.append(OpCase(label: "Celu α=1.5", op: "Celu", inputs: x, attributes: ["alpha": .float(1.5)]))
        c.append(OpCase(label: "ThresholdedRelu α=0.05", op: "ThresholdedRelu", inputs: x, attributes: ["alpha": .float(0.05)]))
        c.append(OpCase(label: "Shrink", op: "Shrink", inputs: x, attributes: ["lambd": .float(0.05), "bias": .float(0.3)]))
        // Binary ops of two variables.
        c.append(OpCase(label: "Pow both variable", op: "Pow", inputs: [("a", [2, 3]), ("b", [3])], values: .positive))
        c.append(OpCase(label: "Pow constant exponent", op: "Pow", inputs: [("a", [2, 3])], constants: [floats("e", [], [3])]))
        c.append(OpCase(label: "PRelu slope variable", op: "PRelu", inputs: [("x", [2, 3, 2]), ("s", [3, 1])]))
        c.append(OpCase(label: "Mul two variables", op: "Mul", inputs: [("a", [2, 3]), ("b", [2, 3])]))
        c.append(OpCase(label: "Div two variables", op: "Div", inputs: [("a", [3, 2]), ("b", [2])], values: .positive))
        c.append(OpCase(label: "MatMul two variables", op: "MatMul", inputs: [("a", [2, 3, 4]), ("b", [2, 4, 2])]))
        c.append(OpCase(label: "Where constant condition", op: "Where", inputs: [("a", [2, 3]), ("b", [3])],
                        constants: [floats("cond", [2, 1], [1, 0])], order: ["cond", "a", "b"]))
        // Variadics (distinct values: an extreme is never tied).
        for op in ["Min", "Max", "Mean"] {
            c.append(OpCase(label: "\(op) broadcast", op: op, inputs: [("a", [2, 3, 4]), ("b", [3, 1])], values: .distinct))
        }
        // Reductions.
        c.append(OpCase(label: "ReduceMin axes", op: "ReduceMin", inputs: x, attributes: ["axes": .ints([1]), "keepdims": .int(0)],
                        opset: 13, values: .distinct))
        c.append(OpCase(label: "ReduceProd axes", op: "ReduceProd", inputs: x, attributes: ["axes": .ints([2])], opset: 13))
        c.append(OpCase(label: "ReduceL1", op: "ReduceL1", inputs: x, constants: [ints("a", [0, 2])], opset: 18))
        c.append(OpCase(label: "ReduceL2", op: "ReduceL2", inputs: x, constants: [ints("a", [1])], opset: 18))
        c.append(OpCase(label: "ReduceSumSquare", op: "ReduceSumSquare", inputs: x, constants: [ints("a", [-1])], opset: 18))
        c.append(OpCase(label: "ReduceLogSum", op: "ReduceLogSum", inputs: x, constants: [ints("a", [0])], opset: 18, values: .positive))
        c.append(OpCase(label: "ReduceLogSumExp", op: "ReduceLogSumExp", inputs: x, constants: [ints("a", [1, 2])], opset: 18))
        c.append(OpCase(label: "CumSum exclusive reverse", op: "CumSum", inputs: [("x", [3, 4])], constants: [ints("ax", [1])],
                        attributes: ["exclusive": .int(1), "reverse": .int(1)]))
        c.append(OpCase(label: "CumSum axis 0", op: "CumSum", inputs: [("x", [3, 2])], constants: [ints("ax", [0])]))
        c.append(OpCase(label: "TopK values", op: "TopK", inputs: [("x", [3, 5])], constants: [ints("k", [2])],
                        outputs: ["y", "i"], values: .distinct))
        // Data movement with constant indices.
        c.append(OpCase(label: "Expand", op: "Expand", inputs: [("x", [3, 1])], constants: [ints("s", [2, 3, 4])]))
        c.append(OpCase(label: "Tile", op: "Tile", inputs: [("x", [2, 3])], constants: [ints("r", [2, 2])]))
        c.append(OpCase(label: "GatherElements repeated", op: "GatherElements", inputs: [("x", [3, 4])],
                        constants: [Tensor(name: "i", dims: [2, 4], int64s: [0, 2, -1, 1, 2, 2, 0, 0])]))
        c.append(OpCase(label: "GatherND batch_dims 1", op: "GatherND", inputs: [("x", [2, 3, 4])],
                        constants: [Tensor(name: "i", dims: [2, 2, 1], int64s: [1, 1, 2, 0])], attributes: ["batch_dims": .int(1)]))
        c.append(OpCase(label: "ScatterND data and updates", op: "ScatterND", inputs: [("d", [4, 3]), ("u", [2, 3])],
                        constants: [Tensor(name: "i", dims: [2, 1], int64s: [3, 1])], order: ["d", "i", "u"]))
        c.append(OpCase(label: "ScatterElements add", op: "ScatterElements", inputs: [("d", [3, 4]), ("u", [3, 2])],
                        constants: [Tensor(name: "i", dims: [3, 2], int64s: [1, 1, 0, 3, 2, 2])], order: ["d", "i", "u"],
                        attributes: ["axis": .int(1), "reduction": .string("add")], opset: 16))
        c.append(OpCase(label: "Compress axis 1", op: "Compress", inputs: [("x", [2, 4])], constants: [floats("c", [3], [1, 0, 1])],
                        attributes: ["axis": .int(1)]))
        c.append(OpCase(label: "Trilu lower k=1", op: "Trilu", inputs: [("x", [2, 3, 4])], constants: [ints("k", [1])],
                        attributes: ["upper": .int(0)]))
        c.append(OpCase(label: "OneHot values", op: "OneHot", inputs: [("v", [2])],
                        constants: [ints("i", [0, 3, -1]), ints("d", [4])], order: ["i", "d", "v"]))
        c.append(OpCase(label: "Range start", op: "Range", inputs: [("s", [])], constants: [floats("l", [], [5]), floats("dl", [], [0.7])]))
        // Einsum.
        c.append(OpCase(label: "Einsum attention", op: "Einsum", inputs: [("q", [1, 2, 3, 4]), ("k", [1, 2, 2, 4])],
                        attributes: ["equation": .string("bhqd,bhkd->bhqk")]))
        c.append(OpCase(label: "Einsum diagonal", op: "Einsum", inputs: [("a", [3, 3])], attributes: ["equation": .string("ii->i")]))
        c.append(OpCase(label: "Einsum ellipsis broadcast", op: "Einsum", inputs: [("a", [1, 2, 3]), ("b", [3, 3, 2])],
                        attributes: ["equation": .string("...ij,...jk")]))
        c.append(OpCase(label: "Einsum reduce", op: "Einsum", inputs: [("a", [2, 3, 4])], attributes: ["equation": .string("bij->bj")]))
        // Normalizations.
        c.append(OpCase(label: "LayerNormalization axis -1", op: "LayerNormalization", inputs: [("x", [2, 3, 4])],
                        constants: [seeded("g", [4], seed: 41), seeded("b", [4], seed: 42)]))
        c.append(OpCase(label: "LayerNormalization InvStdDev", op: "LayerNormalization", inputs: [("x", [3, 4])],
                        constants: [seeded("g", [4], seed: 43)], outputs: ["y", "m", "s"], checked: "s"))
        c.append(OpCase(label: "LayerNormalization Mean", op: "LayerNormalization", inputs: [("x", [3, 4])],
                        constants: [seeded("g", [4], seed: 44)], outputs: ["y", "m", "s"], checked: "m"))
        c.append(OpCase(label: "InstanceNormalization", op: "InstanceNormalization", inputs: [("x", [2, 3, 2, 2])],
                        constants: [seeded("g", [3], seed: 45), seeded("b", [3], seed: 46)]))
        c.append(OpCase(label: "GroupNormalization opset 21", op: "GroupNormalization", inputs: [("x", [2, 4, 3])],
                        constants: [seeded("g", [4], seed: 47), seeded("b", [4], seed: 48)], attributes: ["num_groups": .int(2)], opset: 21))
        c.append(OpCase(label: "GroupNormalization opset 18 per group", op: "GroupNormalization", inputs: [("x", [1, 4, 3])],
                        constants: [seeded("g", [2], seed: 49), seeded("b", [2], seed: 50)], attributes: ["num_groups": .int(2)], opset: 18))
        // Pooling and interpolation.
        c.append(OpCase(label: "LpPool p=2 pads", op: "LpPool", inputs: [("x", [1, 2, 4, 4])],
                        attributes: ["kernel_shape": .ints([2, 2]), "strides": .ints([2, 1]), "pads": .ints([1, 0, 0, 1]), "p": .int(2)]))
        c.append(OpCase(label: "GlobalLpPool p=3", op: "GlobalLpPool", inputs: [("x", [2, 2, 3])], attributes: ["p": .int(3)]))
        c.append(OpCase(label: "Resize linear half_pixel", op: "Resize", inputs: [("x", [1, 1, 3, 4])],
                        constants: [floats("roi", [0], []), floats("sc", [4], [1, 1, 1.5, 0.75])], order: ["x", "roi", "sc"],
                        attributes: ["mode": .string("linear")]))
        c.append(OpCase(label: "Resize cubic exclude_outside", op: "Resize", inputs: [("x", [1, 1, 3, 4])],
                        constants: [floats("roi", [0], []), floats("sc", [4], [1, 1, 2, 1.5])], order: ["x", "roi", "sc"],
                        attributes: ["mode": .string("cubic"), "exclude_outside": .int(1)]))
        return c
    }()

    /// LSTM, GRU and RNN with respect to X and the initial states, through every output.
    static let recurrentCases: [OpCase] = {
        var c: [OpCase] = []
        let (t, b, i, h) = (3, 2, 3, 4)
        func weights(_ g: Int, _ d: Int, seed: UInt64) -> [Tensor] {
            [seeded("W", [d, g * h, i], seed: seed, lo: -0.6, hi: 0.6), seeded("R", [d, g * h, h], seed: seed + 1, lo: -0.6, hi: 0.6),
             seeded("B", [d, 2 * g * h], seed: seed + 2, lo: -0.3, hi: 0.3)]
        }
        let lens = Tensor(name: "L", dims: [b], int64s: [3, 2])
        for (direction, d) in [("forward", 1), ("reverse", 1), ("bidirectional", 2)] {
            let states = [("X", [t, b, i]), ("h0", [d, b, h]), ("c0", [d, b, h])]
            for out in ["Y", "Yh", "Yc"] {
                c.append(OpCase(label: "LSTM \(direction) peepholes → \(out)", op: "LSTM", inputs: states,
                                constants: weights(4, d, seed: 60) + [lens, seeded("P", [d, 3 * h], seed: 64, lo: -0.5, hi: 0.5)],
                                order: ["X", "W", "R", "B", "L", "h0", "c0", "P"],
                                attributes: ["hidden_size": .int(h), "direction": .string(direction)],
                                outputs: ["Y", "Yh", "Yc"], checked: out))
            }
            c.append(OpCase(label: "LSTM \(direction) input_forget", op: "LSTM", inputs: [("X", [t, b, i]), ("h0", [d, b, h])],
                            constants: weights(4, d, seed: 70), order: ["X", "W", "R", "B", "", "h0"],
                            attributes: ["hidden_size": .int(h), "direction": .string(direction), "input_forget": .int(1)],
                            outputs: ["Y", "Yh"]))
            for lbr in [0, 1] {
                for out in ["Y", "Yh"] {
                    c.append(OpCase(label: "GRU \(direction) linear_before_reset \(lbr) → \(out)", op: "GRU",
                                    inputs: [("X", [t, b, i]), ("h0", [d, b, h])],
                                    constants: weights(3, d, seed: 80) + [lens], order: ["X", "W", "R", "B", "L", "h0"],
                                    attributes: ["hidden_size": .int(h), "direction": .string(direction), "linear_before_reset": .int(lbr)],
                                    outputs: ["Y", "Yh"], checked: out))
                }
            }
            c.append(OpCase(label: "RNN \(direction) → Yh", op: "RNN", inputs: [("X", [t, b, i]), ("h0", [d, b, h])],
                            constants: weights(1, d, seed: 90) + [lens], order: ["X", "W", "R", "B", "L", "h0"],
                            attributes: ["hidden_size": .int(h), "direction": .string(direction)], outputs: ["Y", "Yh"], checked: "Yh"))
        }
        c.append(OpCase(label: "LSTM ScaledTanh/Softsign activations", op: "LSTM", inputs: [("X", [t, b, i])],
                        constants: weights(4, 1, seed: 100), order: ["X", "W", "R", "B"],
                        attributes: ["hidden_size": .int(h), "activations": .strings(["Sigmoid", "ScaledTanh", "Softsign"]),
                                     "activation_alpha": .floats([0.9]), "activation_beta": .floats([1.1])], outputs: ["Y"]))
        c.append(OpCase(label: "RNN Relu", op: "RNN", inputs: [("X", [t, b, i])], constants: weights(1, 1, seed: 110),
                        order: ["X", "W", "R", "B"], attributes: ["hidden_size": .int(h), "activations": .strings(["Relu"])]))
        return c
    }()
}
