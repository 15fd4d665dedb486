import Foundation

/// A non-negative number m·2^e that does not overflow: recurrent bounds grow like a^T or T!
/// (recurrent.md §7.4, "compute log L"). m is 0 or in [1, 2); scaling is by exact powers of 2.
struct ScaledValue: Sendable, Comparable {
    var mantissa: Double
    var exponent: Int

    static let zero = ScaledValue(mantissa: 0, exponent: 0)

    init(mantissa: Double, exponent: Int) {
        self.mantissa = mantissa
        self.exponent = exponent
    }

    /// x ≥ 0 (finite), or a scaled x·2^e.
    init(_ x: Double, exponent e: Int = 0) {
        guard x > 0, x.isFinite else { self = x.isNaN ? ScaledValue(mantissa: .nan, exponent: 0) : (x == 0 ? .zero : ScaledValue(mantissa: .infinity, exponent: 0)); return }
        let k = Int(x.exponent)
        mantissa = scalbn(x, -k)
        exponent = k + e
    }

    /// The value as a Double (+∞ beyond Double's range).
    var double: Double { mantissa == 0 ? 0 : scalbn(mantissa, exponent) }
    var log10: Double { mantissa == 0 ? -.infinity : Foundation.log10(mantissa) + Double(exponent) * Foundation.log10(2.0) }
    var isFinite: Bool { mantissa.isFinite }

    static func < (a: ScaledValue, b: ScaledValue) -> Bool {
        if a.mantissa == 0 || b.mantissa == 0 { return a.mantissa < b.mantissa }
        if !a.isFinite || !b.isFinite { return a.mantissa < b.mantissa }
        return a.exponent != b.exponent ? a.exponent < b.exponent : a.mantissa < b.mantissa
    }

    static func * (a: ScaledValue, b: ScaledValue) -> ScaledValue {
        if a.mantissa == 0 || b.mantissa == 0 { return .zero }
        return ScaledValue(a.mantissa * b.mantissa, exponent: a.exponent + b.exponent)
    }

    static func + (a: ScaledValue, b: ScaledValue) -> ScaledValue {
        if a.mantissa == 0 { return b }
        if b.mantissa == 0 { return a }
        let e = max(a.exponent, b.exponent)
        return ScaledValue(scalbn(a.mantissa, a.exponent - e) + scalbn(b.mantissa, b.exponent - e), exponent: e)
    }

    func squareRoot() -> ScaledValue {
        guard mantissa != 0, isFinite else { return self }
        let odd = exponent & 1 != 0
        return ScaledValue((odd ? 2 * mantissa : mantissa).squareRoot(), exponent: (odd ? exponent - 1 : exponent) / 2)
    }

    /// A relative margin 1 + r.
    func inflated(_ r: Double) -> ScaledValue { ScaledValue(mantissa * (1 + r), exponent: exponent) }
}

/// Which sequence lengths the batch entries may have (recurrent.md §7.2).
enum SequenceLengths: Sendable, Equatable {
    /// No `sequence_lens`: every entry has length T.
    case full
    /// A constant `sequence_lens`: these values (in 0…T).
    case constant([Int])
    /// Computed at run time: any ℓ ∈ 0…T.
    case unknown

    func maxLength(_ T: Int) -> Int {
        if case let .constant(s) = self { return s.max() ?? 0 }
        return T
    }

    /// Whether a constant list contains a length 0.
    var mayBeEmpty: Bool { if case let .constant(s) = self { return s.contains(0) } else { return false } }

    /// The lengths ℓ ≥ 1 whose final state is an output (Y_h, Y_c); length 0 outputs zeros.
    func rowLengths(_ T: Int) -> [Int] {
        switch self {
        case .full: return T > 0 ? [T] : []
        case let .constant(s): return Array(Set(s.filter { $0 > 0 })).sorted()
        case .unknown: return T > 0 ? Array(1...T) : []
        }
    }
}

/// The gains of one recurrent node: for each output (Y, Y_h, Y_c) the Lipschitz constant
/// with respect to X, initial_h and initial_c.
struct RecurrentGains: Sendable {
    var x = [ScaledValue](repeating: .zero, count: 3)
    var h0 = [ScaledValue](repeating: .zero, count: 3)
    var c0 = [ScaledValue](repeating: .zero, count: 3)
    /// How L_Y(X) was obtained (for the reason text).
    var method = ""
}

/// From the per-step comparison systems to the whole sequence map (recurrent.md §0, Corollary
/// of Lemma 5, §7). M_{tj} = e_rᵀA_t⋯A_{j+1}β_j (j ≤ t) is the non-negative lower-triangular
/// T × T matrix of one direction (processing order) and ‖δ(output rows)‖ ≤ M ξ entrywise with
/// ξ_j = ‖δx_j‖, so by Lemma 4:
/// - Y: L = ‖M^h‖₂; bidirectional: ‖[M_f; P M_b P]‖₂ (P reverses time; both directions are
///   functions of the same X, their rows stack);
/// - Y_h (Y_c): ‖row_T(M^h)‖₂ (M^c), bidirectional ‖[row_T(M_f); row_T(M_b)P]‖₂;
/// - initial states: the column Φ(t, 0)e_s; the two directions' initial states are disjoint
///   slices of initial_h/initial_c (a direct sum: max over directions).
/// sequence_lens (§7.2): an entry of length ℓ is the length-ℓ map padded with constant zeros;
/// the batch is a direct sum (max over entries); for one direction ‖M_{[1..ℓ]}‖ ≤ ‖M_{[1..ℓmax]}‖
/// (a leading principal submatrix), rows are taken at every possible ℓ. A bidirectional Y with
/// several or unknown lengths uses √(‖M_f‖² + ‖M_b‖²) (the Concat rule), valid for every ℓ.
///
/// Exact norms (LAPACK on the scaled matrix, ``RecurrentBlocks/certifiedNorm(_:rows:cols:)``) up
/// to T = ``exactLimit``; beyond, O(T) certified bounds: Y by the Schur test
/// √(max column sum · max row sum) (≤ 2× looser on Toeplitz M, §7.4) from a forward sweep of
/// row sums s_t = A_t s_{t−1} + β_t and a backward sweep of column sums w_j = e_r + A_{j+1}ᵀw_{j+1};
/// rows exactly for up to 8 lengths, else ‖row‖₂ ≤ ‖row‖₁ = the row sum.
/// Every vector is renormalised by a power of 2 after each step (no overflow, no rounding).
enum RecurrentSequence {
    static let exactLimit = 512

    static func gains(_ systems: [ComparisonSystem], lengths: SequenceLengths) -> RecurrentGains {
        guard let first = systems.first else { return RecurrentGains() }
        let T = first.steps
        let m = first.m
        var out = RecurrentGains()
        let lmax = min(lengths.maxLength(T), T)
        let rows = lengths.rowLengths(T).filter { $0 <= T }
        // Initial states: Φ(t, 0) by a forward product.
        for sys in systems {
            let phi = transitionColumns(sys)
            for s in 0..<m {
                for comp in 0..<m {
                    let col = phi[comp][s]
                    let ySq = col.prefix(lmax).reduce(ScaledValue.zero) { $0 + $1 * $1 }
                    let last = rows.map { col[$0 - 1] }.max() ?? .zero
                    let yIdx = 0, rowIdx = comp == 0 ? 1 : 2
                    var target = s == 0 ? out.h0 : out.c0
                    if comp == 0 { target[yIdx] = max(target[yIdx], ySq.squareRoot()) }
                    target[rowIdx] = max(target[rowIdx], last)
                    if s == 0 { out.h0 = target } else { out.c0 = target }
                }
            }
        }
        // An entry of length 0 outputs Y_h = Y_c = 0 in onnxruntime; a runtime that passes the
        // initial state through instead has gain 1 there: cover both.
        if lengths == .unknown || lengths.mayBeEmpty {
            out.h0[1] = max(out.h0[1], ScaledValue(1))
            if m == 2 { out.c0[2] = max(out.c0[2], ScaledValue(1)) }
        }
        if T <= exactLimit {
            exact(systems, lengths: lengths, lmax: lmax, rows: rows, into: &out)
        } else {
            sweeps(systems, lengths: lengths, rows: rows, into: &out)
        }
        return out
    }

    /// Φ(t, 0)[comp][s] for t = 1…T: [comp][s][t − 1].
    static func transitionColumns(_ sys: ComparisonSystem) -> [[[ScaledValue]]] {
        let m = sys.m
        var cols = [[[ScaledValue]]](repeating: [[ScaledValue]](repeating: [], count: m), count: m)
        for s in 0..<m {
            var v = [Double](repeating: 0, count: m)
            v[s] = 1
            var e = 0
            for t in 0..<sys.steps {
                v = apply(sys.a[t], v, m)
                normalise(&v, &e)
                for comp in 0..<m { cols[comp][s].append(ScaledValue(v[comp], exponent: e)) }
            }
        }
        return cols
    }

    // MARK: Exact path

    static func exact(_ systems: [ComparisonSystem], lengths: SequenceLengths, lmax: Int, rows: [Int], into out: inout RecurrentGains) {
        let T = systems[0].steps, m = systems[0].m
        // M[d][comp][t][j] (processing order).
        let mats = systems.map { fullMatrix($0) }
        let D = systems.count
        // Y (component h).
        if lmax > 0 {
            let distinct = lengths.rowLengths(T)
            if D == 1 {
                out.x[0] = denseNorm([mats[0][0]], lengths: lmax, reversed: [false])
                out.method = "‖M‖₂"
            } else if lengths == .full || distinct.count == 1 {
                out.x[0] = denseNorm([mats[0][0], mats[1][0]], lengths: lmax, reversed: [false, true])
                out.method = "‖[M_f; P·M_b·P]‖₂"
            } else if case .constant = lengths, distinct.count <= 8 {
                out.x[0] = distinct.map { denseNorm([mats[0][0], mats[1][0]], lengths: $0, reversed: [false, true]) }.max() ?? .zero
                out.method = "max over sequence_lens of ‖[M_f; P·M_b·P]‖₂"
            } else {
                let f = denseNorm([mats[0][0]], lengths: lmax, reversed: [false])
                let b = denseNorm([mats[1][0]], lengths: lmax, reversed: [false])
                out.x[0] = (f * f + b * b).squareRoot()
                out.method = "√(‖M_f‖₂² + ‖M_b‖₂²)"
            }
        }
        // Y_h (comp 0), Y_c (comp 1): one row per direction at every possible length.
        for comp in 0..<m {
            var best = ScaledValue.zero
            for l in rows {
                let rowsAtL = mats.map { Array($0[comp][l - 1].prefix(l)) }
                best = max(best, rowNorm(rowsAtL, reversed: (0..<D).map { $0 == 1 }))
            }
            out.x[comp == 0 ? 1 : 2] = best
        }
    }

    /// M[comp][t][j] = e_compᵀ Φ(t, j) β_j for j ≤ t, zero above the diagonal.
    static func fullMatrix(_ sys: ComparisonSystem) -> [[[ScaledValue]]] {
        let T = sys.steps, m = sys.m
        var M = [[[ScaledValue]]](repeating: [[ScaledValue]](repeating: [ScaledValue](repeating: .zero, count: T), count: T), count: m)
        for j in 0..<T {
            var v = sys.beta[j]
            var e = 0
            normalise(&v, &e)
            for t in j..<T {
                if t > j { v = apply(sys.a[t], v, m); normalise(&v, &e) }
                if v.allSatisfy({ $0 == 0 }) { break }
                for comp in 0..<m { M[comp][t][j] = ScaledValue(v[comp], exponent: e) }
            }
        }
        return M
    }

    /// ‖[M_1; M_2]‖₂ of the leading ℓ × ℓ blocks stacked (a reversed block: P·M·P in original time).
    static func denseNorm(_ blocks: [[[ScaledValue]]], lengths l: Int, reversed: [Bool]) -> ScaledValue {
        var entries: [ScaledValue] = []
        entries.reserveCapacity(blocks.count * l * l)
        for (b, rev) in zip(blocks, reversed) {
            for t in 0..<l {
                for j in 0..<l {
                    entries.append(rev ? b[l - 1 - t][l - 1 - j] : b[t][j])
                }
            }
        }
        return scaledNorm(entries, rows: blocks.count * l, cols: l)
    }

    /// ‖[r_1; r_2]‖₂ for rows of equal length (the second reversed in time when `reversed`).
    static func rowNorm(_ rows: [[ScaledValue]], reversed: [Bool]) -> ScaledValue {
        guard let l = rows.first?.count, l > 0 else { return .zero }
        var entries: [ScaledValue] = []
        for (r, rev) in zip(rows, reversed) { entries += rev ? r.reversed() : r }
        return scaledNorm(entries, rows: rows.count, cols: l)
    }

    /// σ₁ (certified upper end) of a matrix of scaled entries: scale by the largest power of 2,
    /// entries more than 2¹⁰⁷⁴ below the largest underflow to 0 (a relative change below
    /// 10⁻³⁰⁰·√count of σ₁ ≥ the largest entry, inside the final margin).
    static func scaledNorm(_ entries: [ScaledValue], rows: Int, cols: Int) -> ScaledValue {
        if entries.contains(where: { !$0.isFinite }) { return ScaledValue(mantissa: .infinity, exponent: 0) }
        guard let emax = entries.filter({ $0.mantissa != 0 }).map(\.exponent).max() else { return .zero }
        let dense = entries.map { $0.mantissa == 0 ? 0 : scalbn($0.mantissa, $0.exponent - emax) }
        return ScaledValue(RecurrentBlocks.certifiedNorm(dense, rows: rows, cols: cols), exponent: emax)
    }

    // MARK: Long sequences

    static func sweeps(_ systems: [ComparisonSystem], lengths: SequenceLengths, rows: [Int], into out: inout RecurrentGains) {
        let T = systems[0].steps, m = systems[0].m
        var maxCol = ScaledValue.zero, maxRow = ScaledValue.zero
        var rowSums: [[[ScaledValue]]] = []  // [d][comp][t]
        for sys in systems {
            // Forward: row sums s_t = A_t s_{t−1} + β_t.
            var s = [Double](repeating: 0, count: m), e = 0
            var rs = [[ScaledValue]](repeating: [], count: m)
            for t in 0..<T {
                s = apply(sys.a[t], s, m)
                for k in 0..<m { s[k] += scalbn(sys.beta[t][k], -e) }
                normalise(&s, &e)
                for k in 0..<m { rs[k].append(ScaledValue(s[k], exponent: e)) }
            }
            rowSums.append(rs)
            maxRow = max(maxRow, rs[0].max() ?? .zero)
            // Backward: column sums c_j = w_jᵀβ_j, w_{T} = e_h, w_j = e_h + A_{j+1}ᵀ w_{j+1}.
            var w = [Double](repeating: 0, count: m), ew = 0
            var colMax = ScaledValue.zero
            for j in stride(from: T - 1, through: 0, by: -1) {
                if j < T - 1 { w = applyTransposed(sys.a[j + 1], w, m) }
                w[0] += scalbn(1, -ew)
                normalise(&w, &ew)
                var c = 0.0
                for k in 0..<m { c += w[k] * sys.beta[j][k] }
                colMax = max(colMax, ScaledValue(c, exponent: ew))
            }
            maxCol = maxCol + colMax
        }
        out.x[0] = (maxCol * maxRow).squareRoot()
        out.method = "Schur test √(max column sum · max row sum) of M (T > \(exactLimit))"
        for comp in 0..<m {
            var best = ScaledValue.zero
            if rows.count <= 8 {
                for l in rows {
                    let rr = systems.map { exactRow($0, length: l, comp: comp) }
                    best = max(best, rowNorm(rr, reversed: (0..<systems.count).map { $0 == 1 }))
                }
            } else {
                var sq = ScaledValue.zero
                for d in systems.indices {
                    let r = rows.map { rowSums[d][comp][$0 - 1] }.max() ?? .zero
                    sq = sq + r * r
                }
                best = sq.squareRoot()
            }
            out.x[comp == 0 ? 1 : 2] = best
        }
    }

    /// Row ℓ of M (component comp): e_compᵀΦ(ℓ, j)β_j for j = 1…ℓ, by u_ℓ = e_comp, u_{j−1} = A_jᵀu_j.
    static func exactRow(_ sys: ComparisonSystem, length l: Int, comp: Int) -> [ScaledValue] {
        let m = sys.m
        var u = [Double](repeating: 0, count: m), e = 0
        u[comp] = 1
        var row = [ScaledValue](repeating: .zero, count: l)
        for j in stride(from: l - 1, through: 0, by: -1) {
            if j < l - 1 { u = applyTransposed(sys.a[j + 1], u, m); normalise(&u, &e) }
            var c = 0.0
            for k in 0..<m { c += u[k] * sys.beta[j][k] }
            row[j] = ScaledValue(c, exponent: e)
        }
        return row
    }

    // MARK: Small helpers

    /// A·v for the m × m row-major A (0·anything = 0).
    static func apply(_ a: [Double], _ v: [Double], _ m: Int) -> [Double] {
        (0..<m).map { i in (0..<m).reduce(0.0) { $0 + safeProduct(a[i * m + $1], v[$1]) } }
    }

    static func applyTransposed(_ a: [Double], _ v: [Double], _ m: Int) -> [Double] {
        (0..<m).map { j in (0..<m).reduce(0.0) { $0 + safeProduct(a[$1 * m + j], v[$1]) } }
    }

    /// Divides v by the power of 2 of its largest entry (exact) and adds it to e.
    static func normalise(_ v: inout [Double], _ e: inout Int) {
        guard let mx = v.max(), mx > 0, mx.isFinite else { return }
        let k = Int(mx.exponent)
        for i in v.indices { v[i] = scalbn(v[i], -k) }
        e += k
    }
}
