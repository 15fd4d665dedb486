import ONNX

/// Trilu(X, k = 0, upper = 1) on the last two axes (i, j), batched over the others:
/// upper keeps the elements with j − i ≥ k, lower those with j − i ≤ k; the rest become 0.
/// k is a constant scalar input. A gather with a zero fill; the VJP keeps the cotangent of
/// the kept elements.
enum Trilu {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        guard x.count >= 2 else { throw c.fail("needs at least 2 axes, got \(x)") }
        let k = try c.constantInts(1)?.first ?? 0
        let upper = (c.node.int("upper") ?? 1) != 0
        let rows = x[x.count - 2], cols = x[x.count - 1]
        let count = x.reduce(1, *)
        var table = [Int32](repeating: -1, count: count)
        for flat in 0..<count {
            let j = flat % max(cols, 1), i = (flat / max(cols, 1)) % max(rows, 1)
            if upper ? j - i >= k : j - i <= k { table[flat] = Int32(flat) }
        }
        return TableKernel(shape: x, table: table, inCount: count)
    }
}
