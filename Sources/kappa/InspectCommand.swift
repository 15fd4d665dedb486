import ArgumentParser
import ONNX
import Reports

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show what is in a model file: producer, inputs/outputs, ops, parameters, weights, unsupported ops.")

    @Argument(help: "The .onnx model file.")
    var model: String

    @OptionGroup var modelOptions: ModelOptions
    @OptionGroup var outputOptions: OutputOptions

    func run() throws {
        let graph = try modelOptions.load(model, quiet: true)  // notes are part of the report
        let report = InspectReport(graph)
        try outputOptions.emit(try report.render(outputOptions.format))
    }
}
