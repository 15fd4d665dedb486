/// Attribute validation in one place (run by `ModelGraph` before constant folding and shape
/// inference, whatever shapes are known): every window, axis, perm and group attribute of the
/// ops Kappa reads is checked for length, sign and range with overflow-safe arithmetic, so the
/// code after it (window counts, pooling constants, operator norms, the engine) may index and
/// multiply them without further checks. Every error names the node and the attribute.
///
/// Limits: window extents, strides, dilations, pads and output padding lie in
/// 0…``WindowGeometry/maxAttribute`` (2²⁰; real models use single digits); an axis lies in
/// −``maxRank``…``maxRank`` − 1; a group count in 1…2²⁰. Ranks are checked against each other
/// here (strides, dilations, kernel_shape, pads, output_padding must agree) and against the
/// input rank where it is known, in ``validate(_:rank:weightRank:path:)``.
public enum NodeValidator {
    /// Largest tensor rank Kappa accepts (ONNX has no limit; real models stay below 8).
    public static let maxRank = 64

    static let windowOps: Set<String> = ["Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool", "ConvInteger", "QLinearConv"]

    /// Checks the attributes of `n`. `rank` is the rank of the first input and `weightRank`
    /// that of a constant weight (Conv family), when known.
    public static func validate(_ n: Node, rank: Int?, weightRank: Int?, path: String) throws(ONNXError) {
        guard n.domain.isEmpty || n.domain == "ai.onnx" || n.domain == "com.microsoft" else { return }
        let a = Attributes(node: n, path: path)
        if windowOps.contains(n.opType) {
            try validateWindow(a, rank: rank, weightRank: weightRank)
        } else {
            try validateOther(a, rank: rank)
        }
        for key in ["alpha", "beta", "epsilon", "gamma", "bias", "lambd"] {
            if case let .float(v)? = n.attributes[key], !v.isFinite { throw a.bad(key, "is \(v); it must be finite") }
        }
    }

    /// Typed readers of one node's attributes, each error naming the node and the attribute.
    struct Attributes {
        let node: Node
        let path: String

        func bad(_ key: String, _ reason: String) -> ONNXError {
            .badAttribute(path: path, node: node.name, attribute: key, reason: reason)
        }

        func ints(_ key: String) throws(ONNXError) -> [Int]? {
            switch node.attributes[key] {
            case nil: return nil
            case let .ints(v)?: return v
            case .int?: throw bad(key, "must be a list of integers, got a single integer")
            default: throw bad(key, "must be a list of integers")
            }
        }

        func int(_ key: String) throws(ONNXError) -> Int? {
            switch node.attributes[key] {
            case nil: return nil
            case let .int(v)?: return v
            default: throw bad(key, "must be an integer")
            }
        }

        func string(_ key: String, oneOf allowed: [String]) throws(ONNXError) {
            guard let v = node.attributes[key] else { return }
            guard case let .string(s) = v else { throw bad(key, "must be a string") }
            guard allowed.contains(s) else {
                throw bad(key, "unknown value '\(ONNXError.clip(s))' (\(allowed.filter { !$0.isEmpty }.joined(separator: ", ")))")
            }
        }

        func inRange(_ key: String, _ v: [Int], _ lo: Int, _ hi: Int) throws(ONNXError) {
            for x in v where x < lo || x > hi {
                throw bad(key, "value \(x) is outside \(lo)...\(hi) (\(v.count <= 8 ? "\(v)" : "\(v.count) values"))")
            }
        }

        func axis(_ key: String, _ a: Int?, rank: Int?) throws(ONNXError) {
            guard let a else { return }
            guard a >= -maxRank, a < maxRank else { throw bad(key, "axis \(a) is outside -\(maxRank)...\(maxRank - 1)") }
            if let r = rank, Shapes.axis(a, rank: r) == nil {
                throw bad(key, "axis \(a) is out of range for an input of rank \(r)")
            }
        }
    }

    static func validateWindow(_ a: Attributes, rank: Int?, weightRank: Int?) throws(ONNXError) {
        let op = a.node.opType, name = a.node.name, path = a.path
        let m = WindowGeometry.maxAttribute
        let kernel = try a.ints("kernel_shape"), strides = try a.ints("strides"), dilations = try a.ints("dilations")
        let pads = try a.ints("pads"), outPad = try a.ints("output_padding"), outShape = try a.ints("output_shape")
        if let kernel { try a.inRange("kernel_shape", kernel, 1, m) }
        if let strides { try a.inRange("strides", strides, 1, m) }
        if let dilations { try a.inRange("dilations", dilations, 1, m) }
        if let pads { try a.inRange("pads", pads, 0, m) }
        if let outPad { try a.inRange("output_padding", outPad, 0, m) }
        if let outShape { try a.inRange("output_shape", outShape, 1, Shapes.maxElements) }
        if let g = try a.int("group"), g < 1 || g > m { throw a.bad("group", "must be in 1...\(m), got \(g)") }
        try a.string("auto_pad", oneOf: ["NOTSET", "", "SAME_UPPER", "SAME_LOWER", "VALID"])
        if ["MaxPool", "AveragePool", "LpPool"].contains(op), kernel == nil {
            throw a.bad("kernel_shape", "is required for \(op)")
        }
        // The spatial rank: from kernel_shape, the weight, or the input; every list must agree.
        var spatial: Int?
        var source = ""
        if let k = kernel { spatial = k.count; source = "kernel_shape" }
        if let w = weightRank, ["Conv", "ConvTranspose", "ConvInteger"].contains(op) {
            if w < 3 { throw .badNode(path: path, node: name, reason: "weight of rank \(w): a convolution weight has rank ≥ 3 (M, C/group, k…)") }
            if let s = spatial, s != w - 2 {
                throw a.bad("kernel_shape", "has \(s) values but the weight has \(w - 2) spatial axes")
            }
            spatial = w - 2
            source = "the weight"
        }
        if let r = rank {
            if r < 3 { throw .badNode(path: path, node: name, reason: "\(op) needs an input of rank ≥ 3 (N, C, spatial…), got rank \(r)") }
            if let s = spatial, s != r - 2 {
                throw .badNode(path: path, node: name, reason: "\(source) has \(s) spatial axes but the input has \(r - 2)")
            }
            if spatial == nil { spatial = r - 2; source = "the input" }
        }
        let lists: [(String, [Int]?, Int)] = [("strides", strides, 1), ("dilations", dilations, 1), ("pads", pads, 2),
                                              ("output_padding", outPad, 1)]
        for (key, list, factor) in lists {
            guard let list else { continue }
            if let s = spatial {
                guard list.count == factor * s else {
                    throw a.bad(key, "has \(list.count) values for \(s) spatial axes (\(source))\(factor == 2 ? "; pads need 2 per axis" : "")")
                }
            } else {
                guard list.count % factor == 0, list.count <= factor * maxRank else { throw a.bad(key, "has \(list.count) values") }
                spatial = list.count / factor
                source = key
            }
        }
    }

    static let axisOps: Set<String> = [
        "Softmax", "LogSoftmax", "Hardmax", "Gather", "GatherElements", "Split", "ArgMax", "ArgMin", "CumSum",
        "LayerNormalization", "TopK", "QuantizeLinear", "DequantizeLinear", "Compress", "OneHot", "ScatterElements",
    ]
    static let axesOps: Set<String> = [
        "Squeeze", "Unsqueeze", "ReduceMax", "ReduceMin", "ReduceMean", "ReduceSum", "ReduceProd", "ReduceL1", "ReduceL2",
        "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare",
    ]

    static func validateOther(_ a: Attributes, rank: Int?) throws(ONNXError) {
        let op = a.node.opType
        if axisOps.contains(op) {
            try a.axis("axis", try a.int("axis"), rank: rank)
            if op == "Split", let s = try a.ints("split") { try a.inRange("split", s, 0, Shapes.maxElements) }
            if op == "QuantizeLinear" || op == "DequantizeLinear", let b = try a.int("block_size"), b < 0 || b > Shapes.maxElements {
                throw a.bad("block_size", "must be in 0...\(Shapes.maxElements), got \(b)")
            }
            return
        }
        if axesOps.contains(op) {
            guard let axes = try a.ints("axes") else { return }
            guard axes.count <= maxRank else { throw a.bad("axes", "has \(axes.count) entries") }
            try a.inRange("axes", axes, -maxRank, maxRank - 1)
            guard Set(axes).count == axes.count else { throw a.bad("axes", "\(axes) repeats an axis") }
            if let r = rank, op != "Unsqueeze" {
                for x in axes where Shapes.axis(x, rank: r) == nil {
                    throw a.bad("axes", "axis \(x) is out of range for an input of rank \(r)")
                }
            }
            return
        }
        switch op {
        case "Transpose":
            guard let perm = try a.ints("perm") else { return }
            guard perm.count <= maxRank, Set(perm) == Set(0..<perm.count), perm.count == Set(perm).count else {
                throw a.bad("perm", "\(perm.count <= 8 ? "\(perm)" : "\(perm.count) values") is not a permutation of 0..<\(perm.count)")
            }
            if let r = rank, perm.count != r { throw a.bad("perm", "has \(perm.count) entries for an input of rank \(r)") }
        case "Concat":
            guard let x = try a.int("axis") else { throw a.bad("axis", "is required for Concat") }
            try a.axis("axis", x, rank: rank)
        case "Flatten":
            // Flatten's axis may equal the rank.
            guard let x = try a.int("axis") else { return }
            guard x >= -maxRank, x <= maxRank else { throw a.bad("axis", "axis \(x) is outside -\(maxRank)...\(maxRank)") }
            if let r = rank, x < -r || x > r { throw a.bad("axis", "axis \(x) is out of range for an input of rank \(r)") }
        case "Slice":
            if let axes = try a.ints("axes") { try a.inRange("axes", axes, -maxRank, maxRank - 1) }
        case "Pad":
            if let p = try a.ints("pads") {
                try a.inRange("pads", p, -WindowGeometry.maxAttribute, WindowGeometry.maxAttribute)
                guard p.count % 2 == 0 else { throw a.bad("pads", "has an odd number (\(p.count)) of values") }
                if let r = rank, p.count != 2 * r { throw a.bad("pads", "has \(p.count) values for an input of rank \(r)") }
            }
            try a.string("mode", oneOf: ["constant", "reflect", "edge", "wrap"])
        case "LRN":
            guard let s = try a.int("size") else { throw a.bad("size", "is required for LRN") }
            guard s >= 1, s <= WindowGeometry.maxAttribute else { throw a.bad("size", "must be in 1...\(WindowGeometry.maxAttribute), got \(s)") }
        case "Cast":
            if let to = try a.int("to"), Int32(exactly: to).flatMap({ DataType(rawValue: $0) }) == nil {
                throw a.bad("to", "unknown data type \(to)")
            }
        case "Gemm":
            for k in ["transA", "transB"] { if let v = try a.int(k), v != 0 && v != 1 { throw a.bad(k, "must be 0 or 1, got \(v)") } }
        case "LSTM", "GRU", "RNN":
            if let h = try a.int("hidden_size"), h < 1 || h > Shapes.maxElements { throw a.bad("hidden_size", "must be ≥ 1, got \(h)") }
            try a.string("direction", oneOf: ["forward", "reverse", "bidirectional"])
        default:
            break
        }
    }

    /// The ops whose every operand is numeric data: a STRING or complex constant there is an
    /// error (the analysis would read it as zeros). Float-only operands are listed apart.
    static let floatWeightOperands: [String: [Int]] = [
        "Conv": [1, 2], "ConvTranspose": [1, 2], "BatchNormalization": [1, 2, 3, 4], "LayerNormalization": [1, 2],
        "InstanceNormalization": [1, 2], "GroupNormalization": [1, 2], "LSTM": [1, 2, 3], "GRU": [1, 2, 3], "RNN": [1, 2, 3],
        "Gemm": [], "MatMul": [], "PRelu": [1],
    ]

    /// Checks the dtypes of `n`'s constant operands: numeric everywhere, floating point where
    /// the op computes with a float weight.
    public static func validateOperands(_ n: Node, constants: [String: Tensor], path: String) throws(ONNXError) {
        guard n.domain.isEmpty || n.domain == "ai.onnx" else { return }
        // Ops that legitimately take strings.
        if ["Cast", "CastLike", "Identity", "StringNormalizer", "LabelEncoder", "Equal", "Shape", "Size", "If", "Loop", "Scan",
            "Concat", "Gather", "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Transpose", "Slice", "Split", "Where",
            "Constant", "ConstantOfShape", "SequenceConstruct", "RegexFullMatch", "StringConcat", "StringSplit"].contains(n.opType) {
            return
        }
        for (i, name) in n.inputs.enumerated() where !name.isEmpty {
            guard let t = constants[name] else { continue }
            if !t.dataType.isNumeric {
                throw .badNode(path: path, node: n.name,
                               reason: "input \(i) '\(ONNXError.clip(name))' is a \(t.dataType) tensor; \(n.opType) needs numeric data there")
            }
            if let floatOnly = floatWeightOperands[n.opType], floatOnly.contains(i), !t.dataType.isFloatingPoint {
                throw .badNode(path: path, node: n.name,
                               reason: "input \(i) '\(ONNXError.clip(name))' is a \(t.dataType) tensor; \(n.opType) needs a floating-point weight there (quantized weights go through DequantizeLinear)")
            }
        }
    }
}
