import ONNX

/// Shape(X, start = 0, end = rank) at run time (the loader folds it when X's shape is
/// static): X's extents in [start, end) (negative values count from the rank, both
/// clamped), as INT64. It reads no values: no gradient.
struct Shape: Kernel {
    let start: Int?
    let end: Int?

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        Shape(start: c.node.int("start"), end: c.node.int("end"))
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        guard let x = inputs.first ?? nil else { return [] }
        let r = x.shape.count
        func clamp(_ v: Int) -> Int { min(max(v < 0 ? v + r : v, 0), r) }
        let s = clamp(start ?? 0), e = clamp(end ?? r)
        let dims = s < e ? Array(x.shape[s..<e]) : []
        return [Value(shape: [dims.count], data: dims.map(Float.init), dtype: .int64)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] { [nil] }
}
