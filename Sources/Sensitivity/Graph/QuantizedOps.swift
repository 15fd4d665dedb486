import ONNX

/// The quantized operators the analysis reads (DESIGN.md §1.7 "Quantized ops"): ONNX
/// QLinearConv, QLinearMatMul, MatMulInteger, ConvInteger, DynamicQuantizeLinear, and
/// onnxruntime's com.microsoft contrib ops as its quantizer writes them.
public enum QuantizedOps {
    /// ai.onnx ops (added to ``OpSupport/knownOps``).
    public static let standard: Set<String> = [
        "QLinearConv", "QLinearMatMul", "MatMulInteger", "ConvInteger", "DynamicQuantizeLinear",
    ]
    /// com.microsoft ops with a rule (DynamicQuantizeLSTM: the LSTM rule on its dequantized
    /// weights).
    public static let contrib: Set<String> = [
        "QuantizeLinear", "DequantizeLinear", "QLinearAdd", "QLinearMul", "QLinearConcat", "QLinearGlobalAveragePool",
        "QLinearAveragePool", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax", "QGemm", "DynamicQuantizeMatMul",
        "MatMulIntegerToFloat", "DynamicQuantizeLSTM",
    ]
    /// Every op name above plus the standard QuantizeLinear/DequantizeLinear.
    public static let all: Set<String> = standard.union(contrib)

    /// Ops whose (integer) output is a re-quantized activation: an Eq. 8 rounding point.
    public static let requantizing: Set<String> = [
        "QLinearConv", "QLinearMatMul", "QLinearAdd", "QLinearMul", "QLinearConcat", "QLinearGlobalAveragePool",
        "QLinearAveragePool", "QLinearSigmoid", "QLinearLeakyRelu", "QLinearSoftmax", "QGemm",
    ]

    static func isStandardOrContrib(_ n: Node) -> Bool {
        n.domain.isEmpty || n.domain == "ai.onnx" || n.domain == "com.microsoft"
    }

    /// Whether the analysis has a rule for `n` (a quantized op of the standard domain or a
    /// com.microsoft op in ``contrib``).
    public static func isKnown(_ n: Node) -> Bool {
        if n.domain == "com.microsoft" { return contrib.contains(n.opType) }
        return (n.domain.isEmpty || n.domain == "ai.onnx") && standard.contains(n.opType)
    }
}
