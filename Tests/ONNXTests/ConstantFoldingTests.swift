import KappaTestSupport
import ONNX
import Testing

@Suite("Constants: Constant nodes, ConstantOfShape and constant-only chains")
struct ConstantFoldingTests {
    static let x = ValueInfoSpec("x", shape: [1, 3, 4, 4])

    @Test("Constant node: value tensor, value_float(s), value_int(s)")
    func constantNodes() throws {
        let g = try prepared(model(nodes: [
            NodeSpec("Constant", name: "c_tensor", inputs: [], outputs: ["t"],
                     attributes: [("value", .tensor(.float("ignored_name", dims: [2, 2], values: [1, 2, 3, 4])))]),
            NodeSpec("Constant", name: "c_float", inputs: [], outputs: ["f"], attributes: [("value_float", .float(2.5))]),
            NodeSpec("Constant", name: "c_floats", inputs: [], outputs: ["fs"], attributes: [("value_floats", .floats([1, -1, 0.5]))]),
            NodeSpec("Constant", name: "c_int", inputs: [], outputs: ["i"], attributes: [("value_int", .int(-9))]),
            NodeSpec("Constant", name: "c_ints", inputs: [], outputs: ["is"], attributes: [("value_ints", .ints([3, 1 << 40]))]),
        ]))
        let t = try #require(g.constants["t"])
        #expect(t.name == "t")
        #expect(t.dims == [2, 2])
        #expect(t.floats() == [1, 2, 3, 4])
        #expect(t.storage == .constantNode)
        #expect(g.constants["f"]?.dims == [])
        #expect(g.constants["f"]?.floats() == [2.5])
        #expect(g.constants["f"]?.dataType == .float)
        #expect(g.constants["fs"]?.dims == [3])
        #expect(g.constants["fs"]?.floats() == [1, -1, 0.5])
        #expect(g.constants["i"]?.dataType == .int64)
        #expect(g.constants["i"]?.dims == [])
        #expect(g.constants["i"]?.int64s() == [-9])
        #expect(g.constants["is"]?.int64s() == [3, 1 << 40])
        for name in ["t", "f", "fs", "i", "is"] {
            #expect(g.constants[name]?.storage == .constantNode, "\(name)")
            #expect(g.isConstant(name))
        }
        #expect(g.shapes["t"] == [2, 2])
        #expect(g.dtypes["i"] == .int64)
    }

    @Test("ConstantOfShape from an INT64 shape initializer (as in the ONNX 'light' models)")
    func constantOfShape() throws {
        let g = try prepared(model(nodes: [
            NodeSpec("ConstantOfShape", name: "fill_half", inputs: ["shape"], outputs: ["half"],
                     attributes: [("value", .tensor(.float("v", dims: [1], values: [0.5])))]),
            NodeSpec("ConstantOfShape", name: "fill_int", inputs: ["shape"], outputs: ["sevens"],
                     attributes: [("value", .tensor(.int64("v", dims: [1], values: [7])))]),
            NodeSpec("ConstantOfShape", name: "fill_default", inputs: ["shape"], outputs: ["zeros"]),
            NodeSpec("ConstantOfShape", name: "fill_scalar", inputs: ["empty_shape"], outputs: ["scalar"],
                     attributes: [("value", .tensor(.float("v", dims: [1], values: [3])))]),
        ], initializers: [.int64("shape", dims: [2], values: [2, 3]), .int64("empty_shape", dims: [0], values: [])]))
        #expect(g.constants["half"]?.dims == [2, 3])
        #expect(g.constants["half"]?.floats() == Array(repeating: 0.5, count: 6))
        #expect(g.constants["half"]?.storage == .folded)
        #expect(g.constants["sevens"]?.dataType == .int64)
        #expect(g.constants["sevens"]?.int64s() == Array(repeating: 7, count: 6))
        #expect(g.constants["zeros"]?.floats() == Array(repeating: 0, count: 6))
        #expect(g.constants["scalar"]?.dims == [])
        #expect(g.constants["scalar"]?.floats() == [3])
        #expect(g.shapes["half"] == [2, 3])
    }

    @Test("absurd ConstantOfShape sizes are refused before anything is allocated",
          arguments: [[Int64(1) << 20, 1 << 20], [1 << 40, 1 << 40, 1 << 40], [Int64.max, 2]])
    func constantOfShapeTooLarge(_ dims: [Int64]) throws {
        let (error, path) = try loadError(model(nodes: [
            NodeSpec("ConstantOfShape", name: "huge_fill", inputs: ["shape"], outputs: ["y"]),
        ], initializers: [.int64("shape", dims: [dims.count], values: dims)]))
        expectError(error, "constantTooLarge", path: path, naming: ["huge_fill", "folding limit"])
        if case let .constantTooLarge(_, _, elements)? = error {
            #expect(elements > ConstantFolder.maxElements)
        }
    }

    @Test("ConstantOfShape with a negative dimension is refused")
    func constantOfShapeNegative() throws {
        let (error, path) = try loadError(model(nodes: [
            NodeSpec("ConstantOfShape", name: "neg_fill", inputs: ["shape"], outputs: ["y"]),
        ], initializers: [.int64("shape", dims: [2], values: [3, -1])]))
        expectError(error, "badNode", path: path, naming: ["neg_fill", "negative"])
    }

    @Test("Identity → Cast → Reshape → Transpose → Unsqueeze → Squeeze chain folds with the right values")
    func layoutChain() throws {
        // w = [[1, 2, 3], [4, 5, 6]] as INT64; Cast to FLOAT; reshape to 3×2 = [[1,2],[3,4],[5,6]];
        // transpose → [[1,3,5],[2,4,6]]; unsqueeze axis 0 → 1×2×3; squeeze it back.
        let g = try prepared(model(nodes: [
            NodeSpec("Identity", name: "id", inputs: ["w"], outputs: ["w_id"]),
            NodeSpec("Cast", name: "cast", inputs: ["w_id"], outputs: ["w_f"], attributes: [("to", .int(1))]),
            NodeSpec("Reshape", name: "reshape", inputs: ["w_f", "shape"], outputs: ["w_r"]),
            NodeSpec("Transpose", name: "transpose", inputs: ["w_r"], outputs: ["w_t"], attributes: [("perm", .ints([1, 0]))]),
            NodeSpec("Unsqueeze", name: "unsq", inputs: ["w_t", "axes"], outputs: ["w_u"]),
            NodeSpec("Squeeze", name: "sq", inputs: ["w_u", "axes"], outputs: ["w_s"]),
        ], initializers: [.int64("w", dims: [2, 3], values: [1, 2, 3, 4, 5, 6]),
                          .int64("shape", dims: [2], values: [3, -1]), .int64("axes", dims: [1], values: [0])]))
        #expect(g.constants["w_id"]?.storage == .initializer)  // zero-copy rename keeps the storage
        #expect(g.constants["w_id"]?.int64s() == [1, 2, 3, 4, 5, 6])
        #expect(g.constants["w_f"]?.dataType == .float)
        #expect(g.constants["w_f"]?.storage == .folded)
        #expect(g.constants["w_r"]?.dims == [3, 2])
        #expect(g.constants["w_t"]?.dims == [2, 3])
        #expect(g.constants["w_t"]?.floats() == [1, 3, 5, 2, 4, 6])
        #expect(g.constants["w_u"]?.dims == [1, 2, 3])
        #expect(g.constants["w_s"]?.dims == [2, 3])
        #expect(g.constants["w_s"]?.floats() == [1, 3, 5, 2, 4, 6])
        #expect(g.shapes["w_s"] == [2, 3])
    }

    @Test("Transpose of a 3-D constant matches index arithmetic")
    func transpose3D() throws {
        let values = (0..<24).map(Float.init)
        let g = try prepared(model(nodes: [
            NodeSpec("Transpose", name: "t", inputs: ["w"], outputs: ["y"], attributes: [("perm", .ints([2, 0, 1]))]),
            NodeSpec("Transpose", name: "rev", inputs: ["w"], outputs: ["z"]),
        ], initializers: [.float("w", dims: [2, 3, 4], values: values)]))
        // y[k][i][j] = w[i][j][k]
        var expected: [Float] = []
        for k in 0..<4 { for i in 0..<2 { for j in 0..<3 { expected.append(values[i * 12 + j * 4 + k]) } } }
        #expect(g.constants["y"]?.dims == [4, 2, 3])
        #expect(g.constants["y"]?.floats() == expected)
        // default perm reverses: z[k][j][i] = w[i][j][k]
        var reversed: [Float] = []
        for k in 0..<4 { for j in 0..<3 { for i in 0..<2 { reversed.append(values[i * 12 + j * 4 + k]) } } }
        #expect(g.constants["z"]?.floats() == reversed)
    }

    @Test("DequantizeLinear per tensor: y = (x − zero_point) · scale")
    func dequantizePerTensor() throws {
        let g = try prepared(model(nodes: [
            NodeSpec("DequantizeLinear", name: "dq", inputs: ["q", "s", "z"], outputs: ["w"]),
            NodeSpec("DequantizeLinear", name: "dq_nozp", inputs: ["q", "s"], outputs: ["w2"]),
        ], initializers: [
            TensorSpec(name: "q", dataType: DataType.int8.rawValue, dims: [4], data: .raw(leBytes([Int8(-128), -1, 0, 127]))),
            .float("s", dims: [], values: [0.5]),
            TensorSpec(name: "z", dataType: DataType.int8.rawValue, dims: [], data: .raw(leBytes([Int8(-1)]))),
        ]))
        #expect(g.constants["w"]?.floats() == [-63.5, 0, 0.5, 64])
        #expect(g.constants["w2"]?.floats() == [-64, -0.5, 0, 63.5])
        #expect(g.constants["w"]?.storage == .folded)
    }

    @Test("DequantizeLinear per axis (axis 0 and axis 1) against hand computation")
    func dequantizePerAxis() throws {
        // q (UINT8, 2×3) = [[0, 10, 20], [30, 40, 50]]
        let q = TensorSpec(name: "q", dataType: DataType.uint8.rawValue, dims: [2, 3], data: .raw([0, 10, 20, 30, 40, 50]))
        let g = try prepared(model(nodes: [
            NodeSpec("DequantizeLinear", name: "dq0", inputs: ["q", "s0", "z0"], outputs: ["w0"], attributes: [("axis", .int(0))]),
            NodeSpec("DequantizeLinear", name: "dq1", inputs: ["q", "s1", "z1"], outputs: ["w1"]),  // default axis 1
        ], initializers: [
            q,
            .float("s0", dims: [2], values: [0.25, 2]),
            TensorSpec(name: "z0", dataType: DataType.uint8.rawValue, dims: [2], data: .raw([10, 30])),
            .float("s1", dims: [3], values: [1, 0.5, -1]),
            TensorSpec(name: "z1", dataType: DataType.uint8.rawValue, dims: [3], data: .raw([0, 20, 50])),
        ]))
        // axis 0: row 0 (x − 10)·0.25, row 1 (x − 30)·2
        #expect(g.constants["w0"]?.floats() == [-2.5, 0, 2.5, 0, 20, 40])
        // axis 1: column c (x − z1[c])·s1[c]
        #expect(g.constants["w1"]?.floats() == [0, -5, 30, 30, 10, 0])
        #expect(g.constants["w1"]?.dims == [2, 3])
    }

    @Test("DequantizeLinear whose per-axis scale does not match the axis is refused")
    func dequantizeMismatch() throws {
        let (error, path) = try loadError(model(nodes: [
            NodeSpec("DequantizeLinear", name: "dq_bad", inputs: ["q", "s"], outputs: ["w"], attributes: [("axis", .int(0))]),
        ], initializers: [
            TensorSpec(name: "q", dataType: DataType.int8.rawValue, dims: [2, 3], data: .raw([1, 2, 3, 4, 5, 6])),
            .float("s", dims: [3], values: [1, 2, 3]),
        ]))
        expectError(error, "badNode", path: path, naming: ["dq_bad", "per-axis scale"])
    }

    @Test("Shape → Gather → Unsqueeze → Concat → Reshape (PyTorch flatten export) folds the target shape")
    func pytorchFlatten() throws {
        let g = try prepared(model(nodes: [
            NodeSpec("Shape", name: "shape", inputs: ["x"], outputs: ["s"]),
            NodeSpec("Gather", name: "gather", inputs: ["s", "zero"], outputs: ["batch"], attributes: [("axis", .int(0))]),
            NodeSpec("Unsqueeze", name: "unsqueeze", inputs: ["batch", "axes"], outputs: ["batch1"]),
            NodeSpec("Concat", name: "concat", inputs: ["batch1", "minus_one"], outputs: ["target"], attributes: [("axis", .int(0))]),
            NodeSpec("Reshape", name: "flatten", inputs: ["x", "target"], outputs: ["y"]),
        ], initializers: [.int64("zero", dims: [], values: [0]), .int64("axes", dims: [1], values: [0]),
                          .int64("minus_one", dims: [1], values: [-1])],
           inputs: [Self.x], outputs: [ValueInfoSpec("y", dims: nil)]))
        #expect(g.constants["s"]?.int64s() == [1, 3, 4, 4])
        #expect(g.constants["batch"]?.dims == [])
        #expect(g.constants["batch"]?.int64s() == [1])
        #expect(g.constants["batch1"]?.dims == [1])
        #expect(g.constants["target"]?.int64s() == [1, -1])
        #expect(g.constants["target"]?.storage == .folded)
        #expect(g.shapes["y"] == [1, 48])
        #expect(!g.isConstant("y"))
        #expect(!g.isConstant("x"))
    }

    @Test("opset-11 attribute forms of Unsqueeze/Squeeze and a Flatten of a constant")
    func attributeForms() throws {
        let g = try prepared(model(nodes: [
            NodeSpec("Unsqueeze", name: "u", inputs: ["w"], outputs: ["wu"], attributes: [("axes", .ints([0, 3]))]),
            NodeSpec("Squeeze", name: "s", inputs: ["wu"], outputs: ["ws"], attributes: [("axes", .ints([-1]))]),
            NodeSpec("Squeeze", name: "s_all", inputs: ["wu"], outputs: ["wa"]),
            NodeSpec("Flatten", name: "f", inputs: ["wu"], outputs: ["wf"], attributes: [("axis", .int(2))]),
        ], initializers: [.float("w", dims: [2, 3], values: [1, 2, 3, 4, 5, 6])], opset: 11))
        #expect(g.constants["wu"]?.dims == [1, 2, 3, 1])
        #expect(g.constants["ws"]?.dims == [1, 2, 3])
        #expect(g.constants["wa"]?.dims == [2, 3])
        #expect(g.constants["wf"]?.dims == [2, 3])
        #expect(g.constants["wf"]?.floats() == [1, 2, 3, 4, 5, 6])
    }

    @Test("Squeeze of an axis whose extent is not 1 is refused, not silently reshaped")
    func squeezeNonUnit() throws {
        let (error, path) = try loadError(model(nodes: [
            NodeSpec("Squeeze", name: "bad_squeeze", inputs: ["w"], outputs: ["y"], attributes: [("axes", .ints([0]))]),
        ], initializers: [.float("w", dims: [2, 3], values: [1, 2, 3, 4, 5, 6])], opset: 11))
        expectError(error, "badNode", path: path, naming: ["bad_squeeze"])
    }

    @Test("constant arithmetic on integers that overflows Int64 does not crash")
    func int64Overflow() throws {
        let g = try prepared(model(nodes: [
            NodeSpec("Mul", name: "mul", inputs: ["a", "a"], outputs: ["y"]),
        ], initializers: [.int64("a", dims: [2], values: [1 << 40, 3])]))
        #expect(g.constants["y"]?.int64s() == [.max, 9])  // saturates instead of trapping
    }

    @Test("data-dependent tensors are not constants; weights keep their storage kind")
    func storageKinds() throws {
        let g = try prepared(model(nodes: [
            NodeSpec("Constant", name: "c", inputs: [], outputs: ["b"], attributes: [("value", .tensor(.float("b", dims: [2], values: [1, 2])))]),
            NodeSpec("Transpose", name: "wt", inputs: ["w"], outputs: ["w_t"]),
            NodeSpec("MatMul", name: "mm", inputs: ["x", "w_t"], outputs: ["h"]),
            NodeSpec("Add", name: "add", inputs: ["h", "b"], outputs: ["y"]),
        ], initializers: [.float("w", dims: [2, 2], values: [1, 2, 3, 4])],
           inputs: [ValueInfoSpec("x", shape: [1, 2])], outputs: [ValueInfoSpec("y", shape: [1, 2])]))
        #expect(g.constants["w"]?.storage == .initializer)
        #expect(g.constants["b"]?.storage == .constantNode)
        #expect(g.constants["w_t"]?.storage == .folded)
        #expect(g.constants["w_t"]?.floats() == [1, 3, 2, 4])
        #expect(!g.isConstant("h") && !g.isConstant("y"))
        #expect(g.shapes["y"] == [1, 2])
    }

    @Test("Constant without any value is refused, naming the node")
    func constantWithoutValue() throws {
        let (error, path) = try loadError(model(nodes: [NodeSpec("Constant", name: "empty_const", inputs: [], outputs: ["c"])]))
        expectError(error, "badAttribute", path: path, naming: ["empty_const", "value"])
    }

    @Test("Constant holding strings is not a numeric weight but not an error either")
    func stringConstant() throws {
        let g = try prepared(model(nodes: [
            NodeSpec("Constant", name: "labels", inputs: [], outputs: ["l"], attributes: [("value_strings", .strings(["cat", "dog"]))]),
        ]))
        #expect(!g.isConstant("l"))
    }
}
