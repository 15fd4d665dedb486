// The errors of the Linalg module; see DESIGN.md §2 ("each C status becomes a typed Swift error").
import Foundation

/// A failure inside Linalg. Every LAPACK status `info ≠ 0` and every inconsistent shape becomes
/// one of these at the boundary where it is detected.
public enum LinalgError: Error, LocalizedError, Sendable {
    /// A LAPACK(E) routine returned `info ≠ 0`: negative means argument `-info` was illegal
    /// (LAPACKE also returns −1011 for an allocation failure); positive means the algorithm
    /// did not converge (e.g. `dgesdd`: `info` superdiagonals of the bidiagonal form did not
    /// converge to zero).
    case lapack(routine: String, info: Int32)
    /// Sizes that do not fit together (element counts, dimensions, group divisibility). The
    /// message names the shapes involved.
    case invalidShape(String)

    public var errorDescription: String? {
        switch self {
        case let .lapack(routine, info):
            if info == -1011 { return "LAPACK \(routine): out of memory (info = -1011)" }
            if info < 0 { return "LAPACK \(routine): argument \(-info) had an illegal value (info = \(info))" }
            return "LAPACK \(routine): the algorithm did not converge (info = \(info))"
        case let .invalidShape(message):
            return "invalid shape: \(message)"
        }
    }
}
