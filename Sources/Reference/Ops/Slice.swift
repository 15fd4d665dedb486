import ONNX

/// Slice: starts/ends/axes/steps from attributes (opset < 10) or constant inputs,
/// clamped as ONNX specifies.
enum Slice {
    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let starts: [Int], ends: [Int], axes: [Int]?, steps: [Int]?
        if c.opset < 10 {
            guard let s = c.node.ints("starts"), let e = c.node.ints("ends") else { throw c.fail("missing starts/ends") }
            (starts, ends, axes, steps) = (s, e, c.node.ints("axes"), nil)
        } else {
            guard let s = try c.constantInts(1), let e = try c.constantInts(2) else { throw c.fail("missing starts/ends") }
            (starts, ends, axes, steps) = (s, e, try c.constantInts(3), try c.constantInts(4))
        }
        let ax = axes ?? Array(0..<starts.count)
        guard ends.count == starts.count, ax.count == starts.count, (steps?.count ?? starts.count) == starts.count else {
            throw c.fail("starts, ends, axes and steps differ in length")
        }
        var maps = x.map { Array(0..<$0) }
        for (i, a) in ax.enumerated() {
            let axis = try c.axis(a, rank: x.count)
            let step = steps?[i] ?? 1
            guard step != 0 else { throw c.fail("step 0 on axis \(a)") }
            maps[axis] = Shapes.sliceRange(start: starts[i], end: ends[i], step: step, dim: x[axis])
        }
        return TableKernel(inShape: x, maps: maps)
    }
}
