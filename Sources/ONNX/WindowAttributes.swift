/// The geometry of a sliding-window node (Conv, ConvTranspose, MaxPool, AveragePool,
/// LpPool) after resolving ONNX's attribute defaults and `auto_pad`, for one concrete
/// input shape. Shared by shape inference, the operator norms and the reference engine.
public struct WindowGeometry: Equatable, Sendable {
    /// Spatial input extent (D, H, W …), kernel extent, strides, dilations.
    public var input: [Int]
    public var kernel: [Int]
    public var strides: [Int]
    public var dilations: [Int]
    /// Padding at the start and end of each spatial axis.
    public var padsBegin: [Int]
    public var padsEnd: [Int]
    /// Spatial output extent.
    public var output: [Int]

    public var rank: Int { input.count }

    /// Largest stride, dilation, pad, kernel extent or output_padding accepted from a file
    /// (2^20; real models use single digits). Together with the `Shapes` invariant this
    /// keeps every window computation far from Int overflow.
    public static let maxAttribute = 1 << 20

    /// Resolves a Conv/pool node. `kernel` comes from the weight (conv) or
    /// `kernel_shape` (pool). `ceilMode` applies to pools only.
    public static func resolve(node: Node, input: [Int], kernel: [Int], ceilMode: Bool = false,
                               path: String) throws(ONNXError) -> WindowGeometry {
        let r = input.count
        func list(_ key: String, _ def: Int) throws(ONNXError) -> [Int] {
            guard let v = node.ints(key) else { return Array(repeating: def, count: r) }
            guard v.count == r else {
                throw .badAttribute(path: path, node: node.name, attribute: key,
                                    reason: "has \(v.count) values for \(r) spatial axes")
            }
            guard v.allSatisfy({ $0 >= 1 && $0 <= maxAttribute }) else {
                throw .badAttribute(path: path, node: node.name, attribute: key, reason: "values must be in 1...\(maxAttribute), got \(v)")
            }
            return v
        }
        guard input.count == r, input.allSatisfy({ $0 >= 0 && $0 <= Shapes.maxElements }) else {
            throw .badNode(path: path, node: node.name, reason: "input extent \(input) is out of range")
        }
        guard kernel.count == r, kernel.allSatisfy({ $0 >= 1 && $0 <= Shapes.maxElements }) else {
            throw .badNode(path: path, node: node.name, reason: "kernel \(kernel) does not fit a \(r)-D input")
        }
        let strides = try list("strides", 1)
        let dilations = try list("dilations", 1)
        let autoPad = node.string("auto_pad") ?? "NOTSET"
        var pb = Array(repeating: 0, count: r), pe = Array(repeating: 0, count: r)
        var out = Array(repeating: 0, count: r)
        for i in 0..<r {
            let ext = (kernel[i] - 1) * dilations[i] + 1
            switch autoPad {
            case "SAME_UPPER", "SAME_LOWER":
                out[i] = (input[i] + strides[i] - 1) / strides[i]
                let total = max(0, (out[i] - 1) * strides[i] + ext - input[i])
                let small = total / 2
                pb[i] = autoPad == "SAME_UPPER" ? small : total - small
                pe[i] = total - pb[i]
            case "VALID":
                out[i] = input[i] >= ext ? (input[i] - ext) / strides[i] + 1 : 0
            case "NOTSET", "":
                if let pads = node.ints("pads") {
                    guard pads.count == 2 * r, pads.allSatisfy({ $0 >= 0 && $0 <= maxAttribute }) else {
                        throw .badAttribute(path: path, node: node.name, attribute: "pads",
                                            reason: "expected \(2 * r) non-negative values, got \(pads)")
                    }
                    pb[i] = pads[i]
                    pe[i] = pads[i + r]
                }
                let span = input[i] + pb[i] + pe[i] - ext
                if span < 0 {
                    out[i] = 0
                } else if ceilMode {
                    var o = (span + strides[i] - 1) / strides[i] + 1
                    // ONNX: the last window must start inside the input or the begin padding.
                    if (o - 1) * strides[i] >= input[i] + pb[i] { o -= 1 }
                    out[i] = o
                } else {
                    out[i] = span / strides[i] + 1
                }
            default:
                throw .badAttribute(path: path, node: node.name, attribute: "auto_pad", reason: "unknown value '\(autoPad)'")
            }
            guard out[i] >= 1 else {
                throw .badNode(path: path, node: node.name,
                               reason: "window \(kernel) (dilations \(dilations)) does not fit input \(input) with pads \(pb)+\(pe)")
            }
        }
        return WindowGeometry(input: input, kernel: kernel, strides: strides, dilations: dilations,
                              padsBegin: pb, padsEnd: pe, output: out)
    }

    /// Output extent of a ConvTranspose (ONNX formula, honouring output_padding and
    /// output_shape). Pads are resolved the same way.
    public static func resolveTranspose(node: Node, input: [Int], kernel: [Int], path: String) throws(ONNXError) -> WindowGeometry {
        let r = input.count
        let strides = node.ints("strides") ?? Array(repeating: 1, count: r)
        let dilations = node.ints("dilations") ?? Array(repeating: 1, count: r)
        let outPad = node.ints("output_padding") ?? Array(repeating: 0, count: r)
        let inRange = { (v: Int, lo: Int) in v >= lo && v <= maxAttribute }
        guard strides.count == r, dilations.count == r, outPad.count == r, kernel.count == r,
              strides.allSatisfy({ inRange($0, 1) }), dilations.allSatisfy({ inRange($0, 1) }),
              outPad.allSatisfy({ inRange($0, 0) }),
              kernel.allSatisfy({ $0 >= 1 && $0 <= Shapes.maxElements }),
              input.allSatisfy({ $0 >= 0 && $0 <= Shapes.maxElements }) else {
            throw .badNode(path: path, node: node.name, reason: "strides/dilations/output_padding do not fit a \(r)-D input or are out of range")
        }
        if let pads = node.ints("pads"), !pads.allSatisfy({ inRange($0, 0) }) {
            throw .badAttribute(path: path, node: node.name, attribute: "pads", reason: "values must be in 0...\(maxAttribute), got \(pads)")
        }
        if let os = node.ints("output_shape"), !os.allSatisfy({ $0 >= 1 && $0 <= Shapes.maxElements }) {
            throw .badAttribute(path: path, node: node.name, attribute: "output_shape", reason: "values out of range: \(os)")
        }
        var pb = Array(repeating: 0, count: r), pe = Array(repeating: 0, count: r)
        var out = Array(repeating: 0, count: r)
        let autoPad = node.string("auto_pad") ?? "NOTSET"
        let explicitOut = node.ints("output_shape")
        for i in 0..<r {
            let full = strides[i] * (input[i] - 1) + outPad[i] + (kernel[i] - 1) * dilations[i] + 1
            if let os = explicitOut, os.count >= r {
                out[i] = os[os.count - r + i]
                let total = max(0, full - out[i])
                pb[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
                pe[i] = total - pb[i]
            } else if autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER" {
                out[i] = input[i] * strides[i]
                let total = max(0, full - out[i])
                pb[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2
                pe[i] = total - pb[i]
            } else {
                if autoPad != "VALID", let pads = node.ints("pads") {
                    guard pads.count == 2 * r else {
                        throw .badAttribute(path: path, node: node.name, attribute: "pads", reason: "expected \(2 * r) values")
                    }
                    pb[i] = pads[i]
                    pe[i] = pads[i + r]
                }
                out[i] = full - pb[i] - pe[i]
            }
            guard out[i] >= 1 else {
                throw .badNode(path: path, node: node.name, reason: "ConvTranspose output would be empty")
            }
        }
        return WindowGeometry(input: input, kernel: kernel, strides: strides, dilations: dilations,
                              padsBegin: pb, padsEnd: pe, output: out)
    }
}
