// LAPACKE wrappers: every `info ≠ 0` becomes LinalgError.lapack at this boundary.
import CLAPACKE

/// The LAPACK calls Linalg needs. Buffers are owned by the callers (Swift arrays); nothing is retained.
/// `lapack_int` of the installed LAPACKE (a macro, so not imported): 32-bit (no LAPACK_ILP64).
typealias LapackInt = Int32

enum LAPACK {
    @inline(__always) static func char(_ c: Unicode.Scalar) -> CChar { CChar(bitPattern: UInt8(ascii: c)) }

    /// All singular values of the row-major m × n matrix `a` (destroyed), descending:
    /// `LAPACKE_dgesdd` with jobz = 'N' (divide and conquer; Demmel–Kahan bidiagonal QR for the values).
    /// Called as the column-major n × m matrix Aᵀ (same singular values): LAPACKE's row-major
    /// wrapper rejects LDU = LDVT = 1 for jobz = 'N', the column-major path calls Fortran directly.
    static func singularValues(_ a: inout [Double], rows m: Int, cols n: Int) throws(LinalgError) -> [Double] {
        let p = min(m, n)
        guard p > 0 else { return [] }
        var s = [Double](repeating: 0, count: p)
        var dummy = [Double](repeating: 0, count: 1)
        let info = a.withUnsafeMutableBufferPointer { ab in
            s.withUnsafeMutableBufferPointer { sb in
                dummy.withUnsafeMutableBufferPointer { d in
                    LAPACKE_dgesdd(LAPACK_COL_MAJOR, char("N"), LapackInt(n), LapackInt(m), ab.baseAddress,
                                   LapackInt(n), sb.baseAddress, d.baseAddress, 1, d.baseAddress, 1)
                }
            }
        }
        guard info == 0 else { throw .lapack(routine: "dgesdd", info: Int32(info)) }
        return s
    }

    /// The largest eigenvalue of the symmetric p × p matrix `g` (upper triangle, row-major; destroyed):
    /// `LAPACKE_dsyevr` with range 'I', il = iu = p (MRRR after Householder tridiagonalization).
    static func largestEigenvalue(_ g: inout [Double], order p: Int) throws(LinalgError) -> Double {
        guard p > 0 else { return 0 }
        var found: LapackInt = 0
        var w = [Double](repeating: 0, count: p)
        var z = [Double](repeating: 0, count: 1)
        var support = [LapackInt](repeating: 0, count: 2)
        let info = g.withUnsafeMutableBufferPointer { gb in
            w.withUnsafeMutableBufferPointer { wb in
                z.withUnsafeMutableBufferPointer { zb in
                    support.withUnsafeMutableBufferPointer { sb in
                        LAPACKE_dsyevr(LAPACK_ROW_MAJOR, char("N"), char("I"), char("U"), LapackInt(p), gb.baseAddress,
                                       LapackInt(p), 0, 0, LapackInt(p), LapackInt(p), 0, &found,
                                       wb.baseAddress, zb.baseAddress, 1, sb.baseAddress)
                    }
                }
            }
        }
        guard info == 0 else { throw .lapack(routine: "dsyevr", info: Int32(info)) }
        guard found == 1 else { throw .lapack(routine: "dsyevr", info: Int32(-1000 - found)) }
        return w[0]
    }

    /// The largest eigenvalue of the symmetric p × p matrix `g` (row-major, upper triangle read;
    /// destroyed) and its unit eigenvector, or the `count` largest (ascending, vectors column-major
    /// p × count, the top pair last): `LAPACKE_dsyevr` with jobz = 'V', range 'I', il = p − count + 1, iu = p.
    /// The Rayleigh–Ritz step of `BlockGramLanczos` (block-tridiagonal T, p = k·b ≲ 512).
    static func symmetricTop(_ g: inout [Double], order p: Int, count: Int = 1) throws(LinalgError) -> (values: [Double], vectors: [Double]) {
        let c = max(1, min(count, p))
        guard p > 0 else { return ([], []) }
        if p == 1 { return ([g[0]], [1]) }
        var found: LapackInt = 0
        var w = [Double](repeating: 0, count: p)
        var z = [Double](repeating: 0, count: p * c)
        var support = [LapackInt](repeating: 0, count: 2 * c)
        let info = g.withUnsafeMutableBufferPointer { gb in
            w.withUnsafeMutableBufferPointer { wb in
                z.withUnsafeMutableBufferPointer { zb in
                    support.withUnsafeMutableBufferPointer { sb in
                        // Column-major on the lower triangle = row-major upper: no transposed copy.
                        LAPACKE_dsyevr(LAPACK_COL_MAJOR, char("V"), char("I"), char("L"), LapackInt(p), gb.baseAddress,
                                       LapackInt(p), 0, 0, LapackInt(p - c + 1), LapackInt(p), 0, &found,
                                       wb.baseAddress, zb.baseAddress, LapackInt(p), sb.baseAddress)
                    }
                }
            }
        }
        guard info == 0 else { throw .lapack(routine: "dsyevr", info: Int32(info)) }
        guard found == c else { throw .lapack(routine: "dsyevr", info: Int32(-1000 - found)) }
        return (Array(w[0..<c]), z)
    }

    /// The largest eigenvalue of the k × k symmetric tridiagonal matrix with diagonal `d` and
    /// off-diagonal `e` (k − 1 entries) and its unit eigenvector: `LAPACKE_dstevr` with range 'I',
    /// il = iu = k (MRRR, high relative accuracy; O(k) for the value, O(k²) at worst with the vector).
    static func tridiagonalTop(d: [Double], e: [Double]) throws(LinalgError) -> (value: Double, vector: [Double]) {
        let k = d.count
        guard k > 0 else { return (0, []) }
        if k == 1 { return (d[0], [1]) }
        var dd = d
        var ee = e + [Double](repeating: 0, count: max(0, k - e.count))
        var found: LapackInt = 0
        var w = [Double](repeating: 0, count: k)
        var z = [Double](repeating: 0, count: k)
        var support = [LapackInt](repeating: 0, count: 2)
        let info = dd.withUnsafeMutableBufferPointer { db in
            ee.withUnsafeMutableBufferPointer { eb in
                w.withUnsafeMutableBufferPointer { wb in
                    z.withUnsafeMutableBufferPointer { zb in
                        support.withUnsafeMutableBufferPointer { sb in
                            LAPACKE_dstevr(LAPACK_COL_MAJOR, char("V"), char("I"), LapackInt(k), db.baseAddress,
                                           eb.baseAddress, 0, 0, LapackInt(k), LapackInt(k), 0, &found,
                                           wb.baseAddress, zb.baseAddress, LapackInt(k), sb.baseAddress)
                        }
                    }
                }
            }
        }
        guard info == 0 else { throw .lapack(routine: "dstevr", info: Int32(info)) }
        guard found == 1 else { throw .lapack(routine: "dstevr", info: Int32(-1000 - found)) }
        return (w[0], z)
    }

    /// The largest eigenvalue of the Hermitian p × p complex matrix `g` (interleaved re/im
    /// doubles, row-major, upper triangle; destroyed): `LAPACKE_zheevr_work` with range 'I',
    /// il = iu = p (Householder tridiagonalization, then bisection for the one eigenvalue).
    /// Called column-major on the lower triangle, i.e. on conj(G), which has the same eigenvalues,
    /// so LAPACKE makes no transposed copy. All workspaces are allocated here with `slack` extra
    /// entries and `g` must hold 2·p² + `slack` doubles: OpenBLAS 0.3.21's AVX-512 zgemv kernel
    /// (inside zlatrd) was measured reading past the end of exactly-sized buffers (a segfault at a
    /// fresh thread's malloc arena end).
    static let slack = 256
    static func largestHermitianEigenvalue(_ g: UnsafeMutablePointer<Double>, order p: Int) throws(LinalgError) -> Double {
        guard p > 0 else { return 0 }
        var found: LapackInt = 0
        let w = UnsafeMutablePointer<Double>.allocate(capacity: p + slack)
        let z = UnsafeMutablePointer<Double>.allocate(capacity: 2 + slack)
        let support = UnsafeMutablePointer<LapackInt>.allocate(capacity: 2 + slack)
        defer { w.deallocate(); z.deallocate(); support.deallocate() }
        func call(_ work: UnsafeMutablePointer<Double>, _ lwork: Int, _ rwork: UnsafeMutablePointer<Double>, _ lrwork: Int,
                  _ iwork: UnsafeMutablePointer<LapackInt>, _ liwork: Int) -> LapackInt {
            LAPACKE_zheevr_work(LAPACK_COL_MAJOR, char("N"), char("I"), char("L"), LapackInt(p), OpaquePointer(g),
                                LapackInt(p), 0, 0, LapackInt(p), LapackInt(p), 0, &found, w, OpaquePointer(z), 1,
                                support, OpaquePointer(work), LapackInt(lwork), rwork, LapackInt(lrwork),
                                iwork, LapackInt(liwork))
        }
        // Workspace query, then owned workspaces (complex work: 2 doubles per entry), all padded.
        var sizes = (0.0, 0.0), rsize = 0.0, isize: LapackInt = 0
        let query = withUnsafeMutablePointer(to: &sizes) { sp in
            sp.withMemoryRebound(to: Double.self, capacity: 2) { call($0, -1, &rsize, -1, &isize, -1) }
        }
        guard query == 0 else { throw .lapack(routine: "zheevr", info: Int32(query)) }
        let lwork = max(Int(sizes.0), 2 * p), lrwork = max(Int(rsize), 24 * p), liwork = max(Int(isize), 10 * p)
        let work = UnsafeMutablePointer<Double>.allocate(capacity: 2 * lwork + slack)
        let rwork = UnsafeMutablePointer<Double>.allocate(capacity: lrwork + slack)
        let iwork = UnsafeMutablePointer<LapackInt>.allocate(capacity: liwork + slack)
        defer { work.deallocate(); rwork.deallocate(); iwork.deallocate() }
        let info = call(work, lwork, rwork, lrwork, iwork, liwork)
        guard info == 0 else { throw .lapack(routine: "zheevr", info: Int32(info)) }
        guard found == 1 else { throw .lapack(routine: "zheevr", info: Int32(-1000 - found)) }
        return w[0]
    }

    /// Whether the Cholesky factorization of the Hermitian p × p complex matrix `h` runs to
    /// completion (`LAPACKE_zpotrf_work`, info = 0) or meets a pivot that is not positive (info > 0).
    /// `h` is row-major with interleaved re/im and its upper triangle is read — passed as the
    /// column-major lower triangle of conj(h), which has the same eigenvalues, so no copy is made —
    /// and is overwritten by the factor; it must hold 2·p² + ``slack`` doubles (see there).
    /// The rounding analysis that turns success into a bound is in ``SymbolCertificate``.
    static func choleskySucceeds(_ h: UnsafeMutablePointer<Double>, order p: Int) throws(LinalgError) -> Bool {
        guard p > 0 else { return true }
        let info = LAPACKE_zpotrf_work(LAPACK_COL_MAJOR, char("L"), LapackInt(p), OpaquePointer(h), LapackInt(p))
        guard info >= 0 else { throw .lapack(routine: "zpotrf", info: Int32(info)) }
        return info == 0
    }

    /// Singular values (descending) of the k × k upper bidiagonal matrix with diagonal `d` and
    /// superdiagonal `e` (k − 1 entries) by `LAPACKE_dbdsqr` (implicit zero-shift QR, high relative
    /// accuracy). With `rightVector`, also the right singular vector of the largest value (the first
    /// row of Pᵀ in B = Q·Σ·Pᵀ); with `leftVector` the left one (first column of Q).
    static func bidiagonalSVD(d: [Double], e: [Double], rightVector: Bool,
                              leftVector: Bool = false) throws(LinalgError) -> (values: [Double], right: [Double], left: [Double]) {
        let k = d.count
        guard k > 0 else { return ([], [], []) }
        var dd = d
        var ee = e + [Double](repeating: 0, count: max(1, k) - e.count)
        let ncvt = rightVector ? k : 0
        var vt = [Double](repeating: 0, count: rightVector ? k * k : 1)
        if rightVector { for i in 0..<k { vt[i * k + i] = 1 } }
        let nru = leftVector ? k : 0
        var uu = [Double](repeating: 0, count: leftVector ? k * k : 1)
        if leftVector { for i in 0..<k { uu[i * k + i] = 1 } }
        var dummy = [Double](repeating: 0, count: 1)
        let info = dd.withUnsafeMutableBufferPointer { db in
            ee.withUnsafeMutableBufferPointer { eb in
                vt.withUnsafeMutableBufferPointer { vb in
                    uu.withUnsafeMutableBufferPointer { ub in
                        dummy.withUnsafeMutableBufferPointer { c in
                            // Column-major: LDVT = k (1 without vectors), LDU = k (1), LDC = 1 (no C).
                            LAPACKE_dbdsqr(LAPACK_COL_MAJOR, char("U"), LapackInt(k), LapackInt(ncvt), LapackInt(nru), 0,
                                           db.baseAddress, eb.baseAddress, vb.baseAddress, LapackInt(max(1, ncvt)),
                                           ub.baseAddress, LapackInt(max(1, nru)), c.baseAddress, 1)
                        }
                    }
                }
            }
        }
        guard info == 0 else { throw .lapack(routine: "dbdsqr", info: Int32(info)) }
        // Column-major Pᵀ: row 0 is vt[0 + i·k].
        let right = rightVector ? (0..<k).map { vt[$0 * k] } : []
        // Column-major Q: column 0 is uu[0..<k].
        let left = leftVector ? Array(uu[0..<k]) : []
        return (dd, right, left)
    }
}
