// The frequencies at which the symbol is certified: the exact circulant grid, or a coarse grid
// with a proven correction for the symbol's smoothness.
import Foundation

/// The frequency grid of a certified symbol bound (``SymbolCertificate``) and the factor that turns
/// the largest certified value on it into a bound on ‖A‖.
///
/// **Exact grid** (factor 1): ω_a = 2πk_a/N_a with N_a = ``SymbolAxis/gridSize`` — the exact
/// circulant embedding of ``SymbolBound``, whose theorem gives ‖A‖ ≤ max over this grid.
///
/// **Smooth grid** (factor 1/cos r). *Theorem.* Let S = max_{ω∈𝕋^d} σ_max(K̂(ω)) and, per axis,
/// τ_a = span_a/2 (half the spread of the active taps' polyphase shifts). For the grid
/// ω_a = 2πk_a/M_a (k_a ∈ ℤ_{M_a}; on axes with τ_a = 0 only ω_a = 0), or its checkerboard
/// sublattice {Σ_a k_a even} when ≥ 2 axes have τ_a > 0 and all their M_a are even, let
/// r = π·Σ_a τ_a/M_a. If r < π/2, then ‖A‖ ≤ S ≤ max_grid σ_max(K̂(ω)) / cos r.
///
/// *Proof.* (1) ‖A‖ ≤ S: in polyphase form (``SymbolAxis``) A = R·𝓛·E·Π with Π the orthogonal phase
/// split, E the zero extension of each phase to ℓ²(ℤ^d) (an isometry), 𝓛 the Laurent operator
/// (𝓛z)[i] = Σ_t W_t·z_{ρ_t}[i + δ_t] and R the restriction to the retained windows (‖R‖ ≤ 1): for a
/// retained window every read of 𝓛 at an index outside a phase's range meets a zero of E, exactly
/// as zero padding does, and taps reading only padding are inactive (zero rows of A). The Fourier
/// series ℓ²(ℤ^d) → L²(𝕋^d) is unitary and turns 𝓛 into multiplication by K̂(−ω), so
/// ‖𝓛‖ = ess sup σ_max(K̂) = S (K̂ is continuous). (2) Let S be attained at ω* with unit singular
/// vectors u, v (uᴴK̂(ω*)v = S), c_a = (δmax_a + δmin_a)/2 and
/// f(θ) = Re(e^{i(θ−ω*)·c}·uᴴK̂(θ)v) for θ ∈ ℝ^d: f(ω*) = S and |f| ≤ σ_max(K̂(θ)) ≤ S on all of ℝ^d.
/// Along θ = ω* + t·e, g(t) = f(ω* + te) = Re Σ_t' a_t'·e^{iλ_t' t} with λ_t' = e·(c − δ_t'), |λ_t'| ≤
/// σ_e := Σ_a τ_a|e_a|: a real entire function of exponential type σ_e bounded by S on ℝ. By the
/// inequality of Duffin & Schaeffer / van der Corput & Schaake (R. P. Boas, *Entire Functions*,
/// 1954, §11.4; for trigonometric polynomials Szegő 1928), g'(t)² + σ_e²g(t)² ≤ σ_e²S². For ε > 0
/// and S_ε = (1+ε)S, h(t) = arccos(g(t)/S_ε) is C¹ with |h'| = |g'|/√(S_ε² − g²) ≤ σ_e, so
/// h(t) ≤ h(0) + σ_e|t| = arccos(1/(1+ε)) + σ_e|t|; letting ε → 0, g(t) ≥ S·cos(σ_e t) while
/// σ_e|t| ≤ π. (3) Covering: the grid point ω_g nearest to ω* (as a point of ℝ^d, any lift) has
/// Σ_a τ_a|ω_g,a − ω*_a| ≤ r: for the full grid each |ω_g,a − ω*_a| ≤ π/M_a; for the checkerboard,
/// among the 2^{d'−1} even corners of the cell containing ω* (d' ≥ 2 active axes) every coordinate
/// is "low" for half of them, so the *average* weighted ℓ¹ distance to them is
/// Σ_a τ_a·(2π/M_a)/2 = r and the nearest is within r. With e = ω_g − ω*, t = 1:
/// σ_max(K̂(ω_g)) ≥ f(ω_g) ≥ S·cos r > 0. ∎
/// Grid and checkerboard are closed under ω ↦ −ω (M_a even keeps the parity) and
/// σ_max(K̂(−ω)) = σ_max(K̂(ω)) (W real), so one of each pair {k, −k} is visited. The checkerboard
/// halves the points for the same r: its weighted-ℓ¹ Voronoi cells are the diamonds that tile
/// the plane. Numerically checked in SymbolCertificateTests (dense LAPACK against the bound).
///
/// Sizing: for a target correction 1 + ε, r_max = arccos(1/(1 + ε)); M_a = ⌈d'·π·τ_a/r_max⌉
/// (rounded up to even for the checkerboard), which equalizes the axes' shares of r. A 3×3 kernel
/// in 2-D at ε = 3 % needs M = 26: 26²/2/2 = 169 points, where the exact grid of a 224² input has
/// 225²/2 ≈ 25 300.
struct CertificationGrid: Sendable, Equatable {
    enum Kind: Sendable, Equatable { case exact, smooth }
    var kind: Kind
    /// Points per axis (1 on axes that do not affect the symbol's singular values).
    var counts: [Int]
    var checkerboard: Bool
    /// One of each pair {k, −k} (multi-indices; ω_a = 2πk_a/counts_a).
    var points: [[Int]]
    /// The factor 1/cos r (1 for the exact grid).
    var correction: Double
    /// r (0 for the exact grid).
    var radius: Double

    /// The exact circulant grid of ``SymbolBound``.
    static func exact(_ grid: SymbolGrid) -> CertificationGrid {
        let counts = grid.axes.map(\.frequencyCount)
        return CertificationGrid(kind: .exact, counts: counts, checkerboard: false,
                                 points: SymbolBound.halfSpectrum(counts), correction: 1, radius: 0)
    }

    /// The smooth grid for a correction ≤ 1 + ε (ε > 0), or nil when that would need more than
    /// `maxPoints` points.
    static func smooth(spans: [Int], slack ε: Double, maxPoints: Int = 1 << 22) -> CertificationGrid? {
        let active = spans.filter { $0 > 0 }.count
        guard active > 0 else {
            let counts = spans.map { _ in 1 }
            return CertificationGrid(kind: .smooth, counts: counts, checkerboard: false, points: [counts.map { _ in 0 }],
                                     correction: 1, radius: 0)
        }
        let rMax = acos(1 / (1 + ε))
        let checker = active >= 2
        var counts: [Int] = []
        for s in spans {
            guard s > 0 else { counts.append(1); continue }
            var m = Int((Double(active) * Double.pi * Double(s) / 2 / rMax).rounded(.up))
            if checker && m % 2 == 1 { m += 1 }
            counts.append(max(m, checker ? 2 : 1))
        }
        let r = zip(spans, counts).reduce(0.0) { $0 + Double.pi * Double($1.0) / 2 / Double($1.1) }
        guard r < Double.pi / 2, let total = ConvGeometry.checkedProduct(counts), total <= maxPoints * 4 else { return nil }
        var points = SymbolBound.halfSpectrum(counts)
        if checker { points = points.filter { k in zip(k, spans).reduce(0) { $0 + ($1.1 > 0 ? $1.0 : 0) } % 2 == 0 } }
        guard points.count <= maxPoints else { return nil }
        return CertificationGrid(kind: .smooth, counts: counts, checkerboard: checker, points: points,
                                 correction: 1 / cos(r), radius: r)
    }

    /// The grid certified for one layer: among the exact grid and the smooth grids for
    /// ε ∈ {0.2 %, 0.5 %, 1 %, 2 %, `maxSlack`}, the tightest (exact first) whose estimated cost
    /// (points × (4/3·p³ Cholesky + 4·|D+|·p² assembly) flops) is within `budget`; when none is,
    /// the cheaper of the exact grid and the `maxSlack` one.
    static func choose(_ grid: SymbolGrid, spans: [Int], order p: Int, lagCount: Int, groups: Int,
                       maxSlack: Double, budget: Double) -> CertificationGrid {
        let exact = CertificationGrid.exact(grid)
        let perPoint = Double(groups) * (4.0 / 3 * pow(Double(p), 3) + 4 * Double(lagCount) * Double(p * p) + 1e4)
        func cost(_ c: CertificationGrid) -> Double { Double(c.points.count) * perPoint }
        let slacks = [0.002, 0.005, 0.01, 0.02, maxSlack].filter { $0 <= maxSlack }
        let smooth = slacks.compactMap { CertificationGrid.smooth(spans: spans, slack: $0) }
        if cost(exact) <= budget { return exact }
        if let fine = smooth.first(where: { cost($0) <= budget }) { return fine }
        guard let coarse = smooth.last else { return exact }
        return cost(exact) <= cost(coarse) ? exact : coarse
    }
}
