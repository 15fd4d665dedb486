import ONNX

/// Builds realistic layer graphs (conv, pooling, Gemm, activations …) with seeded
/// He-initialised weights, for tests and benchmarks:
///
///     var b = NetworkBuilder(seed: 1)
///     var t = b.input("x", shape: [1, 3, 32, 32])
///     t = b.conv(t, outChannels: 8, kernel: [3, 3], pads: [1, 1, 1, 1])
///     t = b.relu(t)
///     b.output(t)
///     let spec = b.model()
///
/// Shapes are tracked so layers can size their weights; every helper returns the name of
/// its output tensor.
public struct NetworkBuilder {
    public var rng: SeededRandom
    public var graph = GraphSpec(name: "net")
    public var shapes: [String: [Int]] = [:]
    private var counter = 0

    public init(seed: UInt64 = 0) { rng = SeededRandom(seed: seed) }

    public mutating func fresh(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)_\(counter)"
    }

    public mutating func input(_ name: String, shape: [Int]) -> String {
        graph.inputs.append(ValueInfoSpec(name, shape: shape))
        shapes[name] = shape
        return name
    }

    public mutating func output(_ name: String) {
        graph.outputs.append(ValueInfoSpec(name, elemType: DataType.float.rawValue,
                                           dims: shapes[name].map { $0.map { .value(Int64($0)) } }))
    }

    /// Adds a FLOAT initializer with the given values.
    @discardableResult
    public mutating func constant(_ name: String, dims: [Int], values: [Float]) -> String {
        graph.initializers.append(.float(name, dims: dims, values: values))
        shapes[name] = dims
        return name
    }

    /// He-normal weights: N(0, 2 / fan_in), fan_in = product of dims after the first.
    public mutating func heWeight(_ name: String, dims: [Int]) -> String {
        let fanIn = max(dims.dropFirst().reduce(1, *), 1)
        return constant(name, dims: dims, values: rng.gaussians(dims.reduce(1, *), scale: (2.0 / Double(fanIn)).squareRoot()))
    }

    public mutating func node(_ op: String, _ inputs: [String], shape: [Int]?, attributes: [(String, AttrSpec)] = [],
                              outputs: Int = 1) -> String {
        let name = fresh(op.lowercased())
        let outs = (0..<outputs).map { $0 == 0 ? name : "\(name)_out\($0)" }
        graph.nodes.append(NodeSpec(op, name: name, inputs: inputs, outputs: outs, attributes: attributes))
        if let shape { shapes[name] = shape }
        return name
    }

    public mutating func conv(_ x: String, outChannels: Int, kernel: [Int], strides: [Int]? = nil,
                              pads: [Int]? = nil, dilations: [Int]? = nil, group: Int = 1, bias: Bool = true) -> String {
        let s = shapes[x] ?? []
        let r = kernel.count
        let st = strides ?? Array(repeating: 1, count: r)
        let dl = dilations ?? Array(repeating: 1, count: r)
        let pd = pads ?? Array(repeating: 0, count: 2 * r)
        let w = heWeight(fresh("W"), dims: [outChannels, s[1] / group] + kernel)
        var inputs = [x, w]
        if bias { inputs.append(constant(fresh("B"), dims: [outChannels], values: rng.gaussians(outChannels, scale: 0.01))) }
        let spatial = (0..<r).map { i in (s[2 + i] + pd[i] + pd[i + r] - ((kernel[i] - 1) * dl[i] + 1)) / st[i] + 1 }
        var attrs: [(String, AttrSpec)] = [("kernel_shape", .ints(kernel)), ("strides", .ints(st)), ("pads", .ints(pd))]
        if dilations != nil { attrs.append(("dilations", .ints(dl))) }
        if group != 1 { attrs.append(("group", .int(group))) }
        return node("Conv", inputs, shape: [s[0], outChannels] + spatial, attributes: attrs)
    }

    public mutating func gemm(_ x: String, outFeatures: Int, transB: Bool = true) -> String {
        let s = shapes[x] ?? []
        let w = heWeight(fresh("W"), dims: transB ? [outFeatures, s[1]] : [s[1], outFeatures])
        let b = constant(fresh("B"), dims: [outFeatures], values: rng.gaussians(outFeatures, scale: 0.01))
        return node("Gemm", [x, w, b], shape: [s[0], outFeatures], attributes: transB ? [("transB", .int(1))] : [])
    }

    public mutating func unary(_ op: String, _ x: String, attributes: [(String, AttrSpec)] = []) -> String {
        node(op, [x], shape: shapes[x], attributes: attributes)
    }

    public mutating func relu(_ x: String) -> String { unary("Relu", x) }

    public mutating func maxPool(_ x: String, kernel: [Int], strides: [Int], pads: [Int]? = nil) -> String {
        pool("MaxPool", x, kernel: kernel, strides: strides, pads: pads)
    }

    public mutating func pool(_ op: String, _ x: String, kernel: [Int], strides: [Int], pads: [Int]? = nil) -> String {
        let s = shapes[x] ?? []
        let r = kernel.count
        let pd = pads ?? Array(repeating: 0, count: 2 * r)
        let spatial = (0..<r).map { i in (s[2 + i] + pd[i] + pd[i + r] - kernel[i]) / strides[i] + 1 }
        return node(op, [x], shape: [s[0], s[1]] + spatial,
                    attributes: [("kernel_shape", .ints(kernel)), ("strides", .ints(strides)), ("pads", .ints(pd))])
    }

    public mutating func lrn(_ x: String, size: Int = 5, alpha: Float = 1e-4, beta: Float = 0.75, bias: Float = 1) -> String {
        unary("LRN", x, attributes: [("size", .int(size)), ("alpha", .float(alpha)), ("beta", .float(beta)), ("bias", .float(bias))])
    }

    public mutating func flatten(_ x: String) -> String {
        let s = shapes[x] ?? []
        return node("Flatten", [x], shape: [s.first ?? 1, s.dropFirst().reduce(1, *)], attributes: [("axis", .int(1))])
    }

    public mutating func add(_ a: String, _ b: String) -> String { node("Add", [a, b], shape: shapes[a]) }

    public mutating func concat(_ xs: [String], axis: Int) -> String {
        var s = shapes[xs[0]] ?? []
        if !s.isEmpty { s[axis] = xs.reduce(0) { $0 + (shapes[$1]?[axis] ?? 0) } }
        return node("Concat", xs, shape: s, attributes: [("axis", .int(axis))])
    }

    public mutating func softmax(_ x: String) -> String { unary("Softmax", x, attributes: [("axis", .int(1))]) }

    public func model(opset: Int64 = 17) -> ModelSpec { ModelSpec(graph: graph, opset: opset) }
}
