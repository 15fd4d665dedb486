/// Element types of node outputs (the ONNX operator definitions' type constraints), for the
/// ops where the output type is not simply the first input's. Shape inference applies them
/// in topological order; a declared `value_info` type is used where no rule knows better.
enum DTypeRules {
    static let boolOutput: Set<String> = [
        "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Not", "IsNaN", "IsInf",
        "RegexFullMatch",
    ]
    static let int64Output: Set<String> = ["Shape", "Size", "ArgMax", "ArgMin", "NonZero"]

    /// Output element types of `n` given its input types (nil where unknown).
    static func outputs(_ n: Node, inputs: [DataType?], constants: [String: Tensor]) -> [DataType?] {
        let first = inputs.first ?? nil
        let count = n.outputs.count
        func all(_ t: DataType?) -> [DataType?] { Array(repeating: t, count: count) }
        func input(_ i: Int) -> DataType? { i < inputs.count ? inputs[i] : nil }
        let op = n.opType
        if n.domain == "com.microsoft" {
            switch op {
            case "DynamicQuantizeMatMul", "MatMulIntegerToFloat", "MatMulInteger16": return all(.float)
            case "QLinearAdd", "QLinearMul", "QLinearSigmoid", "QLinearLeakyRelu",
                 "QLinearGlobalAveragePool", "QLinearAveragePool", "QLinearSoftmax":
                return all(input(0) ?? .uint8)
            case "QLinearConcat": return all(input(1) ?? input(2) ?? .uint8)  // Y_zero_point, else the first part
            case "QGemm": return all(n.input(8) == nil ? .float : (input(8) ?? .uint8))  // float without y_zero_point
            case "QuantizeLinear": return all(input(2) ?? .uint8)
            case "DequantizeLinear": return all(input(1) ?? .float)
            default: return all(first)
            }
        }
        if boolOutput.contains(op) { return all(.bool) }
        if int64Output.contains(op) { return all(.int64) }
        switch op {
        case "Cast":
            return all(n.int("to").flatMap { DataType(rawValue: Int32(truncatingIfNeeded: $0)) })
        case "CastLike":
            return all(input(1))
        case "QuantizeLinear":
            if let t = n.int("output_dtype").flatMap({ DataType(rawValue: Int32(truncatingIfNeeded: $0)) }), t != .float { return all(t) }
            return all(input(2) ?? .uint8)
        case "DequantizeLinear":
            return all(input(1) ?? .float)
        case "DynamicQuantizeLinear":
            return [.uint8, .float, .uint8].prefix(count).map { $0 }
        case "ConvInteger", "MatMulInteger":
            return all(.int32)
        case "QLinearConv":
            return all(input(7) ?? input(0))
        case "QLinearMatMul":
            return all(input(7) ?? input(0))
        case "TopK":
            return [first, .int64].prefix(count).map { $0 }
        case "MaxPool":
            return [first, .int64].prefix(count).map { $0 }
        case "Dropout":
            return [first, .bool].prefix(count).map { $0 }
        case "ConstantOfShape":
            return all(n.tensor("value")?.dataType ?? .float)
        case "Where":
            return all(input(1))
        case "OneHot":
            return all(input(2))
        case "EyeLike", "RandomNormalLike", "RandomUniformLike", "Bernoulli":
            return all(n.int("dtype").flatMap { DataType(rawValue: Int32(truncatingIfNeeded: $0)) } ?? first)
        case "RandomNormal", "RandomUniform":
            return all(n.int("dtype").flatMap { DataType(rawValue: Int32(truncatingIfNeeded: $0)) } ?? .float)
        case "Range":
            return all(first)
        case "Constant":
            if let t = n.tensor("value") { return all(t.dataType) }
            if n.attributes["value_float"] != nil || n.attributes["value_floats"] != nil { return all(.float) }
            if n.attributes["value_int"] != nil || n.attributes["value_ints"] != nil { return all(.int64) }
            return all(nil)
        default:
            return all(first)
        }
    }
}
