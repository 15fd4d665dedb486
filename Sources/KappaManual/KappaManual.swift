import ArgumentParser
import Foundation

/// `kappa --experimental-dump-help | kappa-manual --date D --source "$(kappa --version)"`
/// writes Kappa's man page to stdout (`make install` puts it in share/man/man1/kappa.1).
@main
struct KappaManual: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kappa-manual",
        abstract: "Write a man(7) page from a swift-argument-parser tool's --experimental-dump-help JSON (read from stdin).")

    @Option(help: "The page date, YYYY-MM-DD.")
    var date: String

    @Option(help: "The footer's source field, e.g. the tool's --version line.")
    var source: String

    @Option(help: "The EXIT STATUS section's text.")
    var exitStatus: String?

    func run() throws {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        let info: ToolInfo
        do {
            info = try JSONDecoder().decode(ToolInfo.self, from: data)
        } catch {
            throw ValidationError("stdin is not --experimental-dump-help JSON: \(error)")
        }
        guard info.serializationVersion == 0 else {
            throw ValidationError("dump-help serializationVersion \(info.serializationVersion), this tool reads 0")
        }
        let page = ManualPage(tool: info.command, date: date, source: source, exitStatus: exitStatus)
        FileHandle.standardOutput.write(Data(page.render().utf8))
    }
}
