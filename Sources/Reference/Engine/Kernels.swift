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
    static let microsoft: [String: Factory] = [:]

    static let factories: [String: Factory] = [
        // weight layers
        "Conv": Conv.make, "ConvTranspose": ConvTranspose.make, "Gemm": Gemm.make, "MatMul": MatMul.make,
        "BatchNormalization": BatchNormalization.make,
        // pooling and normalisation
        "MaxPool": MaxPool.make, "AveragePool": AveragePool.make,
        "GlobalMaxPool": GlobalMaxPool.make, "GlobalAveragePool": GlobalAveragePool.make, "LRN": LRN.make,
        // pointwise
        "Relu": Relu.make, "LeakyRelu": LeakyRelu.make, "Elu": Elu.make, "Selu": Selu.make,
        "Sigmoid": Sigmoid.make, "HardSigmoid": HardSigmoid.make, "HardSwish": HardSwish.make,
        "Tanh": Tanh.make, "Softplus": Softplus.make, "Gelu": Gelu.make, "Clip": Clip.make,
        // binary with broadcasting
        "Add": BinaryOp<AddOp>.make, "Sub": BinaryOp<SubOp>.make, "Mul": BinaryOp<MulOp>.make,
        "Div": BinaryOp<DivOp>.make, "Sum": Sum.make,
        // structure
        "Concat": Concat.make, "Split": Split.make, "Reshape": Reshape.make, "Flatten": Flatten.make,
        "Transpose": Transpose.make, "Squeeze": Squeeze.make, "Unsqueeze": Unsqueeze.make,
        "Resize": Resize.make, "Upsample": Resize.make, "Pad": Pad.make, "Slice": Slice.make, "Gather": Gather.make,
        // reductions and softmax
        "Softmax": Softmax.make, "LogSoftmax": Softmax.makeLog,
        "ReduceMean": Reduce.makeMean, "ReduceSum": Reduce.makeSum, "ReduceMax": Reduce.makeMax,
        // identities
        "Dropout": Identity.make, "Identity": Identity.make, "Cast": Identity.makeCast,
    ]
}
