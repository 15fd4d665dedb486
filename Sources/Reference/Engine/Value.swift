import ONNX

/// A tensor flowing through the reference engine: a row-major shape, its values as float32,
/// and the ONNX element type they stand for. Integer and bool tensors (token ids, masks,
/// shapes, quantized data) are held as float32 too — exact for magnitudes below 2²⁴, which
/// covers ids, shapes and 8/16-bit quantized values; kernels that need integer semantics
/// (Cast, integer Div, comparisons) read `dtype`. Batched ops treat `shape[0]` as the batch;
/// a cotangent for a tensor of `count` elements is `k` such tensors back to back.
public struct Value: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]
    public var dtype: DataType

    public init(shape: [Int], data: [Float], dtype: DataType = .float) {
        self.shape = shape
        self.data = data
        self.dtype = dtype
    }

    public init(zeros shape: [Int], dtype: DataType = .float) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
        self.dtype = dtype
    }

    /// The values as integers (rounded toward zero; for shape and index tensors).
    public var ints: [Int] { data.map { Int(saturatingInt64($0)) } }

    /// Number of elements (the product of `shape`, 1 for a scalar).
    public var count: Int { data.count }
}

extension Array where Element == Float {
    /// k rows of `count` zeros.
    static func zeros(_ n: Int) -> [Float] { [Float](repeating: 0, count: n) }
}
