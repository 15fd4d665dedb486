// Thin CBLAS wrappers (OpenBLAS); the only place Linalg calls cblas_* directly.
import CBLAS
import CBLASCore
import Foundation

/// Thin CBLAS wrappers (row-major).
///
/// Dimensions are `Int` on the Swift side and the 32-bit `blasint` of the installed OpenBLAS
/// on the C side; they are converted with clamping, so a dimension beyond `Int32.max` can never
/// make BLAS read past a buffer, only compute on a prefix. Callers that take sizes from a model
/// (``SpectralNorm``, ``ConvOperator``) validate them first and throw ``LinalgError/invalidShape(_:)``.
/// The caller owns every buffer; none is retained.
public enum BLAS {
    /// The largest dimension or leading dimension handed to BLAS/LAPACK (32-bit integers).
    public static let maxDimension = Int(Int32.max)

    @inline(__always) static func int(_ n: Int) -> blasint { blasint(clamping: n) }
    @inline(__always) static func op(_ t: Bool) -> CBLAS_TRANSPOSE { t ? CblasTrans : CblasNoTrans }

    /// C = alpha·op(A)·op(B) + beta·C, row-major, float32.
    ///
    /// op(A) is m × k, op(B) is k × n, C is m × n; `lda`, `ldb`, `ldc` are the row strides of
    /// the stored (untransposed) arrays. `cblas_sgemm` (BLAS level 3).
    public static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                             a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        cblas_sgemm(CblasRowMajor, op(transA), op(transB), int(m), int(n), int(k), alpha,
                    a, int(lda), b, int(ldb), beta, c, int(ldc))
    }

    /// C = alpha·op(A)·op(B) + beta·C, row-major, float64 (`cblas_dgemm`); layout as ``sgemm``.
    public static func dgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                             a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                             beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        guard m > 0, n > 0 else { return }
        cblas_dgemm(CblasRowMajor, op(transA), op(transB), int(m), int(n), int(k), alpha,
                    a, int(lda), b, int(ldb), beta, c, int(ldc))
    }

    /// y = alpha·op(A)·x + beta·y with A an m × n row-major float32 matrix (`cblas_sgemv`):
    /// x has n entries (m if `trans`), y has m (n if `trans`); unit strides.
    public static func sgemv(trans: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                             x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>) {
        guard m > 0, n > 0 else { return }
        cblas_sgemv(CblasRowMajor, op(trans), int(m), int(n), alpha, a, int(lda), x, 1, beta, y, 1)
    }

    /// y = alpha·op(A)·x + beta·y, float64 (`cblas_dgemv`); layout as ``sgemv``.
    public static func dgemv(trans: Bool, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
                             x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>) {
        guard m > 0, n > 0 else { return }
        cblas_dgemv(CblasRowMajor, op(trans), int(m), int(n), alpha, a, int(lda), x, 1, beta, y, 1)
    }

    /// x·y of two float64 vectors of n entries, unit strides (`cblas_ddot`).
    static func ddot(n: Int, x: UnsafePointer<Double>, y: UnsafePointer<Double>) -> Double {
        n > 0 ? cblas_ddot(int(n), x, 1, y, 1) : 0
    }

    /// y ← alpha·x + y, float64, n entries, unit strides (`cblas_daxpy`).
    static func daxpy(n: Int, alpha: Double, x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>) {
        if n > 0 { cblas_daxpy(int(n), alpha, x, 1, y, 1) }
    }

    /// C = A^H·A (`conjugateFirst`, A is k × n) or A·A^H (A is n × k): the n × n Hermitian Gram
    /// matrix of a row-major complex float64 matrix (interleaved re/im), upper triangle only
    /// (`cblas_zherk`, alpha = 1, beta = 0; the strict lower triangle of C is not written).
    public static func zherk(conjugateFirst: Bool, n: Int, k: Int, a: UnsafePointer<Double>, lda: Int,
                             c: UnsafeMutablePointer<Double>, ldc: Int) {
        guard n > 0 else { return }
        cblas_zherk(CblasRowMajor, CblasUpper, conjugateFirst ? CblasConjTrans : CblasNoTrans, int(n), int(k),
                    1, a, int(lda), 0, c, int(ldc))
    }

    /// y = A·x for the n × n Hermitian complex float64 matrix A, row-major with interleaved re/im
    /// and only its upper triangle read (`cblas_zhemv`, alpha = 1, beta = 0); x and y hold 2n doubles.
    static func zhemv(n: Int, a: UnsafePointer<Double>, lda: Int, x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>) {
        guard n > 0 else { return }
        var one: (Double, Double) = (1, 0), zero: (Double, Double) = (0, 0)
        withUnsafePointer(to: &one) { alpha in
            withUnsafePointer(to: &zero) { beta in
                cblas_zhemv(CblasRowMajor, CblasUpper, int(n), alpha, a, int(lda), x, 1, beta, y, 1)
            }
        }
    }

    /// The number of OpenBLAS worker threads for all later calls outside single-thread
    /// sections (``withSingleThread(_:)``; inside one it takes effect when the last section
    /// ends); values below 1 are raised to 1.
    public static func setThreads(_ n: Int) {
        ThreadGate.shared.set(max(1, n))
    }

    /// The OpenBLAS kernel set this process runs ("SkylakeX", "Haswell", …; "unknown" when the
    /// library does not say) and, when Kappa replaced OpenBLAS's own choice at start-up, that
    /// choice ("Prescott": the library did not know the CPU; Sources/CBLASCore/BLASCore.c).
    /// `OPENBLAS_CORETYPE` in the environment is always obeyed.
    public static var core: (name: String, replaced: String?) {
        (String(cString: kappa_blas_core()), kappa_blas_replaced_core().map { String(cString: $0) })
    }

    /// The number of OpenBLAS worker threads configured for calls outside single-thread sections.
    public static var threads: Int { ThreadGate.shared.configured }

    /// The number OpenBLAS uses right now (`openblas_get_num_threads`): 1 inside a section.
    public static var activeThreads: Int { Int(openblas_get_num_threads()) }

    /// Runs `body` with OpenBLAS on one thread (callers that run their own workers, like the
    /// per-layer norms), restoring the configured count when the last concurrent section ends.
    /// Sections nest and overlap safely; OpenBLAS's thread count is process-global.
    public static func withSingleThread<R>(_ body: () throws -> R) rethrows -> R {
        ThreadGate.shared.enter()
        defer { ThreadGate.shared.leave() }
        return try body()
    }

    /// The process-global OpenBLAS thread count under a lock, with a depth count of the active
    /// single-thread sections.
    final class ThreadGate: @unchecked Sendable {
        static let shared = ThreadGate()
        private let lock = NSLock()
        private var depth = 0
        private var wanted: Int?

        var configured: Int {
            lock.lock(); defer { lock.unlock() }
            return wanted ?? (depth == 0 ? Int(openblas_get_num_threads()) : saved)
        }
        private var saved = 1

        func set(_ n: Int) {
            lock.lock(); defer { lock.unlock() }
            wanted = n
            if depth == 0 { openblas_set_num_threads(Int32(clamping: n)) }
        }

        func enter() {
            lock.lock(); defer { lock.unlock() }
            if depth == 0 {
                saved = Int(openblas_get_num_threads())
                openblas_set_num_threads(1)
            }
            depth += 1
        }

        func leave() {
            lock.lock(); defer { lock.unlock() }
            depth -= 1
            if depth == 0 { openblas_set_num_threads(Int32(clamping: wanted ?? saved)) }
        }
    }
}
