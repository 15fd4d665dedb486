/// A float32 tensor flowing through the reference engine: a row-major shape and its
/// values. Batched ops treat `shape[0]` as the batch; a cotangent for a tensor of
/// `count` elements is `k` such tensors back to back (`k × count` floats).
public struct Value: Sendable, Equatable {
    public var shape: [Int]
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.shape = shape
        self.data = [Float](repeating: 0, count: shape.reduce(1, *))
    }

    /// Number of elements (the product of `shape`, 1 for a scalar).
    public var count: Int { data.count }
}

extension Array where Element == Float {
    /// k rows of `count` zeros.
    static func zeros(_ n: Int) -> [Float] { [Float](repeating: 0, count: n) }
}
