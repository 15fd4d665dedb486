// The polyphase circulant embedding of a convolution, per spatial axis (see SymbolBound.swift).

/// One spatial axis of the polyphase circulant embedding used by ``SymbolBound``.
///
/// With the index relation of ``ConvGeometry`` (window i, tap j read big position
/// p = i·s + e_j, e_j = j·d − padsBegin), write e_j = s·δ_j + r_j with the phase r_j = e_j mod s
/// ∈ [0, s) and the shift δ_j = ⌊e_j/s⌋. Splitting the big side into its s phases
/// x_r[m] = x[m·s + r] (0 ≤ m < n_r = ⌈(n − r)/s⌉) turns the strided gather into a stride-1
/// correlation of the phases:
///
///     y[i] = Σ_j W_j · x_{r_j}[i + δ_j],   0 ≤ i < out,
///
/// with x_r[m] read as 0 outside [0, n_r). Only *active* taps matter: tap j is active when some
/// window i < out reads an in-range position 0 ≤ i·s + e_j < n; inactive taps multiply padding
/// only and are dropped (A is unchanged, the bound can only get smaller).
///
/// Circulant embedding: place each x_r at m ∈ [0, n_r) of ℤ_N, zero elsewhere, and read the
/// correlation circularly. The reads of the retained windows are m = i + δ_j ∈
/// [δ_min, out − 1 + δ_max]; they agree with the zero-padded reads iff no read wraps onto a stored
/// entry, i.e. (m < 0 ⇒ N + m ≥ n_r) and (m ≥ n_r ⇒ m < N), and the retained windows are distinct
/// mod N. Hence any
///
///     N ≥ max(out, out + δ_max, max_r n_r − min(δ_min, 0))          (`gridSize`)
///
/// is exact. (For stride 1 this is at most the padded length n + padsBegin + padsEnd of a Conv.)
struct SymbolAxis: Sendable, Equatable {
    struct Tap: Sendable, Equatable {
        var tap: Int      // kernel index j along this axis
        var phase: Int    // index into `phases` of r_j
        var shift: Int    // δ_j
    }
    /// Active taps in increasing j.
    var taps: [Tap]
    /// The distinct phases r of the active taps, increasing.
    var phases: [Int]
    /// n_r for each entry of `phases`.
    var phaseLengths: [Int]
    /// N, the circulant period of the exact embedding.
    var gridSize: Int
    /// The number of frequencies ω_a to visit: `gridSize`, or 1 when all active taps share one
    /// shift (then ω_a only multiplies the whole symbol by a unit scalar: same singular values).
    var frequencyCount: Int

    init(kernel k: Int, stride s: Int, dilation d: Int, padBegin pb: Int, big n: Int, small out: Int) {
        var raw: [(tap: Int, r: Int, shift: Int)] = []
        for j in 0..<k {
            let e = j * d - pb
            // Smallest window i ≥ 0 with i·s + e ≥ 0; active if it exists below `out` and reads < n.
            let i0 = e >= 0 ? 0 : (-e + s - 1) / s
            guard i0 < out, i0 * s + e < n else { continue }
            let r = ((e % s) + s) % s
            raw.append((j, r, (e - r) / s))
        }
        phases = Array(Set(raw.map(\.r))).sorted()
        phaseLengths = phases.map { r in max(0, (n - r + s - 1) / s) }
        let ph = phases
        taps = raw.map { Tap(tap: $0.tap, phase: ph.firstIndex(of: $0.r) ?? 0, shift: $0.shift) }
        let dMin = raw.map(\.shift).min() ?? 0, dMax = raw.map(\.shift).max() ?? 0
        gridSize = max(out, out + dMax, (phaseLengths.max() ?? 0) - min(dMin, 0), 1)
        frequencyCount = dMin == dMax ? 1 : gridSize
    }

    /// The largest number of active taps sharing one phase.
    var tapsPerPhase: Int { (0..<phases.count).map { p in taps.filter { $0.phase == p }.count }.max() ?? 0 }
}

/// The multi-axis embedding: axes, multi-taps (products of active axis taps) and columns.
struct SymbolGrid: Sendable {
    struct MultiTap: Sendable {
        var kernelIndex: Int   // flat (row-major) index of the tap in the kernel
        var phase: Int         // flat (row-major) index of its phase multi-index
        var shifts: [Int]      // δ per axis
    }
    var axes: [SymbolAxis]
    var taps: [MultiTap]
    /// Π over axes of the phase counts: the symbol has (big channels / g)·phaseCount columns.
    var phaseCount: Int
    /// Π over axes of `frequencyCount`.
    var frequencyCount: Int
    /// Π over axes of `tapsPerPhase` (the most taps summed into one symbol entry).
    var tapsPerEntry: Int

    init(_ g: ConvGeometry) {
        axes = (0..<g.rank).map { a in
            SymbolAxis(kernel: g.kernel[a], stride: g.strides[a], dilation: g.dilations[a],
                       padBegin: g.padsBegin[a], big: g.bigExtent[a], small: g.smallExtent[a])
        }
        var out: [MultiTap] = [MultiTap(kernelIndex: 0, phase: 0, shifts: [])]
        for (a, axis) in axes.enumerated() {
            out = out.flatMap { t in
                axis.taps.map { at in
                    MultiTap(kernelIndex: t.kernelIndex * g.kernel[a] + at.tap,
                             phase: t.phase * axis.phases.count + at.phase, shifts: t.shifts + [at.shift])
                }
            }
        }
        taps = out
        phaseCount = axes.reduce(1) { $0 * $1.phases.count }
        frequencyCount = axes.reduce(1) { $0 * $1.frequencyCount }
        tapsPerEntry = axes.reduce(1) { $0 * $1.tapsPerPhase }
    }
}
