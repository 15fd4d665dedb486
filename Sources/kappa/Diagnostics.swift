import CBuildInfo
import Foundation
import Reports

/// What `kappa --version` prints: "kappa 0.1.0 (git 95f16ea)". The revision is compiled in
/// by `make release` / `make install` (Sources/CBuildInfo); "unknown" with plain `swift build`
/// or outside a git checkout.
let kappaCLIVersion = "kappa \(kappaVersion) (git \(kappaGitRevision))"

/// The short git revision the binary was built from, "-dirty" when the tree had changes.
let kappaGitRevision = String(cString: kappa_git_revision())

/// Errors raised by the CLI itself (bad option values, unwritable output).
struct KappaError: Error, LocalizedError {
    let message: String
    init(_ message: String) { self.message = message }
    var errorDescription: String? { message }
}

/// Logs and progress go to stderr; the report goes to stdout or `-o FILE`.
/// Colour only on a TTY and never when NO_COLOR is set (https://no-color.org).
enum Diagnostics {
    static var useColor: Bool {
        ProcessInfo.processInfo.environment["NO_COLOR"].map { $0.isEmpty } ?? true
            && isatty(STDERR_FILENO) == 1
    }

    static func error(_ message: String) {
        let prefix = useColor ? "\u{1B}[1;31mkappa: error:\u{1B}[0m " : "kappa: error: "
        FileHandle.standardError.write(Data((prefix + message + "\n").utf8))
    }

    static func note(_ message: String) {
        FileHandle.standardError.write(Data(("kappa: note: " + message + "\n").utf8))
    }

    static func progress(_ message: String) {
        FileHandle.standardError.write(Data(("kappa: " + message + "\n").utf8))
    }
}

extension Diagnostics {
    /// The engine's per-op time profile (`--profile`), slowest first, on stderr.
    static func emitProfile(_ profile: [String: (calls: Int, seconds: Double)]) {
        let total = profile.values.reduce(0) { $0 + $1.seconds }
        var lines = ["profile (engine wall time per op; forward and reverse passes):",
                     "  " + "op".padding(toLength: 28, withPad: " ", startingAt: 0) + "      calls     seconds   share"]
        for (op, p) in profile.sorted(by: { $0.value.seconds > $1.value.seconds }) {
            let share = total > 0 ? 100 * p.seconds / total : 0
            lines.append("  " + op.padding(toLength: 28, withPad: " ", startingAt: 0)
                         + String(format: " %10d %11.3f %6.1f%%", p.calls, p.seconds, share))
        }
        lines.append("  " + "total".padding(toLength: 28, withPad: " ", startingAt: 0) + String(repeating: " ", count: 11) + String(format: " %11.3f", total))
        FileHandle.standardError.write(Data((lines.joined(separator: "\n") + "\n").utf8))
    }
}
