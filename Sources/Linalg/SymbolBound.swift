// A second proven upper bound on a convolution's operator norm: the largest singular value of its
// symbol over the DFT frequencies of an exact circulant embedding.
import Foundation

/// ‖A‖ ≤ max_ω σ_max(Ŵ(ω)) for a Conv / ConvTranspose A (bias excluded), with a rounding margin.
///
/// **Theorem.** Let A be the gather map of ``ConvGeometry`` (the Conv itself, or the Conv whose
/// adjoint a ConvTranspose is; ‖Aᵀ‖ = ‖A‖), and per axis let the taps, phases, shifts δ and period
/// N be those of ``SymbolAxis``. For a group, let Ŵ(ω) be the (S/g) × (B/g·P) complex matrix
///
///     Ŵ(ω)[m, (c, ρ)] = Σ_{active taps j with phase ρ} W[m, c, j] · exp(−2πi Σ_a ω_a·δ_{j,a}/N_a),
///
/// for ω in Π_a ℤ_{N_a} (P = number of phase multi-indices ρ). Then ‖A‖ ≤ max_{ω, group} σ_max(Ŵ(ω)).
///
/// **Proof.** (1) Polyphase: the permutation Π: x ↦ (x_ρ)_ρ, x_ρ[m] = x[m·s + ρ] (per axis),
/// is orthogonal, and A·x = Σ_j W_j·x_{ρ_j}[· + δ_j] is a stride-1 multi-channel correlation of the
/// phases (``SymbolAxis``; for stride 1 there is one phase and δ_j = j·d − padsBegin). Taps that read
/// only padding are dropped without changing A. (2) Embedding: with E the zero-embedding of each
/// phase into Π_a ℤ_{N_a} (‖E‖ = 1, an isometry), C the block-circulant correlation
/// (C·z)[m, t] = Σ_j W_j·z_{ρ_j}[t + δ_j mod N] and R the restriction to the retained windows
/// 0 ≤ t < small (‖R‖ ≤ 1), A = R·C·E·Π exactly, because N is large enough that no read wraps
/// onto a stored entry (``SymbolAxis``); hence ‖A‖ ≤ ‖C‖. (3) Block diagonalization: the unitary
/// DFT F on Π ℤ_{N_a} (applied per channel) satisfies F·C·F⁻¹ = ⊕_ω Ŵ(ω)ᶜ (the symbol with
/// exp(+…), i.e. Ŵ(−ω)), so ‖C‖ = max_ω σ_max(Ŵ(ω)); groups are independent blocks.
/// This is Sedghi, Gupta & Long, "The Singular Values of Convolutional Layers" (ICLR 2019), Thm. 6,
/// for the circulant case, plus the Toeplitz-in-circulant embedding (R, E) and, for strides, the
/// polyphase form. On the continuous torus the polyphase symbol is never worse than the stride-1
/// symbol followed by subsampling (its Gram matrix Ŵ_pŴ_pᴴ is the average of Ŵ₁Ŵ₁ᴴ over the s
/// aliases; on the finite grids this is only checked numerically, in the tests), and it is
/// exact (= σ_matrix) for non-overlapping windows. All of (1)–(3) are checked numerically in
/// OperatorNormTests (dense R·C·E·Π against the impulse matrix, ‖C‖ by dgesdd against the max).
///
/// **Cost savings.** Ŵ(−ω) = conj(Ŵ(ω)) (W real) has the same singular values, so only one of each
/// pair {ω, −ω} is visited; an axis whose active taps share one shift contributes a unit scalar
/// factor only and is visited at ω_a = 0 alone. σ²_max is the largest eigenvalue of the Gram matrix
/// on the smaller side (`zherk`, then `zheevr` for the top eigenvalue). Serial on the calling thread:
/// callers already run layers in parallel, and splitting frequencies over 2 threads was measured
/// slower (AlexNet conv3: 1.35 s vs 0.95 s). Skipped (nil) when the estimated flop count exceeds
/// the budget (``SpectralOptions/symbolFlopBudget``) or a symbol has more than 2²² entries.
///
/// **Rounding (u = 2⁻⁵³).** Twiddles are products of ≤ 3 tabulated e^{−2πit/N} (exact integer
/// reduction t = ω·δ mod N), each off by ≤ 30u, so each is within η = 128u of its exact value.
/// An entry sums ≤ K = `tapsPerEntry` terms, so |Ŵ̃ − Ŵ| ≤ √2·δ₁·S entrywise with δ₁ = η + 2γ_{K+1}
/// and S[m, (c, ρ)] = Σ_j |W[m, c, j]|; ‖S‖_F ≤ √K·‖W‖_F (Cauchy–Schwarz), so
/// σ_max(Ŵ) ≤ σ_max(Ŵ̃) + e₁ with e₁ = √2·δ₁·√K·‖W‖_F, and ‖Ŵ̃‖_F ≤ F := (1 + √2·δ₁)·√K·‖W‖_F.
/// The Gram matrix is formed with |ΔG| ≤ γ_{4L}·|Ŵ̃|ᴴ|Ŵ̃| (L the long side), ‖ΔG‖ ≤ γ_{4L}·F², and
/// zheevr is backward stable: |λ̃ − λ_max(G̃)| ≤ c_p·u·‖G̃‖ — LAPACK states "a modestly growing
/// function of p" (Users' Guide §4.7) and no explicit constant; we *assume* c_p = 64·p, far above
/// observed errors. By Weyl, σ²_max(Ŵ̃) ≤ λ̃ + Δ with Δ = (γ_{4L} + 64·p·u)·F². Returned:
/// (√(max λ̃ + 2Δ) + 2e₁)·(1 + 4u) (the factors 2 and 1 + 4u cover rounding in this formula).
/// The margin is relative ≲ 1e-9 for realistic layers.
public enum SymbolBound {
    /// The flop budget used when none is given: 1e9 estimated flops (≈ 0.1 s). Above it the
    /// Cholesky-certified path (``SymbolCertificate``) is cheaper — one factorization (4/3·p³
    /// flops) per frequency against a Gram product and a tridiagonalization (≈ 4p²q + 6p³) — and
    /// it always runs, so this budget only picks the method (it used to be 5e10, beyond which
    /// σ_op's upper fell back to √c·σ_matrix).
    public static let defaultFlopBudget = 1e9
    /// The most entries of one symbol matrix (2²², 64 MiB of complex float64).
    static let maxEntries = 1 << 22

    /// Estimated flops: groups · ⌈F/2⌉ frequencies · (4·rows·(B/g)·T symbol + 4·L·p² Gram + 6·p³ eigen).
    public static func estimatedFlops(_ g: ConvGeometry) -> Double {
        estimatedFlops(g, SymbolGrid(g))
    }

    static func estimatedFlops(_ g: ConvGeometry, _ grid: SymbolGrid) -> Double {
        let rows = Double(g.smallChannels / g.groups), cg = Double(g.bigChannels / g.groups)
        let cols = cg * Double(grid.phaseCount), p = min(rows, cols), l = max(rows, cols)
        let perFrequency = 4 * rows * cg * Double(grid.taps.count) + 4 * l * p * p + 6 * p * p * p
        return Double(g.groups) * (Double(grid.frequencyCount) / 2 + 1) * perFrequency
    }

    /// The bound for `op`, or nil when skipped (flop budget, symbol size, non-finite weight) or when
    /// LAPACK fails. 0 when every tap reads padding only (A = 0).
    public static func convolution(_ op: ConvOperator, flopBudget: Double = defaultFlopBudget) -> Double? {
        evaluate(op, flopBudget: flopBudget)?.bound
    }

    /// The bound, the group and the frequency (multi-index over ``SymbolAxis/frequencyCount``,
    /// ω_a = 2πk_a/N_a) where the largest eigenvalue was met (the packet search of
    /// ``PacketLowerBound`` starts there).
    static func evaluate(_ op: ConvOperator, flopBudget: Double = defaultFlopBudget) -> (bound: Double, group: Int, point: [Int])? {
        let g = op.geometry, grid = SymbolGrid(g)
        let rows = g.smallChannels / g.groups, cg = g.bigChannels / g.groups
        let cols = cg * grid.phaseCount
        guard !grid.taps.isEmpty, cols > 0 else { return (0, 0, g.kernel.map { _ in 0 }) }
        let weightNorm = op.weightFrobenius
        guard weightNorm.isFinite, rows * cols <= maxEntries, estimatedFlops(g, grid) <= flopBudget else { return nil }
        let frequencies = halfSpectrum(grid.axes.map(\.frequencyCount))
        let tables = grid.axes.map { axis in
            (0..<axis.frequencyCount).map { t -> (Double, Double) in
                let x = 2 * Double.pi * Double(t) / Double(axis.frequencyCount)
                return (cos(x), -sin(x))
            }
        }
        let p = min(rows, cols)
        let symbol = UnsafeMutablePointer<Double>.allocate(capacity: 2 * rows * cols + LAPACK.slack)
        let gram = UnsafeMutablePointer<Double>.allocate(capacity: 2 * p * p + LAPACK.slack)
        defer { symbol.deallocate(); gram.deallocate() }
        var lambda = 0.0, bestGroup = 0, bestPoint = frequencies.first ?? []
        for omega in frequencies {
            let twiddles = grid.taps.map { tap -> (Double, Double) in
                var re = 1.0, im = 0.0
                for a in 0..<omega.count {
                    let n = tables[a].count
                    let (c, s) = tables[a][((omega[a] * tap.shifts[a]) % n + n) % n]
                    (re, im) = (re * c - im * s, re * s + im * c)
                }
                return (re, im)
            }
            for gr in 0..<g.groups {
                fill(symbol, op: op, group: gr, rows: rows, groupChannels: cg, grid: grid, twiddles: twiddles)
                BLAS.zherk(conjugateFirst: cols <= rows, n: p, k: max(rows, cols), a: symbol, lda: cols, c: gram, ldc: p)
                guard let top = try? LAPACK.largestHermitianEigenvalue(gram, order: p), top.isFinite else { return nil }
                if top > lambda { (lambda, bestGroup, bestPoint) = (top, gr, omega) }
            }
        }
        let u = 0x1p-53, k = Double(grid.tapsPerEntry)
        let gamma = { (n: Double) in n * u / (1 - n * u) }
        let delta1 = 128 * u + 2 * gamma(k + 1)
        let e1 = 2.0.squareRoot() * delta1 * k.squareRoot() * weightNorm
        let frob = (1 + 2.0.squareRoot() * delta1) * k.squareRoot() * weightNorm
        let l = Double(max(rows, cols)), pd = Double(p)
        let delta = (gamma(4 * l) + 64 * pd * u) * frob * frob
        return (((max(lambda, 0) + 2 * delta).squareRoot() + 2 * e1) * (1 + 4 * u), bestGroup, bestPoint)
    }

    /// Writes Ŵ(ω) of group `gr` (row-major rows × (channels·P), interleaved complex) for the given twiddles.
    static func fill(_ s: UnsafeMutablePointer<Double>, op: ConvOperator, group gr: Int, rows: Int,
                             groupChannels cg: Int, grid: SymbolGrid, twiddles: [(Double, Double)]) {
        let cols = cg * grid.phaseCount, kernelCount = op.geometry.kernel.reduce(1, *)
        s.update(repeating: 0, count: 2 * rows * cols)
        let w = op.weight + gr * rows * cg * kernelCount
        for (t, tap) in grid.taps.enumerated() {
            let (re, im) = twiddles[t]
            for m in 0..<rows {
                let wRow = w + m * cg * kernelCount + tap.kernelIndex
                let sRow = s + 2 * (m * cols + tap.phase)
                for c in 0..<cg {
                    let v = Double(wRow[c * kernelCount])
                    sRow[2 * c * grid.phaseCount] += v * re
                    sRow[2 * c * grid.phaseCount + 1] += v * im
                }
            }
        }
    }

    /// One ω of each pair {ω, −ω} of Π ℤ_{n_a} (row-major enumeration, ω kept when its flat index
    /// is ≤ that of −ω).
    static func halfSpectrum(_ n: [Int]) -> [[Int]] {
        let total = n.reduce(1, *)
        var out: [[Int]] = []
        out.reserveCapacity(total / 2 + 1)
        for flat in 0..<total {
            var omega = [Int](repeating: 0, count: n.count), rest = flat, partner = 0
            for a in stride(from: n.count - 1, through: 0, by: -1) { omega[a] = rest % n[a]; rest /= n[a] }
            for a in 0..<n.count { partner = partner * n[a] + (n[a] - omega[a]) % n[a] }
            if flat <= partner { out.append(omega) }
        }
        return out
    }
}
