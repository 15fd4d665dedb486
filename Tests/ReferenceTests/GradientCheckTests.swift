import ONNX
import Testing
@testable import Reference

/// Every op's VJP against central finite differences of its forward pass.
///
/// For each computed input x and the node output y, the full Jacobian J (count(y) × count(x))
/// is obtained from ONE batched backward pass with the identity as cotangent rows (which
/// also exercises the k-row batching DeepFool relies on), and compared column by column
/// with (f(x + h·e_j) − f(x − h·e_j)) / 2h evaluated in float32.
///
/// Step and tolerance: h = 1e-2 on inputs of magnitude ≤ 1.5 (kinks of piecewise ops kept
/// ≥ 0.05 away, so no difference straddles one). Truncation error is h²/6·|f‴| ≈ 2e-5,
/// float32 rounding ≈ ε·|f|/h ≈ 1e-5, so |J − FD| ≤ 2e-3 + 2e-3·|J| leaves a 50× margin
/// and still catches a wrong sign, factor or index (errors of order 1e-1 … 1).
struct GradientCheckTests {
    static let h: Float = 1e-2
    static let atol: Float = 2e-3
    static let rtol: Float = 2e-3

    static let cases: [OpCase] = {
        var c: [OpCase] = []
        let x234 = [("x", [2, 3, 4])]
        for op in ["Relu", "Sigmoid", "HardSwish", "Tanh", "Softplus", "Identity", "Dropout"] {
            c.append(OpCase(label: op, op: op, inputs: x234))
        }
        c.append(OpCase(label: "LeakyRelu α=0.1", op: "LeakyRelu", inputs: x234, attributes: ["alpha": .float(0.1)]))
        c.append(OpCase(label: "Elu α=0.7", op: "Elu", inputs: x234, attributes: ["alpha": .float(0.7)]))
        c.append(OpCase(label: "Selu", op: "Selu", inputs: x234))
        c.append(OpCase(label: "HardSigmoid", op: "HardSigmoid", inputs: x234, attributes: ["alpha": .float(0.3)]))
        c.append(OpCase(label: "Gelu exact", op: "Gelu", inputs: x234, opset: 20))
        c.append(OpCase(label: "Gelu tanh", op: "Gelu", inputs: x234, attributes: ["approximate": .string("tanh")], opset: 20))
        c.append(OpCase(label: "Clip opset 13", op: "Clip", inputs: x234,
                        constants: [floats("lo", [], [-0.75]), floats("hi", [], [0.85])], values: .distinct))
        c.append(OpCase(label: "Cast to float", op: "Cast", inputs: x234, attributes: ["to": .int(1)]))
        for op in ["Add", "Sub", "Mul", "Div"] {
            c.append(OpCase(label: "\(op) broadcast", op: op, inputs: [("a", [2, 3, 4]), ("b", [3, 1])], values: .positive))
            c.append(OpCase(label: "\(op) constant", op: op, inputs: [("a", [2, 3])],
                            constants: [seeded("k", [3], seed: 3, lo: 0.5, hi: 2)], values: .positive))
        }
        c.append(OpCase(label: "Sum of three", op: "Sum", inputs: [("a", [2, 3]), ("b", [3]), ("c", [2, 1])]))
        c.append(OpCase(label: "Concat axis 1", op: "Concat", inputs: [("a", [2, 2, 3]), ("b", [2, 1, 3])],
                        attributes: ["axis": .int(1)]))
        c.append(OpCase(label: "Split output 0", op: "Split", inputs: [("x", [2, 5])], constants: [ints("s", [2, 3])],
                        attributes: ["axis": .int(1)], outputs: ["y", "z"]))
        c.append(OpCase(label: "Reshape", op: "Reshape", inputs: x234, constants: [ints("s", [4, -1])]))
        c.append(OpCase(label: "Flatten axis 2", op: "Flatten", inputs: x234, attributes: ["axis": .int(2)]))
        c.append(OpCase(label: "Transpose", op: "Transpose", inputs: x234, attributes: ["perm": .ints([2, 0, 1])]))
        c.append(OpCase(label: "Squeeze", op: "Squeeze", inputs: [("x", [2, 1, 3])], constants: [ints("a", [1])]))
        c.append(OpCase(label: "Unsqueeze", op: "Unsqueeze", inputs: [("x", [2, 3])], constants: [ints("a", [0, 3])]))
        c.append(OpCase(label: "Resize nearest ×2 half_pixel", op: "Resize", inputs: [("x", [1, 2, 2, 3])],
                        constants: [floats("roi", [0], []), floats("sc", [4], [1, 1, 2, 1.5])], order: ["x", "roi", "sc"]))
        c.append(OpCase(label: "Resize nearest sizes asymmetric", op: "Resize", inputs: [("x", [1, 1, 3, 3])],
                        constants: [ints("sz", [1, 1, 5, 2])], order: ["x", "", "", "sz"],
                        attributes: ["coordinate_transformation_mode": .string("asymmetric"), "nearest_mode": .string("floor")]))
        c.append(OpCase(label: "Upsample opset 9", op: "Upsample", inputs: [("x", [1, 1, 2, 2])],
                        constants: [floats("sc", [4], [1, 1, 2, 3])], opset: 9))
        for mode in ["constant", "reflect", "edge"] {
            c.append(OpCase(label: "Pad \(mode)", op: "Pad", inputs: [("x", [1, 2, 3, 3])],
                            constants: [ints("p", [0, 0, 1, 2, 0, 0, 2, -1])], attributes: ["mode": .string(mode)]))
        }
        c.append(OpCase(label: "Slice steps", op: "Slice", inputs: [("x", [3, 6])],
                        constants: [ints("st", [4, 0]), ints("en", [-7, 3]), ints("ax", [1, 0]), ints("sp", [-2, 2])]))
        c.append(OpCase(label: "Gather 2-D indices", op: "Gather", inputs: [("x", [2, 3, 2])],
                        constants: [Tensor(name: "i", dims: [2, 2], int64s: [0, 2, -1, 1])], attributes: ["axis": .int(1)]))
        c.append(OpCase(label: "ReduceMean axes 1", op: "ReduceMean", inputs: x234, attributes: ["axes": .ints([1]), "keepdims": .int(0)]))
        c.append(OpCase(label: "ReduceSum axes input", op: "ReduceSum", inputs: x234, constants: [ints("a", [0, 2])]))
        c.append(OpCase(label: "ReduceMax all", op: "ReduceMax", inputs: x234, values: .distinct))
        c.append(OpCase(label: "Softmax axis 1", op: "Softmax", inputs: [("x", [2, 4, 3])], attributes: ["axis": .int(1)]))
        c.append(OpCase(label: "Softmax opset 11 (2-D coercion)", op: "Softmax", inputs: [("x", [2, 2, 3])], opset: 11))
        c.append(OpCase(label: "LogSoftmax", op: "LogSoftmax", inputs: [("x", [2, 5])]))
        c.append(OpCase(label: "BatchNormalization", op: "BatchNormalization", inputs: [("x", [2, 3, 2, 2])],
                        constants: [seeded("g", [3], seed: 1), seeded("b", [3], seed: 2), seeded("m", [3], seed: 3),
                                    seeded("v", [3], seed: 4, lo: 0.2, hi: 2)]))
        c.append(OpCase(label: "LRN size 3", op: "LRN", inputs: [("x", [1, 5, 2, 2])],
                        attributes: ["size": .int(3), "alpha": .float(0.6), "beta": .float(0.75), "bias": .float(1.5)]))
        c.append(OpCase(label: "LRN size 4 (asymmetric window)", op: "LRN", inputs: [("x", [1, 5, 1, 2])],
                        attributes: ["size": .int(4), "alpha": .float(0.9), "beta": .float(0.6), "bias": .float(2)]))
        c.append(OpCase(label: "MaxPool 3×3/2 pads 1", op: "MaxPool", inputs: [("x", [1, 2, 5, 5])],
                        attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])],
                        values: .distinct))
        c.append(OpCase(label: "MaxPool ceil dilated 1-D", op: "MaxPool", inputs: [("x", [1, 1, 8])],
                        attributes: ["kernel_shape": .ints([2]), "strides": .ints([2]), "dilations": .ints([2]), "ceil_mode": .int(1)],
                        values: .distinct))
        c.append(OpCase(label: "AveragePool excl. pad", op: "AveragePool", inputs: [("x", [1, 2, 4, 4])],
                        attributes: ["kernel_shape": .ints([3, 3]), "strides": .ints([2, 2]), "pads": .ints([1, 1, 1, 1])]))
        c.append(OpCase(label: "AveragePool incl. pad SAME_UPPER", op: "AveragePool", inputs: [("x", [1, 1, 5, 4])],
                        attributes: ["kernel_shape": .ints([2, 3]), "auto_pad": .string("SAME_UPPER"), "count_include_pad": .int(1)]))
        c.append(OpCase(label: "GlobalAveragePool", op: "GlobalAveragePool", inputs: [("x", [2, 3, 2, 2])]))
        c.append(OpCase(label: "GlobalMaxPool", op: "GlobalMaxPool", inputs: [("x", [2, 3, 2, 2])], values: .distinct))
        c.append(OpCase(label: "Conv groups/stride/dilation/pads + bias", op: "Conv", inputs: [("x", [1, 4, 5, 6])],
                        constants: [seeded("w", [6, 2, 2, 3], seed: 11), seeded("b", [6], seed: 12)],
                        attributes: ["group": .int(2), "strides": .ints([2, 1]), "dilations": .ints([1, 2]), "pads": .ints([1, 0, 0, 2])]))
        c.append(OpCase(label: "Conv batch 2 SAME_LOWER", op: "Conv", inputs: [("x", [2, 2, 4, 4])],
                        constants: [seeded("w", [3, 2, 3, 3], seed: 13)], attributes: ["auto_pad": .string("SAME_LOWER"), "strides": .ints([2, 2])]))
        c.append(OpCase(label: "ConvTranspose stride 2 output_padding", op: "ConvTranspose", inputs: [("x", [1, 4, 3, 3])],
                        constants: [seeded("w", [4, 1, 3, 2], seed: 14), seeded("b", [2], seed: 15)],
                        attributes: ["group": .int(2), "strides": .ints([2, 2]), "pads": .ints([1, 0, 1, 1]), "output_padding": .ints([1, 0])]))
        c.append(OpCase(label: "Gemm transB, C row", op: "Gemm", inputs: [("a", [2, 3])],
                        constants: [seeded("w", [4, 3], seed: 21), seeded("c", [4], seed: 22)],
                        attributes: ["transB": .int(1), "alpha": .float(0.5), "beta": .float(2)]))
        c.append(OpCase(label: "Gemm transA, both computed, C", op: "Gemm", inputs: [("a", [3, 2]), ("b", [3, 4]), ("c", [2, 1])],
                        attributes: ["transA": .int(1), "alpha": .float(1.5), "beta": .float(0.5)]))
        c.append(OpCase(label: "Gemm transA transB computed", op: "Gemm", inputs: [("a", [3, 2]), ("b", [4, 3])],
                        attributes: ["transA": .int(1), "transB": .int(1)]))
        c.append(OpCase(label: "MatMul batched · matrix", op: "MatMul", inputs: [("a", [2, 3, 4])], constants: [seeded("w", [4, 2], seed: 31)]))
        c.append(OpCase(label: "MatMul broadcast batches", op: "MatMul", inputs: [("a", [2, 1, 3, 4]), ("b", [3, 4, 2])]))
        c.append(OpCase(label: "MatMul vector · matrix", op: "MatMul", inputs: [("a", [3]), ("b", [3, 2])]))
        return c
    }()

    @Test(arguments: cases + opCases + recurrentCases)
    func vjpMatchesFiniteDifferences(_ c: OpCase) throws {
        let graph = try c.graph()
        let output = c.checked ?? c.outputs[0]
        let engine = try Engine(graph: graph, output: output)
        let feeds = c.feeds()
        let trace = try engine.forward(feeds)
        let y = trace.result
        #expect(y.count > 0)
        // Identity cotangents: row i of the VJP is row i of J.
        var eye = [Float](repeating: 0, count: y.count * y.count)
        for i in 0..<y.count { eye[i * y.count + i] = 1 }
        for (name, _) in c.inputs {
            guard let x = feeds[name] else { continue }
            // One engine per perturbed input: gradients flow through what depends on it.
            let perInput = try Engine(graph: graph, output: output, input: name)
            let jac = try perInput.vjp(try perInput.forward(feeds), cotangents: eye, rows: y.count)
            #expect(jac.count == y.count * x.count)
            var worst: Float = 0
            for j in 0..<x.count {
                var plus = feeds, minus = feeds
                plus[name]?.data[j] += Self.h
                minus[name]?.data[j] -= Self.h
                let yp = try engine.forward(plus).result.data
                let ym = try engine.forward(minus).result.data
                for i in 0..<y.count {
                    let fd = (yp[i] - ym[i]) / (2 * Self.h)
                    let an = jac[i * x.count + j]
                    let err = abs(fd - an)
                    worst = max(worst, err - Self.rtol * abs(an))
                    if err > Self.atol + Self.rtol * abs(an) {
                        Issue.record("\(c.label): ∂y[\(i)]/∂\(name)[\(j)] VJP \(an) vs FD \(fd)")
                        return
                    }
                }
            }
            #expect(worst <= Self.atol)
        }
    }
}
