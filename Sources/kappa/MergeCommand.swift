import ArgumentParser
import Foundation
import Reports

/// `kappa merge`: combines the JSON reports of `kappa validate --shard I/N` runs.
struct Merge: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Combine shard reports of `kappa validate --format json` into one report (summary recomputed).")

    @Argument(help: "The shard JSON reports.")
    var reports: [String]

    @OptionGroup var outputOptions: OutputOptions

    @Option(help: ArgumentHelp("Also write an SVG plot of κ per input.", valueName: "FILE.svg"))
    var plot: String?

    func validate() throws {
        guard !reports.isEmpty else { throw ValidationError("give at least one report") }
    }

    func run() throws {
        var loaded: [(path: String, report: ValidationReport)] = []
        for path in reports {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
                throw KappaError("\(path): cannot read: \(error.localizedDescription)")
            }
            do {
                loaded.append((path, try JSONDecoder().decode(ValidationReport.self, from: data)))
            } catch {
                throw KappaError("\(path): not a `kappa validate --format json` report (\(describe(error)))")
            }
        }
        let merged: ValidationReport
        do { merged = try ValidationReport.merge(loaded) } catch { throw KappaError(error.localizedDescription) }
        try outputOptions.emit(try merged.render(outputOptions.format))
        if let plot { try emit(ValidationPlot.svg(merged), to: plot) }
    }

    private func describe(_ error: Error) -> String {
        switch error as? DecodingError {
        case let .keyNotFound(key, _)?: return "missing key '\(key.stringValue)'"
        case let .typeMismatch(_, c)?, let .valueNotFound(_, c)?:
            return "bad value at '\(c.codingPath.map(\.stringValue).joined(separator: "."))'"
        case .dataCorrupted?: return "invalid JSON"
        default: return error.localizedDescription
        }
    }
}
