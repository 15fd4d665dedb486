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
        assembleHermitian([Assembly(a: a, b: b, scale: scale, shift: shift, out: out, ld: ld)])[0]
    }

    /// One target of ``assembleHermitian(_:)``.
    struct Assembly {
        var a: [Double], b: [Double]
        var scale: Double, shift: Double
        var out: UnsafeMutablePointer<Double>
        var ld: Int
    }

    /// Several Hermitian assemblies in one pass over the coefficients (each coefficient row is read
    /// once for all targets: the pass is bound by memory traffic, 2·|D+|·p²/2 doubles). Entries are
    /// accumulated in registers four at a time (`SIMD4<Double>`), in lag order.
    func assembleHermitian(_ targets: [Assembly]) -> [(trace: Double, maxDiagonal: Double)] {
        let p = order, n = lags.count, t = targets.count
        guard t > 0 else { return [] }
        let al = targets.map { tg in tg.a.map { $0 * tg.scale } }, bl = targets.map { tg in tg.b.map { $0 * tg.scale } }
        var sums = [(trace: Double, maxDiagonal: Double)](repeating: (0, 0), count: t)
        let pRows = UnsafeMutablePointer<UnsafePointer<Double>>.allocate(capacity: n)
        let qRows = UnsafeMutablePointer<UnsafePointer<Double>>.allocate(capacity: n)
        let coef = UnsafeMutablePointer<Double>.allocate(capacity: 2 * n * t)   // a then b per target
        defer { pRows.deallocate(); qRows.deallocate(); coef.deallocate() }
        for m in 0..<t { for l in 0..<n { coef[2 * (m * n + l)] = al[m][l]; coef[2 * (m * n + l) + 1] = bl[m][l] } }
        for i in 0..<p {
            let off = rowStart(i), len = p - i
            for l in 0..<n {
                pRows[l] = UnsafePointer(pCoefficients + l * packedCount + off)
                qRows[l] = UnsafePointer(qCoefficients + l * packedCount + off)
            }
            for m in 0..<t {
                let row = targets[m].out + 2 * (i * targets[m].ld + i)
                let cm = coef + 2 * m * n
                var j = 0
                while j + 4 <= len {
                    var re = SIMD4<Double>(repeating: 0), im = SIMD4<Double>(repeating: 0)
                    for l in 0..<n {
                        re += cm[2 * l] * UnsafeRawPointer(pRows[l] + j).loadUnaligned(as: SIMD4<Double>.self)
                        im += cm[2 * l + 1] * UnsafeRawPointer(qRows[l] + j).loadUnaligned(as: SIMD4<Double>.self)
                    }
                    let lo = SIMD4<Double>(re[0], im[0], re[1], im[1]), hi = SIMD4<Double>(re[2], im[2], re[3], im[3])
                    UnsafeMutableRawPointer(row + 2 * j).storeBytes(of: lo, as: SIMD4<Double>.self)
                    UnsafeMutableRawPointer(row + 2 * j + 4).storeBytes(of: hi, as: SIMD4<Double>.self)
                    j += 4
                }
                while j < len {
                    var re = 0.0, im = 0.0
                    for l in 0..<n { re += cm[2 * l] * pRows[l][j]; im += cm[2 * l + 1] * qRows[l][j] }
                    row[2 * j] = re; row[2 * j + 1] = im
                    j += 1
                }
                row[0] += targets[m].shift
                row[1] = 0
                sums[m].trace += row[0]
                sums[m].maxDiagonal = max(sums[m].maxDiagonal, abs(row[0]))
            }
        }
        return sums
    }

    /// Writes the full p × p block X = Σ_l (α_l·P_l + β_l·Q_l) (complex α, β) into the row-major
    /// complex matrix `out` (row stride `ld` complex entries): an off-diagonal block of the packet
    /// matrix. Row i of the upper part (j ≥ i) is Σ (α P_l[i][j] + β Q_l[i][j]) from the packed rows;
    /// the strict lower part is X[j][i] = Σ (α P_l[i][j] − β Q_l[i][j]) (P symmetric, Q antisymmetric),
    /// accumulated along the same packed rows and stored transposed.
    func assembleBlock(alpha: [(Double, Double)], beta: [(Double, Double)], into out: UnsafeMutablePointer<Double>, ld: Int) {
        let p = order, n = lags.count
        let plus = UnsafeMutablePointer<Double>.allocate(capacity: 2 * p), minus = UnsafeMutablePointer<Double>.allocate(capacity: 2 * p)
        defer { plus.deallocate(); minus.deallocate() }
        for i in 0..<p {
            let off = rowStart(i), len = p - i
            var j = 0
            while j < len {
                let w = min(4, len - j)
                if w == 4 {
                    var pr = SIMD4<Double>(repeating: 0), pi = pr, mr = pr, mi = pr
                    for l in 0..<n {
                        let pv = UnsafeRawPointer(pCoefficients + l * packedCount + off + j).loadUnaligned(as: SIMD4<Double>.self)
                        let qv = UnsafeRawPointer(qCoefficients + l * packedCount + off + j).loadUnaligned(as: SIMD4<Double>.self)
                        let (ar, ai) = alpha[l], (br, bi) = beta[l]
                        let xr = ar * pv, xi = ai * pv, yr = br * qv, yi = bi * qv
                        pr += xr + yr; pi += xi + yi; mr += xr - yr; mi += xi - yi
                    }
                    for t in 0..<4 {
                        plus[2 * (j + t)] = pr[t]; plus[2 * (j + t) + 1] = pi[t]
                        minus[2 * (j + t)] = mr[t]; minus[2 * (j + t) + 1] = mi[t]
                    }
                } else {
                    for t in 0..<w {
                        var pr = 0.0, pi = 0.0, mr = 0.0, mi = 0.0
                        for l in 0..<n {
                            let pv = pCoefficients[l * packedCount + off + j + t], qv = qCoefficients[l * packedCount + off + j + t]
                            let (ar, ai) = alpha[l], (br, bi) = beta[l]
                            pr += ar * pv + br * qv; pi += ai * pv + bi * qv
                            mr += ar * pv - br * qv; mi += ai * pv - bi * qv
                        }
                        plus[2 * (j + t)] = pr; plus[2 * (j + t) + 1] = pi
                        minus[2 * (j + t)] = mr; minus[2 * (j + t) + 1] = mi
                    }
                }
                j += w
            }
            (out + 2 * (i * ld + i)).update(from: plus, count: 2 * len)
            for jj in 1..<max(len, 1) {
                let lower = out + 2 * ((i + jj) * ld + i)
                lower[0] = minus[2 * jj]; lower[1] = minus[2 * jj + 1]
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
