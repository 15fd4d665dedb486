/// Concat along `axis`: inputs viewed as (outer, extent_i·inner) blocks laid side by side;
/// the VJP cuts the cotangent back into the same blocks.
struct Concat: Kernel {
    let shape: [Int]
    let outer: Int
    let widths: [Int]

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        let first = try c.shape(0)
        guard let a = c.node.int("axis") else { throw c.fail("missing attribute 'axis'") }
        let axis = try c.axis(a, rank: first.count)
        var out = first
        out[axis] = 0
        var widths: [Int] = []
        let inner = first[(axis + 1)...].reduce(1, *)
        for i in c.shapes.indices {
            let s = try c.shape(i)
            guard s.count == first.count, s.indices.allSatisfy({ $0 == axis || s[$0] == first[$0] }) else {
                throw c.fail("input shapes \(first) and \(s) differ off axis \(a)")
            }
            out[axis] += s[axis]
            widths.append(s[axis] * inner)
        }
        return Concat(shape: out, outer: first[..<axis].reduce(1, *), widths: widths)
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        let total = widths.reduce(0, +)
        var y = [Float](repeating: 0, count: outer * total)
        var col = 0
        for (x, w) in zip(inputs, widths) {
            guard let x else { continue }
            for o in 0..<outer {
                for j in 0..<w { y[o * total + col + j] = x.data[o * w + j] }
            }
            col += w
        }
        return [Value(shape: shape, data: y, dtype: inputs.first??.dtype ?? .float)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        let total = widths.reduce(0, +)
        var col = 0
        var result: [[Float]?] = []
        for (i, w) in widths.enumerated() {
            defer { col += w }
            guard a.wants[i] else { result.append(nil); continue }
            var g = [Float](repeating: 0, count: a.rows * outer * w)
            for r in 0..<a.rows {
                for o in 0..<outer {
                    let src = r * outer * total + o * total + col, dst = r * outer * w + o * w
                    for j in 0..<w { g[dst + j] = a.grad[src + j] }
                }
            }
            result.append(g)
        }
        return result
    }
}
