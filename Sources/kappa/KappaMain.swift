import ArgumentParser
import Foundation
import ONNX
import Sensitivity

@main
struct Kappa: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kappa",
        abstract: "Static analysis of the numerical sensitivity of ONNX models.",
        discussion: """
            Kappa reads an ONNX file and tells how much the network can amplify a small \
            perturbation of its input, which layers drive that, and how many bits of \
            precision it needs. Exit codes: 0 clean, 1 a gate failed, 2 usage, I/O or model error.
            """,
        version: kappaCLIVersion,
        subcommands: KappaCommands.all)

    /// Runs the CLI and maps every error to one line on stderr and an exit code from
    /// `ExitStatus`: usage errors and bad models exit 2, never 64 or a crash.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
            Foundation.exit(ExitStatus.clean.rawValue)
        } catch let error as ONNXError {
            Diagnostics.error(error.localizedDescription)
            Foundation.exit(ExitStatus.error.rawValue)
        } catch let error as SensitivityError {
            Diagnostics.error(error.localizedDescription)
            Foundation.exit(ExitStatus.error.rawValue)
        } catch let error as KappaError {
            Diagnostics.error(error.localizedDescription)
            Foundation.exit(ExitStatus.error.rawValue)
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(ExitStatus.clean.rawValue)
            }
            let message = fullMessage(for: error)
            if error is CleanExit || message.isEmpty {
                Foundation.exit(code.rawValue)
            }
            FileHandle.standardError.write(Data((message + "\n").utf8))
            // Usage errors (argument parser's EX_USAGE) and anything unexpected: exit 2.
            Foundation.exit(ExitStatus.error.rawValue)
        }
    }
}
