import ONNX

/// Einsum(equation, inputs…): y[out] = Σ over the summed labels of Πₖ xₖ[labelsₖ]. The
/// equation is "t₁,t₂,…->out" or "t₁,…" (implicit output: the ellipsis dimensions, then the
/// labels that occur once, alphabetically); a label repeated in one term takes its diagonal;
/// "..." stands for the unnamed leading dimensions, broadcast across terms (right-aligned,
/// extent 1 stretches). Every label gets one loop; each operand (and the output) a stride
/// per label (summed over its repeats, 0 where absent or broadcast), so the evaluation is
/// one odometer over the label space. VJP for operand k: dxₖ[labelsₖ] += g[out]·Π_{j≠k} xⱼ
/// over the same space.
struct Einsum: Kernel {
    let extents: [Int]
    let shape: [Int]
    let outStrides: [Int]
    let inStrides: [[Int]]
    let inCounts: [Int]

    static func make(_ c: KernelContext) throws(ReferenceError) -> any Kernel {
        guard let raw = c.node.string("equation") else { throw c.fail("missing attribute 'equation'") }
        let eq = raw.filter { !$0.isWhitespace }
        let sides = eq.components(separatedBy: "->")
        guard sides.count <= 2, let lhs = sides.first else { throw c.fail("bad equation '\(raw)'") }
        let terms = lhs.components(separatedBy: ",")
        guard terms.count == c.shapes.count else { throw c.fail("equation '\(raw)' has \(terms.count) terms for \(c.shapes.count) inputs") }
        // Labels: letters by their scalar value; ellipsis dimension j (of e) as 1000 + j.
        var ellipsis = 0
        var parsed: [(letters: [Int], dims: Int)] = []
        for (k, t) in terms.enumerated() {
            let s = try c.shape(k)
            let (letters, hasDots) = try parse(t, c)
            let e = s.count - letters.filter { $0 >= 0 }.count
            guard e >= 0, hasDots || e == 0 else { throw c.fail("term '\(t)' does not fit input \(k) of rank \(s.count)") }
            ellipsis = max(ellipsis, e)
            parsed.append((letters, e))
        }
        let labelsPerInput = parsed.map { p in
            p.letters.flatMap { l in l < 0 ? (0..<p.dims).map { 1000 + ellipsis - p.dims + $0 } : [l] }
        }
        var outLabels: [Int]
        if sides.count == 2 {
            let (letters, _) = try parse(sides[1], c)
            outLabels = letters.flatMap { $0 < 0 ? (0..<ellipsis).map { 1000 + $0 } : [$0] }
        } else {
            let all = labelsPerInput.flatMap { $0 }
            outLabels = (0..<ellipsis).map { 1000 + $0 } + Set(all.filter { $0 < 1000 }).filter { l in all.filter { $0 == l }.count == 1 }.sorted()
        }
        // The label space: output labels first, then the summed ones.
        var space = outLabels
        for l in labelsPerInput.flatMap({ $0 }) where !space.contains(l) { space.append(l) }
        var extents = [Int](repeating: 1, count: space.count)
        for (k, labels) in labelsPerInput.enumerated() {
            let s = try c.shape(k)
            for (a, l) in labels.enumerated() {
                guard let p = space.firstIndex(of: l) else { continue }
                if extents[p] == 1 { extents[p] = s[a] } else if s[a] != 1 && s[a] != extents[p] {
                    throw c.fail("label extents \(extents[p]) and \(s[a]) differ in '\(raw)'")
                }
            }
        }
        guard Set(outLabels).count == outLabels.count, outLabels.allSatisfy({ l in labelsPerInput.contains { $0.contains(l) } }) else {
            throw c.fail("output labels of '\(raw)' must be distinct and occur in an input")
        }
        var inStrides: [[Int]] = []
        for (k, labels) in labelsPerInput.enumerated() {
            let s = try c.shape(k), st = Shapes.strides(s)
            var per = [Int](repeating: 0, count: space.count)
            for (a, l) in labels.enumerated() where s[a] != 1 { if let p = space.firstIndex(of: l) { per[p] += st[a] } }
            inStrides.append(per)
        }
        let shape = outLabels.compactMap { l in space.firstIndex(of: l).map { extents[$0] } }
        let os = Shapes.strides(shape)
        var outStrides = [Int](repeating: 0, count: space.count)
        for (a, _) in outLabels.enumerated() { outStrides[a] = os[a] }
        return Einsum(extents: extents, shape: shape, outStrides: outStrides, inStrides: inStrides,
                      inCounts: try c.shapes.indices.map { i throws(ReferenceError) in try c.shape(i).reduce(1, *) })
    }

    /// A term's labels in order (−1 for "..."), and whether it has an ellipsis.
    static func parse(_ term: String, _ c: KernelContext) throws(ReferenceError) -> ([Int], Bool) {
        var out: [Int] = []
        var dots = false
        var rest = Substring(term)
        while let ch = rest.first {
            if rest.hasPrefix("...") {
                guard !dots else { throw c.fail("two ellipses in '\(term)'") }
                dots = true
                out.append(-1)
                rest = rest.dropFirst(3)
            } else if ch.isASCII, ch.isLetter, let v = ch.unicodeScalars.first?.value {
                out.append(Int(v))
                rest = rest.dropFirst()
            } else {
                throw c.fail("unexpected '\(ch)' in einsum term '\(term)'")
            }
        }
        return (out, dots)
    }

    /// Calls `body(outOffset, inputOffsets)` for every point of the label space.
    func visit(_ body: (Int, [Int]) -> Void) {
        let total = extents.reduce(1, *)
        guard total > 0 else { return }
        var idx = [Int](repeating: 0, count: extents.count)
        var o = 0
        var offs = [Int](repeating: 0, count: inStrides.count)
        for _ in 0..<total {
            body(o, offs)
            var a = extents.count - 1
            while a >= 0 {
                idx[a] += 1
                o += outStrides[a]
                for k in offs.indices { offs[k] += inStrides[k][a] }
                if idx[a] < extents[a] { break }
                o -= outStrides[a] * extents[a]
                for k in offs.indices { offs[k] -= inStrides[k][a] * extents[a] }
                idx[a] = 0
                a -= 1
            }
        }
    }

    func forward(_ inputs: [Value?]) throws(ReferenceError) -> [Value] {
        let xs = inputs.map { $0?.data ?? [] }
        var y = [Float](repeating: 0, count: shape.reduce(1, *))
        visit { o, offs in
            var p: Float = 1
            for k in xs.indices { p *= xs[k][offs[k]] }
            y[o] += p
        }
        return [Value(shape: shape, data: y, dtype: inputs.first??.dtype ?? .float)]
    }

    func backward(_ a: BackwardArgs) throws(ReferenceError) -> [[Float]?] {
        let xs = a.inputs.map { $0?.data ?? [] }
        let outCount = shape.reduce(1, *)
        return xs.indices.map { k in
            guard a.wants[k] else { return nil }
            var g = [Float](repeating: 0, count: a.rows * inCounts[k])
            visit { o, offs in
                var p: Float = 1
                for j in xs.indices where j != k { p *= xs[j][offs[j]] }
                for r in 0..<a.rows { g[r * inCounts[k] + offs[k]] += a.grad[r * outCount + o] * p }
            }
            return g
        }
    }
}
