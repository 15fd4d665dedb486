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
