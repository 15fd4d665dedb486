import ONNX

/// Tiny networks (a few hundred parameters) for unit and CLI tests; seeded, so every run
/// writes byte-identical files.
public enum SmallModels {
    /// conv 3×3 → ReLU → MaxPool 2×2 → grouped conv → ReLU → Flatten → Gemm → Softmax.
    public static func tinyCNN(seed: UInt64 = 7) -> ModelSpec {
        var b = NetworkBuilder(seed: seed)
        var t = b.input("x", shape: [1, 2, 8, 8])
        t = b.relu(b.conv(t, outChannels: 4, kernel: [3, 3], pads: [1, 1, 1, 1]))
        t = b.maxPool(t, kernel: [2, 2], strides: [2, 2])
        t = b.relu(b.conv(t, outChannels: 4, kernel: [3, 3], pads: [1, 1, 1, 1], group: 2))
        t = b.flatten(t)
        t = b.gemm(t, outFeatures: 5)
        t = b.softmax(t)
        b.output(t)
        return b.model()
    }

    /// A chain of Gemm layers with ReLUs (the paper's setting for Eq. 7/8).
    public static func mlp(widths: [Int] = [6, 5, 4, 3], seed: UInt64 = 3) -> ModelSpec {
        var b = NetworkBuilder(seed: seed)
        var t = b.input("x", shape: [1, widths[0]])
        for (i, w) in widths.dropFirst().enumerated() {
            t = b.gemm(t, outFeatures: w)
            if i < widths.count - 2 { t = b.relu(t) }
        }
        b.output(t)
        return b.model()
    }

    /// A model whose middle node is a custom-domain op (unsupported) and which contains an
    /// attention-style Mul of two variable tensors (unbounded).
    public static func withUnsupported(seed: UInt64 = 5) -> ModelSpec {
        var b = NetworkBuilder(seed: seed)
        let x = b.input("x", shape: [1, 4])
        let h = b.gemm(x, outFeatures: 4)
        let name = b.fresh("custom")
        b.graph.nodes.append(NodeSpec("Frobnicate", name: name, domain: "com.example", inputs: [h], outputs: [name]))
        b.shapes[name] = [1, 4]
        let sq = b.node("Mul", [name, h], shape: [1, 4])
        let out = b.gemm(sq, outFeatures: 3)
        b.output(out)
        var spec = b.model()
        spec.opsets.append(("com.example", 1))
        return spec
    }

    /// A model with a NaN in a weight.
    public static func withNaN() -> ModelSpec {
        var b = NetworkBuilder(seed: 9)
        let x = b.input("x", shape: [1, 3])
        let w = b.constant("W_nan", dims: [2, 3], values: [1, .nan, 0, 0, 1, 0])
        let y = b.node("Gemm", [x, w], shape: [1, 2], attributes: [("transB", .int(1))])
        b.output(y)
        return b.model()
    }
}
