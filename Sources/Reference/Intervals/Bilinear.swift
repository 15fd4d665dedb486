import Foundation
import Linalg
import ONNX
import Sensitivity

/// The product of two bounded matrices (batched), by centre and radius (``MatMulRules``):
/// C ∈ fl(A_c·B_c) ± (|A_c|·S₁ + A_r·S₂)(1 + 2γ_K) with S₁ = B_r + γ_K|B_c|, S₂ = |B_c| + B_r
/// (rounded up), three sgemms per batch item.
enum Bilinear {
    /// `items` lists (A offset, B offset, C offset) of each batch item's m×k, k×n and m×n blocks.
    static func product(_ a: TensorBounds, _ b: TensorBounds, items: [(Int, Int, Int)], m: Int, k: Int, n: Int,
                        shape: [Int], alpha: Double = 1, bias: (Int) -> Interval = { _ in Interval(point: 0) }) -> TensorBounds {
        let g = Outward.gamma(k)
        let (ac, ar, ainf) = a.centreRadius()
        let (bc, br, binf) = b.centreRadius()
        let aAbs = CentreRadius.absolute(ac)
        let s1 = CentreRadius.radius(br, bc, g), s2 = CentreRadius.radius(br, bc, 1)
        let total = items.count * m * n
        var yc = [Float](repeating: 0, count: total), p1 = yc, p2 = yc
        func run(_ x: [Float], _ y: [Float], into z: inout [Float]) {
            for (ao, bo, co) in items {
                sgemm(false, false, m: m, n: n, k: k, x, ao, lda: k, y, bo, ldb: n, &z, co, ldc: n)
            }
        }
        run(ac, bc, into: &yc)
        run(aAbs, s1, into: &p1)
        run(ar, s2, into: &p2)
        var mask: [Float]? = nil
        if ainf != nil || binf != nil {
            // Unbounded where an infinite bound meets a factor that is not exactly 0.
            func flags(_ t: TensorBounds, _ inf: [Bool]?, infinite: Bool) -> [Float] {
                (0..<t.count).map { i in
                    let isInf = inf?[i] ?? false
                    if infinite { return isInf ? 0x1p100 : 0 }
                    return isInf || t.lo[i] != 0 || t.hi[i] != 0 ? 0x1p100 : 0
                }
            }
            var m1 = yc, m2 = yc
            for i in m1.indices { m1[i] = 0; m2[i] = 0 }
            run(flags(a, ainf, infinite: true), flags(b, binf, infinite: false), into: &m1)
            run(flags(a, ainf, infinite: false), flags(b, binf, infinite: true), into: &m2)
            mask = zip(m1, m2).map { $0 + $1 }
        }
        return CentreRadius.enclosure(terms: k, shape: shape, yc: yc, q: CentreRadius.sum(p1, p2), mask: mask,
                                      alpha: alpha, bias: bias)
    }
}

/// Einsum with at most two operands that are not exactly known: linear (one varying
/// operand: the others are points, W·c and |W|·s through the engine's Einsum kernel) or
/// bilinear (two: as ``Bilinear``), with K = the product of the extents of the summed
/// letters (those that do not reach the output). Needs the engine's kernel; else no rule.
enum EinsumRule {
    static let rules: [String: IntervalRule] = ["Einsum": einsum]

    /// The number of products summed per output element, from the equation and shapes.
    static func terms(_ equation: String, _ shapes: [[Int]]) -> Int? {
        let eq = equation.replacingOccurrences(of: " ", with: "")
        let sides = eq.components(separatedBy: "->")
        let operands = sides[0].components(separatedBy: ",")
        guard operands.count == shapes.count, sides.count <= 2 else { return nil }
        var extent: [Character: Int] = [:], seen: [Character: Int] = [:]
        for (spec, shape) in zip(operands, shapes) {
            let letters = Array(spec.replacingOccurrences(of: "...", with: ""))
            let ellipsis = shape.count - letters.count
            guard ellipsis >= 0, ellipsis == 0 || spec.contains("...") else { return nil }
            let named = spec.hasPrefix("...") ? Array(shape.suffix(letters.count))
                : (spec.contains("...") ? nil : shape)
            guard let named, named.count == letters.count else { return nil }
            for (l, d) in zip(letters, named) { extent[l] = max(extent[l] ?? 1, d); seen[l, default: 0] += 1 }
        }
        let output: Set<Character> = sides.count == 2 ? Set(sides[1].replacingOccurrences(of: "...", with: ""))
            : Set(seen.filter { $0.value == 1 }.keys)
        return extent.filter { !output.contains($0.key) }.values.reduce(1, *)
    }

    static let einsum: IntervalRule = { c throws(ReferenceError) in
        guard let factory = Kernels.factory(for: c.node), let eq = c.node.string("equation") else { return [] }
        let count = c.node.inputs.count
        var bounds: [TensorBounds] = []
        for i in 0..<count {
            guard let b = c.bounds(i) else { return [] }
            bounds.append(b)
        }
        guard let k = terms(eq, bounds.map(\.shape)) else { return [] }
        let varying = bounds.indices.filter { !bounds[$0].isPoint }
        guard varying.count <= 2 else { return [] }
        let context = KernelContext(node: c.node, shapes: bounds.map(\.shape), constants: Array(repeating: nil, count: count),
                                    opset: c.opset, dtypes: bounds.indices.map { c.dtype($0) }, parameters: [])
        func run(_ values: [[Float]]) throws(ReferenceError) -> Value {
            let kernel = try factory(context)
            let out = try kernel.forward(zip(bounds, values).map { Value(shape: $0.0.shape, data: $0.1) })
            guard let y = out.first else { throw c.fail("the Einsum kernel returned nothing") }
            return y
        }
        do throws(ReferenceError) {
            let centres = bounds.map { $0.centreRadius() }
            if centres.contains(where: { $0.infinite != nil }) { return [] }
            // Products of `count` factors: count − 1 roundings each, then K − 1 additions.
            let terms = k + count
            let g = Outward.gamma(terms)
            var cs = bounds.map(\.lo), abs1 = cs.map(CentreRadius.absolute), abs2 = abs1
            for v in varying { cs[v] = centres[v].c }
            let yc = try run(cs)
            // One varying operand v (or none: r = 0): |W|·(r + γ|c|).
            // Two (v, w): |c_v|·(r_w + γ|c_w|) + r_v·(|c_w| + r_w).
            let v = varying.first ?? 0
            if varying.count <= 1 {
                abs1[v] = CentreRadius.radius(centres[v].r, centres[v].c, g)
                return [CentreRadius.enclosure(terms: terms, shape: yc.shape, yc: yc.data, q: try run(abs1).data, mask: nil)]
            }
            let w = varying[1]
            abs1[v] = CentreRadius.absolute(centres[v].c)
            abs1[w] = CentreRadius.radius(centres[w].r, centres[w].c, g)
            abs2[v] = centres[v].r
            abs2[w] = CentreRadius.radius(centres[w].r, centres[w].c, 1)
            let q = CentreRadius.sum(try run(abs1).data, try run(abs2).data)
            return [CentreRadius.enclosure(terms: terms, shape: yc.shape, yc: yc.data, q: q, mask: nil)]
        } catch {
            if case .tooLarge = error { throw error }
            return []
        }
    }
}
