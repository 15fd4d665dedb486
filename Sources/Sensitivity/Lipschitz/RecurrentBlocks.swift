import Foundation
import Linalg

/// The weights of one direction of an LSTM/GRU/RNN as named row blocks, with certified upper
/// ends of the spectral norms of single blocks and of stacks of blocks (recurrent.md Lemma 2),
/// each computed once per node.
///
/// W[d] is (G·H) × n, R[d] is (G·H) × H, row-major, gate blocks of H rows in ONNX order
/// (LSTM i, o, f, c; GRU z, r, h; RNN one block). Values are read as Double (no rounding of
/// FLOAT, FLOAT16 or DOUBLE weights).
///
/// Accuracy of a norm: the rows are copied to a float64 matrix, scaled by an exact power of 2,
/// and σ₁ taken from LAPACK `dgesdd` (``SpectralNorm/singularValues(_:rows:cols:)``), which is
/// backward stable: |σ̂₁ − σ₁| ≤ p(m, n)·u·σ₁ with p a modestly growing function of the
/// dimensions and u = 2⁻⁵³ (LAPACK Users' Guide, "Error bounds for the singular value
/// decomposition"). The upper end used by every bound is σ̂₁·(1 + 1e-12 + 16·(m + n)·min(m, n)·u)
/// (1.2e-10 relative for a 512 × 128 block, far above the usual estimates of p), capped by the
/// Frobenius norm (itself rounded up), which is always ≥ σ₁.
final class RecurrentBlocks {
    let w: [Double]
    let r: [Double]
    let hidden: Int
    let inputSize: Int
    private var cache: [String: Double] = [:]
    /// Set when a block holds NaN (the norm is then NaN and the node has no bound).
    private(set) var sawNaN = false

    init(w: [Double], r: [Double], hidden: Int, inputSize: Int) {
        self.w = w
        self.r = r
        self.hidden = hidden
        self.inputSize = inputSize
    }

    /// Certified upper end of ‖[W_{g₁}; W_{g₂}; …]‖₂ (gate indices `gates`) or of the same R blocks.
    func norm(_ recurrent: Bool, _ gates: [Int]) -> Double {
        let key = (recurrent ? "R" : "W") + gates.map(String.init).joined(separator: ",")
        if let v = cache[key] { return v }
        let cols = recurrent ? hidden : inputSize
        let src = recurrent ? r : w
        var a: [Double] = []
        a.reserveCapacity(gates.count * hidden * cols)
        for g in gates { a.append(contentsOf: src[(g * hidden * cols)..<((g + 1) * hidden * cols)]) }
        let v = Self.certifiedNorm(a, rows: gates.count * hidden, cols: cols)
        if v.isNaN { sawNaN = true }
        cache[key] = v
        return v
    }

    func w(_ gates: Int...) -> Double { norm(false, gates) }
    func r(_ gates: Int...) -> Double { norm(true, gates) }

    /// Σ_j |R_g[k, j]| for each row k of block g (GRU's ρ with linear_before_reset = 1).
    func rowSums(recurrent gate: Int) -> [Double] {
        (0..<hidden).map { k in
            let base = (gate * hidden + k) * hidden
            return r[base..<(base + hidden)].reduce(0) { $0 + abs($1) }
        }
    }

    /// σ₁ of a small dense matrix, rounded up by the backward-error margin above; +∞ for an
    /// infinite entry, NaN for a NaN entry, 0 for an empty or zero matrix.
    static func certifiedNorm(_ a: [Double], rows: Int, cols: Int) -> Double {
        guard rows > 0, cols > 0, !a.isEmpty else { return 0 }
        if a.contains(where: \.isNaN) { return .nan }
        if a.contains(where: \.isInfinite) { return .infinity }
        if a.allSatisfy({ $0 == 0 }) { return 0 }
        if rows == 1 || cols == 1 {
            let s = a.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return s * (1 + 1e-12 + 4 * Double(a.count) * 0x1p-53)
        }
        // Scale to avoid overflow/underflow in LAPACK (exact: a power of two).
        let e = Int(a.reduce(0) { max($0, abs($1)) }.exponent)
        let scaled = a.map { scalbn($0, -e) }
        guard let s = try? SpectralNorm.singularValues(scaled, rows: rows, cols: cols).first else {
            // LAPACK failed: fall back to the Frobenius norm, an upper bound of σ₁.
            return a.reduce(0) { $0 + $1 * $1 }.squareRoot() * (1 + 1e-12 + 4 * Double(a.count) * 0x1p-53)
        }
        let margin = 1e-12 + 16 * Double(rows + cols) * Double(min(rows, cols)) * 0x1p-53
        // Never above the Frobenius norm (also a proven bound).
        let frob = a.reduce(0) { $0 + $1 * $1 }.squareRoot() * (1 + 1e-12 + 4 * Double(a.count) * 0x1p-53)
        return min(scalbn(s, e) * (1 + margin), frob)
    }
}

/// Lemma 2 (mixed block norm): for diagonal Λ_j with |Λ_j| ≤ λ_j entrywise,
/// ‖Σ_j Λ_j M_j‖ ≤ min(Σ_j λ_j‖M_j‖, (Σ_j λ_j²)^{1/2}·‖[M_1; …; M_m]‖). A product with an exact
/// zero factor is 0 (recurrent.md §2, convention).
func mixedBlockNorm(_ lambdas: [Double], _ norms: [Double], stacked: Double) -> Double {
    var tri = 0.0
    for (l, s) in zip(lambdas, norms) { tri += safeProduct(l, s) }
    let l2 = lambdas.allSatisfy(\.isFinite) ? lambdas.reduce(0) { $0 + $1 * $1 }.squareRoot() : .infinity
    return min(tri, safeProduct(l2, stacked))
}
