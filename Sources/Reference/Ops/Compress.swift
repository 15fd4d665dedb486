import ONNX

/// Compress(X, condition, axis): keeps the slices along `axis` whose condition entry is true
/// (a condition shorter than the axis counts its missing entries as false); without `axis`
/// the input is flattened first. The condition is read at run time, so the output's extent
/// follows it. A gather; the VJP scatter-adds into the kept elements.
struct Compress: RuntimeGather {
    let node: String
    let x: [Int]
    let axis: Int?

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let x = try c.shape(0)
        let axis = try c.node.int("axis").map { a throws(ReferenceError) in try c.axis(a, rank: x.count) }
        guard try c.shape(1).count == 1 else { throw c.fail("condition must be 1-D") }
        return Compress(node: c.name, x: x, axis: axis)
    }

    func table(_ inputs: [Value?]) throws(ReferenceError) -> TableKernel {
        guard let cond = inputs[1] else { throw .badNode(node: node, op: "Compress", reason: "missing condition") }
        let extent = axis.map { x[$0] } ?? x.reduce(1, *)
        guard cond.count <= extent else {
            throw .badNode(node: node, op: "Compress", reason: "condition has \(cond.count) entries for extent \(extent)")
        }
        let kept = (0..<cond.count).filter { cond.data[$0] != 0 }
        guard let axis else { return TableKernel(inShape: [extent], maps: [kept]) }
        var maps = x.map { Array(0..<$0) }
        maps[axis] = kept
        return TableKernel(inShape: x, maps: maps)
    }
}
