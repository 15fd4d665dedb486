// The Gram matrix of one convolution group's symbol as a trigonometric polynomial in ω.
import Foundation

/// G(ω) = Σ_Δ C_Δ·e^{−iω·Δ}: the Gram matrix of the polyphase symbol of one group of a Conv /
/// ConvTranspose, on the smaller side, with its real coefficient matrices formed once.
///
/// **Definition.** With the active multi-taps t of ``SymbolGrid`` (phase ρ_t, shifts δ_t ∈ ℤ^d,
/// weight block W_t ∈ ℝ^{R×B'} of the group, R = S/g rows, B' = B/g big channels, P phases) the
/// symbol is K̂(ω) = Σ_t W̃_t·e^{−iω·δ_t} ∈ ℂ^{R × B'P}, W̃_t = W_t placed in column block ρ_t
/// (``SymbolBound``). The Gram matrix is taken on the smaller side:
/// - small (R < B'P): G = K̂K̂ᴴ, C_Δ = Σ_{δ_t − δ_t' = Δ, ρ_t = ρ_t'} W_t·W_t'ᵀ (order p = R);
/// - big (B'P ≤ R): G = K̂ᴴK̂, C_Δ = Σ_{δ_t' − δ_t = Δ} W̃_tᵀ·W̃_t' (order p = B'P),
///
/// and in both cases G(ω) = Σ_Δ C_Δ e^{−iω·Δ} with C_{−Δ} = C_Δᵀ, Δ in the box Π_a [−span_a,
/// span_a], span_a = δmax_a − δmin_a over the active taps. σ_max(K̂(ω))² = λ_max(G(ω)). These
/// C_Δ are the channel autocorrelations of the kernel; the packet bound (``PacketLowerBound``)
/// needs them with other weights than e^{−iω·Δ}.
///
/// **Storage.** For Δ in the half box D+ (Δ = 0 first, then every Δ whose first nonzero entry is
/// positive) two real matrices, packed by upper-triangle rows: P_Δ = C_Δ + C_Δᵀ (symmetric; P_0 = C_0)
/// and Q_Δ = C_Δᵀ − C_Δ (antisymmetric; Q_0 = 0). Then for complex weights ρ(Δ),
///
///     Σ_Δ ρ(Δ)·C_Δ = ρ(0)·P_0 + Σ_{Δ∈D+, Δ≠0} [ (ρ(Δ) + ρ(−Δ))/2 · P_Δ + (ρ(−Δ) − ρ(Δ))/2 · Q_Δ ],
///
/// in particular Re G(ω) = Σ_{D+} cos(ω·Δ)·P_Δ and Im G(ω) = Σ_{D+} sin(ω·Δ)·Q_Δ.
///
/// **Computation** (an exact identity, no truncation): G is evaluated at the frequencies
/// ω_k = 2πk/L of the grid Π_a ℤ_{L_a}, L_a = 2·span_a + 1, from the symbol (``SymbolBound``'s
/// `fill`, then `zherk`), one of each pair {k, −k} (G(−ω) = conj G(ω), W real); then, because
/// the lags of the box are distinct modulo L (no aliasing), C_Δ = (1/|L|)·Σ_k G(ω_k)·e^{iω_k·Δ},
/// i.e. P_Δ = (2/|L|)·Σ_{k∈half} w_k·Re G_k·cos(ω_k·Δ) and Q_Δ = (2/|L|)·Σ_{k∈half} w_k·Im G_k·sin(ω_k·Δ)
/// (w_k = 1 for k ≡ −k, else 2; factor 1/|L| for P_0). Cost: ⌈|L|/2⌉ zherks of the symbol
/// (4·p²·q flops each, q the long side) — 13 for a 3×3 kernel, ≈ 52·p³ for VGG's 512-channel
/// layers, 1.6× fewer than the 81·p³ of the 45 distinct tap-pair products — plus the
/// accumulation; storage 2·|D+|·p(p+1)/2 doubles (27 MiB for p = 512, 3×3).
///
/// **Rounding (u = 2⁻⁵³, γ_n = nu/(1 − nu)).** Let S[m, (c, ρ)] = Σ_{t∈ρ} |W_t[m, c]| and M = SSᵀ
/// (small) or SᵀS (big): |G(ω)| ≤ M entrywise for every ω and ‖M‖₂ ≤ ‖S‖²_F ≤ 𝓜 := T·‖W_gr‖²_F
/// (T = taps per symbol entry, Cauchy–Schwarz). The symbol is filled with twiddles within
/// η = 128u and sums of ≤ T terms (``SymbolBound``): |K̃ − K̂| ≤ √2·δ₁·S, δ₁ = η + 2γ_{T+1}; zherk adds
/// γ_{4q}·|K̃|ᴴ|K̃| (q = the long side), so |G̃_k − G_k| ≤ ε_G·M with
/// ε_G = γ_{4q}(1 + √2δ₁)² + √2δ₁(2 + √2δ₁). The inverse DFT multiplies by (2/|L|)·w_k·cos with
/// error ≤ η + 2u and sums ⌈|L|/2⌉ terms: since (2/|L|)Σ_k w_k = 2, |P̃_Δ − P_Δ|, |Q̃_Δ − Q_Δ| ≤ 2ε_C·M
/// with ε_C = ε_G + (η + 2u + γ_{n_L+2}(1 + η))(1 + ε_G), while |P_Δ|, |Q_Δ| ≤ 2M. The assembly
/// error is in ``assemblyError(weightError:blocks:)``. All of it is ≲ 1e-9·𝓜 relative.
final class SymbolGram: @unchecked Sendable {
    enum Side: Sendable { case small, big }
    let side: Side
    let group: Int
    /// p, the order of G.
    let order: Int
    /// D+ (``lags``[0] is the zero lag).
    let lags: [[Int]]
    /// span_a per spatial axis (0: all active taps share one shift, the axis does not affect G).
    let spans: [Int]
    /// p(p + 1)/2: one packed coefficient matrix.
    let packedCount: Int
    /// P_Δ for the lags in order, each packed by upper-triangle rows (row i holds columns i..<p).
    let pCoefficients: UnsafeMutablePointer<Double>
    /// Q_Δ, same layout (diagonal entries stored as 0).
    let qCoefficients: UnsafeMutablePointer<Double>
    /// 𝓜 = T·‖W_gr‖²_F ≥ ‖M‖₂ (see "Rounding").
    let majorant: Double
    /// ε_C (see "Rounding").
    let coefficientError: Double

    /// The most doubles the coefficients may take (2²⁶: 512 MiB); beyond, no Gram is formed.
    static let maxCoefficientDoubles = 1 << 26

    static let unitRoundoff = 0x1p-53
    static func gamma(_ n: Double) -> Double { n * unitRoundoff / (1 - n * unitRoundoff) }

    /// The group's Gram, or nil when the coefficients would exceed ``maxCoefficientDoubles``
    /// or the group has no active tap. Throws only when zherk's LAPACK-side checks fail.
    init?(_ op: ConvOperator, grid: SymbolGrid, group gr: Int) {
        let g = op.geometry
        let rows = g.smallChannels / g.groups, cg = g.bigChannels / g.groups
        let cols = cg * grid.phaseCount
        guard !grid.taps.isEmpty, rows > 0, cols > 0 else { return nil }
        let p = min(rows, cols), q = max(rows, cols)
        let spans = grid.axes.map { axis -> Int in
            let s = axis.taps.map(\.shift)
            return (s.max() ?? 0) - (s.min() ?? 0)
        }
        let lengths = spans.map { 2 * $0 + 1 }
        let lags = SymbolGram.halfBox(spans)
        let packed = p * (p + 1) / 2
        guard let total = ConvGeometry.checkedProduct([2, lags.count, packed]), total <= SymbolGram.maxCoefficientDoubles else { return nil }
        let kCount = g.kernel.reduce(1, *)
        let blockCount = rows * cg * kCount
        let w = UnsafeBufferPointer(start: op.weight + gr * blockCount, count: blockCount)
        let t = Double(grid.tapsPerEntry)
        let points = SymbolBound.halfSpectrum(lengths)
        let u = SymbolGram.unitRoundoff, eta = 128 * u
        let delta1 = eta + 2 * SymbolGram.gamma(t + 1)
        let s2 = 2.0.squareRoot()
        let epsG = SymbolGram.gamma(4 * Double(q)) * (1 + s2 * delta1) * (1 + s2 * delta1) + s2 * delta1 * (2 + s2 * delta1)
        side = cols <= rows ? .big : .small   // as the zherk below: K̂ᴴK̂ when cols ≤ rows
        group = gr
        order = p
        self.lags = lags
        self.spans = spans
        packedCount = packed
        majorant = t * Frobenius.sumOfSquares(w)
        coefficientError = epsG + (eta + 2 * u + SymbolGram.gamma(Double(points.count) + 2) * (1 + eta)) * (1 + epsG)
        pCoefficients = .allocate(capacity: lags.count * packed)
        qCoefficients = .allocate(capacity: lags.count * packed)
        pCoefficients.initialize(repeating: 0, count: lags.count * packed)
        qCoefficients.initialize(repeating: 0, count: lags.count * packed)

        // e^{−2πi t/L_a} per axis.
        let tables = lengths.map { n in
            (0..<n).map { k -> (Double, Double) in
                let x = 2 * Double.pi * Double(k) / Double(n)
                return (cos(x), -sin(x))
            }
        }
        func twiddle(_ k: [Int], _ shifts: [Int]) -> (Double, Double) {
            var re = 1.0, im = 0.0
            for a in 0..<k.count {
                let n = lengths[a]
                let (c, s) = tables[a][((k[a] * shifts[a]) % n + n) % n]
                (re, im) = (re * c - im * s, re * s + im * c)
            }
            return (re, im)
        }
        let symbol = UnsafeMutablePointer<Double>.allocate(capacity: 2 * rows * cols + LAPACK.slack)
        let gram = UnsafeMutablePointer<Double>.allocate(capacity: 2 * p * p + LAPACK.slack)
        // The group's weights tap-major in float64, W_t[m][c] contiguous in c (the fill below reads
        // them with unit stride); same sums in the same tap order as ``SymbolBound``'s fill.
        let taps = grid.taps.count, phases = grid.phaseCount
        let tapMajor = UnsafeMutablePointer<Double>.allocate(capacity: max(1, taps * rows * cg))
        let phaseMajor = UnsafeMutablePointer<Double>.allocate(capacity: max(1, 2 * rows * phases * cg))
        defer { symbol.deallocate(); gram.deallocate(); tapMajor.deallocate(); phaseMajor.deallocate() }
        for (ti, tap) in grid.taps.enumerated() {
            for m in 0..<rows {
                let src = op.weight + gr * blockCount + m * cg * kCount + tap.kernelIndex, dst = tapMajor + (ti * rows + m) * cg
                for c in 0..<cg { dst[c] = Double(src[c * kCount]) }
            }
        }
        let cells = Double(lengths.reduce(1, *))
        let coefficientWeights = UnsafeMutablePointer<Double>.allocate(capacity: 2 * lags.count)
        defer { coefficientWeights.deallocate() }
        for k in points {
            // K̂(ω_k)[m][(c, ρ)] = Σ_{t∈ρ} W_t[m][c]·e^{−iω_k·δ_t}, accumulated phase-major, then interleaved.
            phaseMajor.update(repeating: 0, count: 2 * rows * phases * cg)
            for (ti, tap) in grid.taps.enumerated() {
                let (re, im) = twiddle(k, tap.shifts)
                for m in 0..<rows {
                    let src = tapMajor + (ti * rows + m) * cg
                    let dst = phaseMajor + 2 * (m * phases + tap.phase) * cg
                    for c in 0..<cg { dst[c] += src[c] * re }
                    let dsti = dst + cg
                    for c in 0..<cg { dsti[c] += src[c] * im }
                }
            }
            for m in 0..<rows {
                for ph in 0..<phases {
                    let src = phaseMajor + 2 * (m * phases + ph) * cg
                    let row = symbol + 2 * m * cols
                    for c in 0..<cg { row[2 * (c * phases + ph)] = src[c]; row[2 * (c * phases + ph) + 1] = src[cg + c] }
                }
            }
            BLAS.zherk(conjugateFirst: cols <= rows, n: p, k: q, a: symbol, lda: cols, c: gram, ldc: p)
            let selfConjugate = zip(k, lengths).allSatisfy { ($1 - $0) % $1 == $0 }
            let weight = selfConjugate ? 1.0 : 2.0
            for (l, lag) in lags.enumerated() {
                // e^{iω_k·Δ} = conj(e^{−iω_k·Δ}): cos = re, sin = −im.
                let (re, im) = twiddle(k, lag)
                let f = (l == 0 ? 1.0 : 2.0) / cells * weight
                coefficientWeights[2 * l] = f * re
                coefficientWeights[2 * l + 1] = -f * im
            }
            // One pass over G_k's rows, each read once for all lags (SIMD8 deinterleaves re/im).
            for i in 0..<p {
                let row = gram + 2 * (i * p + i), off = rowStart(i), len = p - i
                for l in 0..<lags.count {
                    let a = coefficientWeights[2 * l], b = coefficientWeights[2 * l + 1]
                    let pr = pCoefficients + l * packed + off, qr = qCoefficients + l * packed + off
                    var j = 0
                    while j + 4 <= len {
                        let z = UnsafeRawPointer(row + 2 * j).loadUnaligned(as: SIMD8<Double>.self)
                        let pv = UnsafeRawPointer(pr + j).loadUnaligned(as: SIMD4<Double>.self)
                        let qv = UnsafeRawPointer(qr + j).loadUnaligned(as: SIMD4<Double>.self)
                        UnsafeMutableRawPointer(pr + j).storeBytes(of: pv + a * z.evenHalf, as: SIMD4<Double>.self)
                        UnsafeMutableRawPointer(qr + j).storeBytes(of: qv + b * z.oddHalf, as: SIMD4<Double>.self)
                        j += 4
                    }
                    while j < len {
                        pr[j] += a * row[2 * j]
                        qr[j] += b * row[2 * j + 1]
                        j += 1
                    }
                }
            }
        }
        // The diagonal of Q_Δ is 0 exactly (Im G_k has a zero diagonal; keep it exact).
        for l in 0..<lags.count { for i in 0..<p { qCoefficients[l * packed + rowStart(i)] = 0 } }
    }

    deinit {
        pCoefficients.deallocate()
        qCoefficients.deallocate()
    }

    /// Offset of row i in a packed coefficient matrix.
    @inline(__always) func rowStart(_ i: Int) -> Int { i * (2 * order - i + 1) / 2 }

    /// A bound E on ‖X̃ − X‖₂ for X = Σ_Δ ρ(Δ)·C_Δ assembled in floating point from the stored
    /// coefficients with weights off by at most `weightError` (|ρ| ≤ 1), for a block matrix of
    /// `blocks` × `blocks` such assemblies (the packet matrix). Derivation: per entry,
    /// |X̃ − X| ≤ Σ_Δ (|ρ̃ − ρ|·|P̃_Δ| + |ρ|·|P̃_Δ − P_Δ| + same for Q) + √2·γ_{2|D+|+1}·Σ_Δ (|ρ̃||P̃_Δ| + |ρ̃||Q̃_Δ|)
    /// ≤ |D+|·[4ε_C + 4(1 + ε_C)(η_w + √2·γ_{2|D+|+1}(1 + η_w))]·M, and ‖J_b ⊗ M‖₂ ≤ b·𝓜.
    func assemblyError(weightError ew: Double, blocks: Int = 1) -> Double {
        let n = Double(lags.count)
        let rel = n * (4 * coefficientError
            + 4 * (1 + coefficientError) * (ew + 2.0.squareRoot() * SymbolGram.gamma(2 * n + 1) * (1 + ew)))
        return Double(blocks) * rel * majorant
    }

    /// D+: the zero lag, then every lag of the box Π[−span_a, span_a] whose first nonzero entry is
    /// positive (one of each pair {Δ, −Δ}).
    static func halfBox(_ spans: [Int]) -> [[Int]] {
        var all: [[Int]] = [[]]
        for s in spans { all = all.flatMap { prefix in (-s...s).map { prefix + [$0] } } }
        let positive = all.filter { lag in (lag.first { $0 != 0 } ?? 0) > 0 }
        return [spans.map { _ in 0 }] + positive
    }
}
