import ONNX

/// Which tensor is y in κ = (‖δy‖/‖y‖)/(‖δx‖/‖x‖) (DESIGN.md §1): the input of a final
/// Softmax/LogSoftmax (the logits, "the layer before the softmax"), else the graph's first
/// output; an explicit name (`--output NAME`) overrides both.
public enum Logits {
    public static func tensor(in graph: ModelGraph, override: String? = nil) -> String? {
        if let override { return override }
        guard let out = graph.graph.outputs.first?.name else { return nil }
        if let p = graph.producerNode(of: out), p.opType == "Softmax" || p.opType == "LogSoftmax",
           let logits = p.input(0) {
            return logits
        }
        return out
    }
}
