/// The per-channel log-scalings of a rescaled network (DESIGN.md §1.9) as variables tied by
/// equalities with offsets: a union-find in which every variable v satisfies
/// `log d_v = log d_root(v) + offset(v)`. Variable 0 is the identity: `log d = 0`, always a
/// root, so every variable joined to it is fixed ("pinned").
///
/// Hard constraints (offset 0: one D through a ReLU, on both inputs of an Add, at the entries
/// and the output) are joined first and never conflict; soft ones (a BatchNormalization's
/// out = in − log|s|, making its rescaled gain exactly 1) are joined only when consistent.
struct ScalingVariables {
    private var parent: [Int] = [0]
    private var offset: [Double] = [0]

    static let one = 0

    var count: Int { parent.count }

    mutating func fresh() -> Int {
        parent.append(parent.count)
        offset.append(0)
        return parent.count - 1
    }

    mutating func fresh(_ n: Int) -> [Int] { (0..<n).map { _ in fresh() } }

    /// The root of `v` and log d_v − log d_root.
    mutating func find(_ v: Int) -> (root: Int, offset: Double) {
        var path: [Int] = []
        var r = v
        while parent[r] != r { path.append(r); r = parent[r] }
        // Compress: offsets relative to the root, from the root's side down.
        var acc = 0.0
        for u in path.reversed() {
            acc += offset[u]
            offset[u] = acc
            parent[u] = r
        }
        return (r, v == r ? 0 : offset[v])
    }

    /// Joins a and b with log d_b = log d_a + delta; false (nothing changed) when they are
    /// already joined with another offset (beyond `tolerance`).
    @discardableResult
    mutating func join(_ a: Int, _ b: Int, delta: Double = 0, tolerance: Double = 1e-12) -> Bool {
        let (ra, oa) = find(a), (rb, ob) = find(b)
        if ra == rb { return abs(ob - oa - delta) <= tolerance * max(1, abs(delta)) }
        // ld[rb] = ld[a] + delta − ob = ld[ra] + oa + delta − ob.
        if rb == Self.one {
            parent[ra] = rb
            offset[ra] = ob - delta - oa
        } else {
            parent[rb] = ra
            offset[rb] = oa + delta - ob
        }
        return true
    }

    mutating func pin(_ vars: [Int]) { for v in vars { join(Self.one, v) } }

    /// log d of every variable from the roots' values (`rootValue[r]`, 0 for the identity).
    mutating func values(roots rootValue: [Int: Double]) -> [Double] {
        (0..<count).map { v in
            let (r, o) = find(v)
            return (r == Self.one ? 0 : rootValue[r] ?? 0) + o
        }
    }

    /// The free roots (every root but the identity's), ascending.
    mutating func freeRoots() -> [Int] {
        var roots = Set<Int>()
        for v in 0..<count { let r = find(v).root; if r != Self.one { roots.insert(r) } }
        return roots.sorted()
    }
}

/// How the channels of one tensor map to scaling variables: `vars[c]` for channel c along
/// `axis`; a tensor flattened to (N, K) from a channel layout keeps `inner` = the product of
/// the dimensions after the channel axis, so feature f belongs to channel (f / inner) mod C.
struct ChannelMap: Equatable {
    var vars: [Int]
    var axis: Int
    /// Set for a flattened (N, K) tensor.
    var inner: Int?

    var channels: Int { vars.count }

    /// The variable of feature f of a rank-2 view (flattened or a plain (N, C) tensor).
    func featureVar(_ f: Int) -> Int { vars[(f / (inner ?? 1)) % vars.count] }
}
