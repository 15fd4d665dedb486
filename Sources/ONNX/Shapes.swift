/// Shape arithmetic shared by constant folding and shape inference.
public enum Shapes {
    /// Numpy-style broadcast of two shapes; nil when they are incompatible.
    public static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = max(a.count, b.count)
        var out = Array(repeating: 1, count: r)
        for i in 0..<r {
            let x = i < r - a.count ? 1 : a[i - (r - a.count)]
            let y = i < r - b.count ? 1 : b[i - (r - b.count)]
            if x == y || y == 1 { out[i] = x } else if x == 1 { out[i] = y } else { return nil }
        }
        return out
    }

    /// Row-major strides of `shape`.
    public static func strides(_ shape: [Int]) -> [Int] {
        var s = Array(repeating: 1, count: shape.count)
        var acc = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            s[i] = acc
            acc *= shape[i]
        }
        return s
    }

    /// Strides that read `shape` as broadcast into `target` (0 on broadcast axes).
    public static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let s = strides(shape)
        let off = target.count - shape.count
        return (0..<target.count).map { i in
            i < off ? 0 : (shape[i - off] == 1 && target[i] != 1 ? 0 : s[i - off])
        }
    }

    /// Normalises a possibly negative axis for rank `r`; nil when out of range.
    public static func axis(_ a: Int, rank r: Int) -> Int? {
        let v = a < 0 ? a + r : a
        return v >= 0 && v < r ? v : nil
    }

    /// Resolves a Reshape target (0 copies a dim unless `allowZero`, one -1 is inferred).
    public static func reshape(_ input: [Int], to target: [Int], allowZero: Bool = false) -> [Int]? {
        var out = target
        var inferred: Int?
        for i in 0..<out.count {
            if out[i] == 0 && !allowZero {
                guard i < input.count else { return nil }
                out[i] = input[i]
            } else if out[i] == -1 {
                guard inferred == nil else { return nil }
                inferred = i
            } else if out[i] < 0 {
                return nil
            }
        }
        let total = input.reduce(1, *)
        if let k = inferred {
            let rest = out.enumerated().filter { $0.offset != k }.reduce(1) { $0 * $1.element }
            guard rest > 0, total % rest == 0 else { return nil }
            out[k] = total / rest
        }
        return out.reduce(1, *) == total ? out : nil
    }

    /// Slice bounds per ONNX Slice semantics (clamped), for one axis of extent `dim`.
    public static func sliceRange(start: Int, end: Int, step: Int, dim: Int) -> [Int] {
        guard step != 0 else { return [] }
        var s = start < 0 ? start + dim : start
        var e = end < 0 ? end + dim : end
        if step > 0 {
            s = min(max(s, 0), dim)
            e = min(max(e, 0), dim)
            return Array(stride(from: s, to: e, by: step))
        } else {
            s = min(max(s, -1), dim - 1)
            e = min(max(e, -1), dim - 1)
            return Array(stride(from: s, to: e, by: step))
        }
    }
}
