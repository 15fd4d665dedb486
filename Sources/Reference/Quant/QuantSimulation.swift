import Foundation
import ONNX
import Sensitivity

/// Fake quantization in the reference engine (DESIGN.md §1.10, measured): the float model
/// rewritten so that it computes exactly what the scheme rounds —
/// - a quantized layer reads its weight from a new initializer holding Q(W) (float32 values:
///   what DequantizeLinear or the cast back to float gives);
/// - its data operand goes through QuantizeLinear → DequantizeLinear with the scheme's scale
///   and zero point (integer activations), or Clip(±max) → Cast(to format) → Cast(FLOAT)
///   (float activations: Cast rounds to nearest even; fp8 casts saturate by themselves, the
///   Clip makes float16/bfloat16 saturate too instead of overflowing to ∞).
/// Only the layer's own read of its input is rounded; other readers of the tensor (a
/// residual Add) see the float value, as in the static bound of ``QuantAnalysis``.
public enum QuantSimulation {
    /// `graph` with the layers of `targets` quantized (all of them, or those named in `only`);
    /// `roundActivations: false` quantizes the weights only (the activations stay float).
    public static func graph(_ graph: ModelGraph, targets: [QuantAnalysis.Target], only: Set<String>? = nil,
                             roundActivations: Bool = true) throws(ONNXError) -> ModelGraph {
        var model = graph.model
        var g = graph.graph
        var inserted: [Int: [Node]] = [:]
        let opset = graph.model.opsets[""] ?? graph.model.opsets["ai.onnx"] ?? 21
        for t in targets where only?.contains(t.layer.node) ?? true {
            let idx = t.layer.nodeIndex
            var node = g.nodes[idx]
            let tag = "kappa_quant/\(idx)"
            if t.weights != .float32 {
                let name = "\(tag)/W"
                g.initializers.append(Tensor(name: name, dims: t.layer.weight.dims, floats: t.quantized, storage: .initializer))
                node.inputs[t.weightInput] = name
            }
            let x = node.inputs[t.dataInput]
            var extra: [Node] = []
            switch roundActivations ? t.activations : .float32 {
            case .float32: break
            case let .int(signed):
                guard let grid = t.grid else { break }
                let s = "\(tag)/scale", z = "\(tag)/zero", q = "\(tag)/xq", dq = "\(tag)/x"
                g.initializers.append(Tensor(name: s, dims: [], floats: [grid.scale], storage: .initializer))
                g.initializers.append(byteScalar(z, signed: signed, value: grid.zeroPoint))
                extra.append(Node(name: "\(tag)/Quantize", opType: "QuantizeLinear", inputs: [x, s, z], outputs: [q], attributes: [:]))
                extra.append(Node(name: "\(tag)/Dequantize", opType: "DequantizeLinear", inputs: [q, s, z], outputs: [dq], attributes: [:]))
                node.inputs[t.dataInput] = dq
            case let .float(f):
                var src = x
                if f == .fp16 || f == .bf16 {
                    let c = "\(tag)/clipped"
                    let m = Float(f.maxFinite)
                    if opset >= 11 {
                        let lo = "\(tag)/lo", hi = "\(tag)/hi"
                        g.initializers.append(Tensor(name: lo, dims: [], floats: [-m], storage: .initializer))
                        g.initializers.append(Tensor(name: hi, dims: [], floats: [m], storage: .initializer))
                        extra.append(Node(name: "\(tag)/Clip", opType: "Clip", inputs: [x, lo, hi], outputs: [c], attributes: [:]))
                    } else {
                        extra.append(Node(name: "\(tag)/Clip", opType: "Clip", inputs: [x], outputs: [c],
                                          attributes: ["min": .float(-m), "max": .float(m)]))
                    }
                    src = c
                }
                let r = "\(tag)/rounded", back = "\(tag)/x"
                extra.append(Node(name: "\(tag)/Cast", opType: "Cast", inputs: [src], outputs: [r],
                                  attributes: ["to": .int(Int(f.dataType.rawValue))]))
                extra.append(Node(name: "\(tag)/CastBack", opType: "Cast", inputs: [r], outputs: [back],
                                  attributes: ["to": .int(Int(DataType.float.rawValue))]))
                node.inputs[t.dataInput] = back
            }
            g.nodes[idx] = node
            if !extra.isEmpty { inserted[idx] = extra }
        }
        var nodes: [Node] = []
        for (i, n) in g.nodes.enumerated() {
            nodes.append(contentsOf: inserted[i] ?? [])
            nodes.append(n)
        }
        g.nodes = nodes
        model.graph = g
        var shapes: [String: [Int]] = [:]
        for vi in graph.inputs { if let s = graph.shapes[vi.name] { shapes[vi.name] = s } }
        return try ModelGraph(model: model, inputShapes: shapes)
    }

    static func byteScalar(_ name: String, signed: Bool, value: Int) -> Tensor {
        let buf = OwnedBuffer(byteCount: 1)
        buf.raw[0] = signed ? UInt8(bitPattern: Int8(clamping: value)) : UInt8(clamping: value)
        return Tensor(name: name, dataType: signed ? .int8 : .uint8, dims: [], storage: .initializer,
                      bytes: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(buf.raw)[0..<1]), owner: buf)
    }
}
