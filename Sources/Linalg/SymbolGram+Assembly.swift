// Assembling weighted sums of a SymbolGram's coefficients, and their quadratic forms.
import Foundation

extension SymbolGram {
    /// Writes the upper triangle of scale·X + shift·I, X = Σ_l (a_l·P_l + i·b_l·Q_l) (Hermitian), into
    /// the row-major complex matrix `out` (interleaved re/im, row stride `ld` complex entries).
    /// The symbol is a = cos(ω·Δ_l), b = sin(ω·Δ_l); a Hermitian packet block a = Re ρ, b = −Im ρ.
    /// Returns the trace and the largest |diagonal entry| of what was written (real parts), the
    /// quantities ``SymbolCertificate`` needs for its margin.
    @discardableResult
    func assembleHermitian(a: [Double], b: [Double], scale: Double = 1, shift: Double = 0,
                           into out: UnsafeMutablePointer<Double>, ld: Int) -> (trace: Double, maxDiagonal: Double) {
        let p = order, n = lags.count
        let re = UnsafeMutablePointer<Double>.allocate(capacity: p), im = UnsafeMutablePointer<Double>.allocate(capacity: p)
        defer { re.deallocate(); im.deallocate() }
        var trace = 0.0, maxDiagonal = 0.0
        for i in 0..<p {
            let off = rowStart(i), len = p - i
            re.update(repeating: 0, count: len)
            im.update(repeating: 0, count: len)
            for l in 0..<n {
                let al = scale * a[l], bl = scale * b[l]
                let pr = pCoefficients + l * packedCount + off
                for j in 0..<len { re[j] += al * pr[j] }
                if bl != 0 {
                    let qr = qCoefficients + l * packedCount + off
                    for j in 0..<len { im[j] += bl * qr[j] }
                }
            }
            re[0] += shift
            im[0] = 0
            let row = out + 2 * (i * ld + i)
            for j in 0..<len { row[2 * j] = re[j]; row[2 * j + 1] = im[j] }
            trace += re[0]
            maxDiagonal = max(maxDiagonal, abs(re[0]))
        }
        return (trace, maxDiagonal)
    }

    /// Writes the full p × p block X = Σ_l (α_l·P_l + β_l·Q_l) (complex α, β) into the row-major
    /// complex matrix `out` (row stride `ld` complex entries): an off-diagonal block of the packet
    /// matrix. P_l[i][j] = P_l[j][i] and Q_l[i][j] = −Q_l[j][i] are read from the packed upper rows.
    func assembleBlock(alpha: [(Double, Double)], beta: [(Double, Double)], into out: UnsafeMutablePointer<Double>, ld: Int) {
        let p = order
        for i in 0..<p { (out + 2 * i * ld).update(repeating: 0, count: 2 * p) }
        for l in 0..<lags.count {
            let (ar, ai) = alpha[l], (br, bi) = beta[l]
            let pl = pCoefficients + l * packedCount, ql = qCoefficients + l * packedCount
            for i in 0..<p {
                let off = rowStart(i)
                let upper = out + 2 * i * ld
                for j in i..<p {
                    let pv = pl[off + j - i], qv = ql[off + j - i]
                    upper[2 * j] += ar * pv + br * qv
                    upper[2 * j + 1] += ai * pv + bi * qv
                    if j > i {
                        let lower = out + 2 * (j * ld + i)
                        lower[0] += ar * pv - br * qv
                        lower[1] += ai * pv - bi * qv
                    }
                }
            }
        }
    }

    /// (vᴴ·P_l·v, Im vᴴ·Q_l·v) for every lag, v a complex p-vector (interleaved). vᴴQv is imaginary
    /// (Q real antisymmetric), so vᴴ·X·v = Σ_l (a_l·A_l − b_l·B_l) for X = Σ (a_l P_l + i b_l Q_l).
    func quadraticForms(_ v: [Double]) -> [(Double, Double)] {
        let p = order
        var vr = [Double](repeating: 0, count: p), vi = vr
        for i in 0..<p { vr[i] = v[2 * i]; vi[i] = v[2 * i + 1] }
        var out = [(Double, Double)](repeating: (0, 0), count: lags.count)
        vr.withUnsafeBufferPointer { xr in
            vi.withUnsafeBufferPointer { xi in
                for l in 0..<lags.count {
                    let pl = pCoefficients + l * packedCount, ql = qCoefficients + l * packedCount
                    var pa = 0.0, qa = 0.0
                    for i in 0..<p {
                        let off = rowStart(i), len = p - i
                        let pr = pl + off, qr = ql + off
                        // Diagonal once, off-diagonal twice: Re(conj(v_i) v_j) = vr_i vr_j + vi_i vi_j,
                        // Im(conj(v_i) v_j) = vr_i vi_j − vi_i vr_j.
                        pa += pr[0] * (xr[i] * xr[i] + xi[i] * xi[i])
                        var sr = 0.0, si = 0.0, tr = 0.0, ti = 0.0
                        for j in 1..<max(len, 1) {
                            sr += pr[j] * xr[i + j]; si += pr[j] * xi[i + j]
                            tr += qr[j] * xr[i + j]; ti += qr[j] * xi[i + j]
                        }
                        pa += 2 * (xr[i] * sr + xi[i] * si)
                        qa += 2 * (xr[i] * ti - xi[i] * tr)
                    }
                    out[l] = (pa, qa)
                }
            }
        }
        return out
    }
}
