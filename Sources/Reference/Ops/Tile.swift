import ONNX

/// Tile(X, repeats): output extent xₐ·repeatsₐ per axis, output index j reads input index
/// j mod xₐ (repeats a constant of X's rank, each ≥ 0). A gather; the VJP sums the cotangent
/// over the copies.
enum Tile {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        guard let repeats = try c.constantInts(1) else { throw c.fail("missing repeats input") }
        guard repeats.count == x.count, repeats.allSatisfy({ $0 >= 0 }) else {
            throw c.fail("repeats \(repeats) do not fit rank \(x.count)")
        }
        var maps: [[Int]] = []
        for a in x.indices {
            let (n, overflow) = x[a].multipliedReportingOverflow(by: repeats[a])
            guard !overflow, n <= Engine.maxElements else { throw c.fail("tiled extent overflows on axis \(a)") }
            maps.append((0..<n).map { $0 % max(x[a], 1) })
        }
        return TableKernel(inShape: x, maps: maps)
    }
}
