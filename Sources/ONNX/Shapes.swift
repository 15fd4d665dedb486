/// Shape arithmetic shared by constant folding and shape inference.
///
/// Shapes come from untrusted files, so every product and sum here is overflow-checked.
/// Invariant kept by shape inference: every shape in `ModelGraph.shapes` is `plausible`,
/// i.e. no negative extent and a volume (product with 0 counted as 1) of at most
/// `maxElements`; then any product of a subset of its extents fits in an Int.
public enum Shapes {
    /// Largest volume (product of extents, 0 counted as 1) shape inference accepts.
    public static let maxElements = 1 << 40

    /// Product of the extents with 0 counted as 1; nil when an extent is negative or the
    /// product exceeds `limit` (so it can never overflow).
    public static func volume(_ shape: [Int], limit: Int = maxElements) -> Int? {
        var v = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, o) = v.multipliedReportingOverflow(by: max(d, 1))
            guard !o, p <= limit else { return nil }
            v = p
        }
        return v
    }

    /// Whether shape inference may hold `shape` (see the type's invariant).
    public static func isPlausible(_ shape: [Int]) -> Bool { volume(shape) != nil }

    /// Number of indices ONNX Slice selects on one axis (the count of `sliceRange`,
    /// computed without materialising it).
    public static func sliceCount(start: Int, end: Int, step: Int, dim: Int) -> Int {
        guard step != 0, dim >= 0 else { return 0 }
        var s = start < 0 ? start + dim : start
        var e = end < 0 ? end + dim : end
        if step > 0 {
            s = min(max(s, 0), dim)
            e = min(max(e, 0), dim)
            guard e > s else { return 0 }
            return 1 + Int(UInt(e - s - 1) / step.magnitude)
        }
        s = min(max(s, -1), dim - 1)
        e = min(max(e, -1), dim - 1)
        guard s > e else { return 0 }
        return 1 + Int(UInt(s - e - 1) / step.magnitude)
    }
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

    /// Calls `body(i, ia, ib)` for every flat index i of `out` (row-major), with the flat indices
    /// ia of `a` and ib of `b` that broadcast onto it (numpy rules; `out` is their broadcast
    /// shape).
    @inline(__always)
    public static func forEachBroadcastPair(_ a: [Int], _ b: [Int], to out: [Int], _ body: (Int, Int, Int) throws -> Void) rethrows {
        let sa = broadcastStrides(a, to: out), sb = broadcastStrides(b, to: out), st = strides(out)
        let count = out.reduce(1, *)
        for i in 0..<count {
            var rem = i, ia = 0, ib = 0
            for d in 0..<out.count {
                let c = rem / st[d]
                rem -= c * st[d]
                ia += c * sa[d]
                ib += c * sb[d]
            }
            try body(i, ia, ib)
        }
    }

    /// Normalises a possibly negative axis for rank `r`; nil when out of range.
    public static func axis(_ a: Int, rank r: Int) -> Int? {
        let v = a < 0 ? a + r : a
        return v >= 0 && v < r ? v : nil
    }

    /// Resolves a Reshape target (0 copies a dim unless `allowZero`, one -1 is inferred).
    public static func reshape(_ input: [Int], to target: [Int], allowZero: Bool = false) -> [Int]? {
        guard let total = checkedProduct(input) else { return nil }
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
        if let k = inferred {
            guard let rest = checkedProduct(out.enumerated().filter { $0.offset != k }.map(\.element)),
                  rest > 0, total % rest == 0 else { return nil }
            out[k] = total / rest
        }
        guard let product = checkedProduct(out), product == total else { return nil }
        // With zero-sized tensors the products match whatever the other extents are.
        return isPlausible(out) ? out : nil
    }

    /// Product of non-negative extents; nil on overflow.
    public static func checkedProduct(_ shape: [Int]) -> Int? {
        var v = 1
        for d in shape {
            let (p, o) = v.multipliedReportingOverflow(by: d)
            if o { return nil }
            v = p
        }
        return v
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
