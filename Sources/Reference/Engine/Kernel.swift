import ONNX

/// One node's forward map and its vector-Jacobian product, built for one set of
/// concrete input shapes (the engine rebuilds it when the shapes change).
///
/// `backward` receives the node's forward inputs and outputs (batch as run forward) and,
/// per output, `rows` cotangents back to back (`rows × output.count` floats, zeros where
/// an output receives none). It returns, per input, `rows` cotangents
/// (`rows × input.count` floats) where `wants[i]` is true, nil elsewhere. This is how
/// DeepFool gets k class gradients from one backward pass.
protocol Kernel {
    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value]
    func backward(_ args: BackwardArgs) throws(ReferenceError) -> [[Float]?]
}

struct BackwardArgs {
    var inputs: [Value?]
    var outputs: [Value]
    var grads: [[Float]]
    var rows: Int
    var wants: [Bool]

    /// The first output's cotangent rows.
    var grad: [Float] { grads[0] }
}

/// What a kernel factory sees: the node, the concrete shapes of its inputs (nil for an
/// omitted optional input), its constant inputs, and the default-domain opset.
struct KernelContext {
    let node: Node
    let shapes: [[Int]?]
    let constants: [Tensor?]
    let opset: Int
    /// Element types of the inputs (nil for an omitted optional input).
    var dtypes: [DataType?] = []
    /// Run-time values of the inputs that are computed but do not depend on the perturbed
    /// tensor (shape arithmetic, masks): they play the role of constants for the kernel.
    var parameters: [Value?] = []

    var name: String { node.name }
    var op: String { node.opType }

    func fail(_ reason: String) -> ReferenceError { .badNode(node: node.name, op: node.opType, reason: reason) }

    /// The shape of input `i`, which must be present.
    func shape(_ i: Int) throws(ReferenceError) -> [Int] {
        guard i < shapes.count, let s = shapes[i] else { throw fail("input \(i) is missing") }
        return s
    }

    /// Whether optional input `i` is given.
    func has(_ i: Int) -> Bool { i < shapes.count && shapes[i] != nil }

    /// Input `i` as a constant (or as the run-time value of a parameter input), or nil when
    /// omitted; throws when it depends on the perturbed tensor.
    func constant(_ i: Int) throws(ReferenceError) -> Tensor? {
        guard has(i) else { return nil }
        if i < constants.count, let t = constants[i] { return t }
        if i < parameters.count, let v = parameters[i] {
            let name = node.inputs[i]
            return v.dtype.isFloatingPoint || v.dtype == .bool
                ? Tensor(name: name, dims: v.shape, floats: v.data)
                : Tensor(name: name, dims: v.shape, int64s: v.data.map(saturatingInt64))
        }
        throw .notConstant(node: node.name, op: node.opType, input: node.inputs[i])
    }

    /// The element type of input `i` (FLOAT when unknown).
    func dtype(_ i: Int) -> DataType { i < dtypes.count ? (dtypes[i] ?? .float) : .float }

    /// Integer values of a constant input (axes, pads, shape), or nil when omitted.
    func constantInts(_ i: Int) throws(ReferenceError) -> [Int]? {
        try constant(i).map { $0.int64s().map { Int(clamping: $0) } }
    }

    /// Float values of a constant input, or nil when omitted.
    func constantFloats(_ i: Int) throws(ReferenceError) -> [Float]? {
        try constant(i).map { $0.floats() }
    }

    /// Normalises an axis for rank `r` or throws naming the attribute.
    func axis(_ a: Int, rank r: Int, _ what: String = "axis") throws(ReferenceError) -> Int {
        guard let v = Shapes.axis(a, rank: r) else { throw fail("\(what) \(a) is out of range for rank \(r)") }
        return v
    }
}

/// Adds `src` into `dst` (the engine's cotangent accumulation).
@inline(__always)
func accumulate(_ dst: inout [Float], _ src: [Float]) {
    for i in dst.indices { dst[i] += src[i] }
}

/// Float → Int64 rounding toward zero, saturating outside the range (INT64_MAX as a Slice end
/// arrives as 9.2e18), NaN → 0.
func saturatingInt64(_ x: Float) -> Int64 {
    guard !x.isNaN else { return 0 }
    if x >= 0x1p63 { return .max }
    if x <= -0x1p63 { return .min }
    return Int64(x.rounded(.towardZero))
}
