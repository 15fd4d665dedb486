import Foundation

extension InspectReport {
    /// `--format html`: the model's facts, its weights and the unsupported ops.
    public func html() -> String {
        var page = HTMLPage(title: "Kappa inspect: \((model.path as NSString).lastPathComponent)", subtitle: model.path)
        let opsets = model.opsets.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        func values(_ vs: [Value]) -> String { vs.map { "<code>\(HTMLText.escape(valueText($0)))</code>" }.joined(separator: "<br/>") }
        page.section("summary", "Model summary", HTMLPage.facts([
            ("Model", "<code>\(HTMLText.escape(model.path))</code> (\(HTMLText.escape(TextFormat.bytes(fileBytes))))"),
            ("Producer", HTMLText.escape(model.producer.isEmpty ? "(not set)" : model.producer)),
            ("IR / opsets", HTMLText.escape("IR \(model.irVersion) · \(opsets)")),
            ("Inputs", values(inputs)),
            ("Outputs", values(outputs)),
            ("Nodes", HTMLText.escape("\(nodes): \(opsText)")),
            ("Parameters", HTMLText.escape("\(TextFormat.grouped(parameters)) (\(TextFormat.bytes(parameterBytes)))")),
            ("Unsupported ops", unsupported.isEmpty ? "none" : unsupported.map { "<code>\(HTMLText.escape($0.node))</code> (\(HTMLText.escape($0.op)))" }.joined(separator: ", ")),
        ]))
        let rows: [[HTMLTable.Cell]] = weights.map {
            [.html("<code>\(HTMLText.escape($0.name))</code>"), .text("[" + $0.shape.map(String.init).joined(separator: ", ") + "]"), .text($0.dtype),
             .text($0.storage), .text($0.consumers.joined(separator: ", "))]
        }
        page.section("weights", "Weights", HTMLTable(caption: "Weights (\(weights.count))", header: ["name", "shape", "dtype", "storage", "used by"], rows: rows, id: "weights-table").html)
        page.section("findings", "Findings", HTMLPage.findings(findings, notes: notes))
        return page.html
    }
}
