import ArgumentParser
import Foundation
import ONNX
import Reports

extension OutputFormat: ExpressibleByArgument {}

/// Options every model-reading command takes.
struct ModelOptions: ParsableArguments {
    @Option(name: .customLong("input-shape"),
            help: ArgumentHelp("Fix an input's shape, e.g. data=1x3x224x224 (repeatable). A symbolic batch dimension defaults to 1.",
                               valueName: "NAME=DIMS"))
    var inputShape: [String] = []

    /// Parses `--input-shape` values into a map.
    func inputShapes() throws -> [String: [Int]] {
        var out: [String: [Int]] = [:]
        for spec in inputShape {
            guard let eq = spec.lastIndex(of: "=") else {
                throw KappaError("--input-shape '\(spec)': expected NAME=DIMS, e.g. data=1x3x224x224")
            }
            let name = String(spec[..<eq])
            let dims = spec[spec.index(after: eq)...].split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
            guard !name.isEmpty, !dims.isEmpty, dims.allSatisfy({ ($0 ?? 0) > 0 }) else {
                throw KappaError("--input-shape '\(spec)': dimensions must be positive integers separated by 'x'")
            }
            out[name] = dims.compactMap { $0 }
        }
        return out
    }

    /// Loads and prepares one model, printing the loader's notes on stderr.
    func load(_ path: String, quiet: Bool = false) throws -> ModelGraph {
        let model = try ModelLoader.load(path: path)
        let graph = try ModelGraph(model: model, inputShapes: try inputShapes())
        if !quiet { for n in graph.notes { Diagnostics.note("\(path): \(n)") } }
        return graph
    }
}

/// `--output NAME` and `--perturb NAME`: the tensor y whose sensitivity is analysed or
/// measured, and the tensors x the perturbation enters at (DESIGN.md §1, §1.7).
struct TensorOption: ParsableArguments {
    @Option(name: .customLong("output"),
            help: ArgumentHelp("The tensor y to analyse (default: the input of a final Softmax/LogSoftmax, else the first floating-point graph output that depends on the input).",
                               valueName: "NAME"))
    var name: String?

    @Option(name: .customLong("perturb"),
            help: ArgumentHelp("A floating-point tensor the perturbation enters at (repeatable; default: the float graph inputs, else the embedding lookups of a text or byte model).",
                               valueName: "NAME"))
    var perturb: [String] = []

    var perturbed: [String]? { perturb.isEmpty ? nil : perturb }
}

/// `--format` and `-o`.
struct OutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Report format: text, json, markdown, csv, sarif, github or html (one self-contained page).")
    var format: OutputFormat = .text

    // `--output NAME` belongs to `analyze`/`check`/`validate` (the analysed tensor, DESIGN.md
    // §1), so the report file is `-o FILE` or `--output-file FILE`.
    @Option(name: [.customShort("o"), .customLong("output-file")],
            help: ArgumentHelp("Write the report to FILE instead of stdout.", valueName: "FILE"))
    var output: String?

    /// Colour in the text report: only on a terminal stdout, never with NO_COLOR or -o.
    var useColor: Bool {
        output == nil && format == .text && isatty(STDOUT_FILENO) == 1
            && (ProcessInfo.processInfo.environment["NO_COLOR"].map { $0.isEmpty } ?? true)
    }

    /// Writes `report` to `-o FILE` or stdout.
    func emit(_ report: String) throws {
        if let output {
            do {
                try Data(report.utf8).write(to: URL(fileURLWithPath: output))
            } catch {
                throw KappaError("cannot write '\(output)': \(error.localizedDescription)")
            }
        } else {
            FileHandle.standardOutput.write(Data(report.utf8))
        }
    }
}
