import ONNX

/// The op registry: ONNX op type → kernel factory. One op per file under `Ops/`.
enum Kernels {
    typealias Factory = @Sendable (KernelContext) throws(ReferenceError) -> any Kernel

    /// The factory for `n`: standard-domain ops from `factories`, `com.microsoft` ones from
    /// `microsoft`; nil when the engine has no implementation.
    static func factory(for n: Node) -> Factory? {
        switch n.domain {
        case "", "ai.onnx": return factories[n.opType]
        case "com.microsoft": return microsoft[n.opType]
        case "kappa": return n.opType == "If" ? IfMerge.make : nil
        default: return nil
        }
    }

    /// Ops of onnxruntime's `com.microsoft` domain (the quantizer's output).
    static let microsoft: [String: Factory] = [
        "QuantizeLinear": QuantizeLinear.make, "DequantizeLinear": DequantizeLinear.make,
        "QLinearAdd": QLinearAdd.make, "QLinearMul": QLinearMul.make, "QLinearConcat": QLinearConcat.make,
        "QLinearGlobalAveragePool": QLinearGlobalAveragePool.make, "QLinearAveragePool": QLinearAveragePool.make,
        "QLinearSigmoid": QLinearSigmoid.make, "QLinearLeakyRelu": QLinearLeakyRelu.make, "QLinearSoftmax": QLinearSoftmax.make,
        "QGemm": QGemm.make, "MatMulIntegerToFloat": MatMulIntegerToFloat.make, "DynamicQuantizeMatMul": DynamicQuantizeMatMul.make,
        "DynamicQuantizeLSTM": DynamicQuantizeLSTM.make,
    ]

    static let factories: [String: Factory] = [
        // weight layers
        "Conv": Conv.make, "ConvTranspose": ConvTranspose.make, "Gemm": Gemm.make, "MatMul": MatMul.make,
        "BatchNormalization": BatchNormalization.make, "Einsum": Einsum.make,
        // recurrent
        "LSTM": LSTMCell.make, "GRU": GRUCell.make, "RNN": RNNCell.make,
        // quantization
        "QuantizeLinear": QuantizeLinear.make, "DequantizeLinear": DequantizeLinear.make,
        "DynamicQuantizeLinear": DynamicQuantizeLinear.make, "QLinearConv": QLinearConv.make,
        "QLinearMatMul": QLinearMatMul.make, "ConvInteger": ConvInteger.make, "MatMulInteger": MatMulInteger.make,
        // pooling and normalisation
        "MaxPool": MaxPool.make, "AveragePool": AveragePool.make,
        "GlobalMaxPool": GlobalMaxPool.make, "GlobalAveragePool": GlobalAveragePool.make, "LRN": LRN.make,
        "LpPool": LpPool.make, "GlobalLpPool": LpPool.makeGlobal, "LayerNormalization": LayerNormalization.make,
        "InstanceNormalization": InstanceNormalization.make, "GroupNormalization": GroupNormalization.make,
        // pointwise
        "Relu": Relu.make, "LeakyRelu": LeakyRelu.make, "Elu": Elu.make, "Selu": Selu.make,
        "Sigmoid": Sigmoid.make, "HardSigmoid": HardSigmoid.make, "HardSwish": HardSwish.make,
        "Tanh": Tanh.make, "Softplus": Softplus.make, "Gelu": Gelu.make, "Clip": Clip.make,
        "Erf": Erf.make, "Sqrt": Sqrt.make, "Exp": Exp.make, "Log": Log.make, "Reciprocal": Reciprocal.make,
        "Neg": Neg.make, "Abs": Abs.make, "Sign": Sign.make, "Floor": Floor.make, "Ceil": Ceil.make,
        "Round": Round.make, "Sin": Sin.make, "Cos": Cos.make, "Softsign": Softsign.make, "Mish": Mish.make,
        "Celu": Celu.make, "ThresholdedRelu": ThresholdedRelu.make, "Shrink": Shrink.make, "Not": Not.make,
        "IsNaN": IsNaN.make, "IsInf": IsInf.make,
        // elementwise with broadcasting
        "Add": BinaryOp<AddOp>.make, "Sub": BinaryOp<SubOp>.make, "Mul": BinaryOp<MulOp>.make,
        "Div": BinaryOp<DivOp>.make, "Sum": Sum.make, "Pow": BinaryOp<PowOp>.make, "Mod": Mod.make,
        "PRelu": PRelu.make,
        "Equal": BinaryOp<EqualOp>.make, "Less": BinaryOp<LessOp>.make, "Greater": BinaryOp<GreaterOp>.make,
        "LessOrEqual": BinaryOp<LessOrEqualOp>.make, "GreaterOrEqual": BinaryOp<GreaterOrEqualOp>.make,
        "And": BinaryOp<AndOp>.make, "Or": BinaryOp<OrOp>.make, "Xor": BinaryOp<XorOp>.make,
        "BitShift": BitShift.make, "Where": Where.make, "Min": Min.make, "Max": Max.make, "Mean": Mean.make,
        // structure and data movement
        "Concat": Concat.make, "Split": Split.make, "Reshape": Reshape.make, "Flatten": Flatten.make,
        "Transpose": Transpose.make, "Squeeze": Squeeze.make, "Unsqueeze": Unsqueeze.make,
        "Resize": Resize.make, "Upsample": Resize.make, "Pad": Pad.make, "Slice": Slice.make, "Gather": Gather.make,
        "Expand": Expand.make, "Tile": Tile.make, "GatherElements": GatherElements.make, "GatherND": GatherND.make,
        "ScatterND": ScatterND.make, "ScatterElements": ScatterElements.make, "Compress": Compress.make,
        "OneHot": OneHot.make, "NonZero": NonZero.make, "Trilu": Trilu.make, "Range": Range.make,
        "Shape": Shape.make, "Size": Size.make, "ConstantOfShape": ConstantOfShape.make,
        // reductions, softmax, selection
        "Softmax": Softmax.make, "LogSoftmax": Softmax.makeLog,
        "ReduceMean": Reduce.makeMean, "ReduceSum": Reduce.makeSum, "ReduceMax": Reduce.makeMax,
        "ReduceMin": Reduce.makeMin, "ReduceProd": Reduce.makeProd, "ReduceL1": Reduce.makeL1, "ReduceL2": Reduce.makeL2,
        "ReduceSumSquare": Reduce.makeSumSquare, "ReduceLogSum": Reduce.makeLogSum, "ReduceLogSumExp": Reduce.makeLogSumExp,
        "ArgMax": ArgMax.make, "ArgMin": ArgMax.makeMin, "TopK": TopK.make, "Hardmax": Hardmax.make, "CumSum": CumSum.make,
        // identities and casts
        "Dropout": Identity.make, "Identity": Identity.make, "Cast": Cast.make, "CastLike": Cast.make,
    ]
}
