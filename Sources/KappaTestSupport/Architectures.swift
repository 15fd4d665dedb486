/// Full-size reference architectures with seeded random (He) weights, as published.
public enum Architectures {
    /// AlexNet (Krizhevsky et al. 2012; the BVLC/ONNX model-zoo layout): 5 conv layers
    /// with LRN and overlapping max-pooling, 3 fully connected layers, dropout, softmax.
    /// 60,965,224 parameters (≈ 244 MB as float32). The max-pools carry pads [0, 0, 1, 1],
    /// as in the model-zoo file (Caffe's ceil-mode pooling; onnx/models#5), so a 224×224
    /// input gives 54 → 27 → 13 → 6 and fc6 sees 256·6·6 = 9216 features.
    public static func alexNet(seed: UInt64 = 1, batch: Int = 1) -> ModelSpec {
        var b = NetworkBuilder(seed: seed)
        var t = b.input("data_0", shape: [batch, 3, 224, 224])
        t = b.relu(b.conv(t, outChannels: 96, kernel: [11, 11], strides: [4, 4], pads: [0, 0, 0, 0]))
        t = b.lrn(t)
        t = b.maxPool(t, kernel: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1])
        t = b.relu(b.conv(t, outChannels: 256, kernel: [5, 5], pads: [2, 2, 2, 2], group: 2))
        t = b.lrn(t)
        t = b.maxPool(t, kernel: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1])
        t = b.relu(b.conv(t, outChannels: 384, kernel: [3, 3], pads: [1, 1, 1, 1]))
        t = b.relu(b.conv(t, outChannels: 384, kernel: [3, 3], pads: [1, 1, 1, 1], group: 2))
        t = b.relu(b.conv(t, outChannels: 256, kernel: [3, 3], pads: [1, 1, 1, 1], group: 2))
        t = b.maxPool(t, kernel: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1])
        return classifier(&b, t)
    }

    /// VGG-19 (Simonyan & Zisserman 2014, configuration E): 16 3×3 conv layers in five
    /// blocks with 2×2 max-pooling, 3 fully connected layers, dropout, softmax.
    /// 144 M parameters (≈ 575 MB as float32).
    public static func vgg19(seed: UInt64 = 2, batch: Int = 1) -> ModelSpec {
        var b = NetworkBuilder(seed: seed)
        var t = b.input("data", shape: [batch, 3, 224, 224])
        for (channels, repeats) in [(64, 2), (128, 2), (256, 4), (512, 4), (512, 4)] {
            for _ in 0..<repeats {
                t = b.relu(b.conv(t, outChannels: channels, kernel: [3, 3], pads: [1, 1, 1, 1]))
            }
            t = b.maxPool(t, kernel: [2, 2], strides: [2, 2])
        }
        return classifier(&b, t)
    }

    /// The head AlexNet and VGG share: flatten, two 4096-wide Gemm+Relu+Dropout layers,
    /// Gemm to 1000 classes, Softmax.
    private static func classifier(_ b: inout NetworkBuilder, _ features: String) -> ModelSpec {
        var t = b.flatten(features)
        t = b.unary("Dropout", b.relu(b.gemm(t, outFeatures: 4096)))
        t = b.unary("Dropout", b.relu(b.gemm(t, outFeatures: 4096)))
        t = b.gemm(t, outFeatures: 1000)
        t = b.softmax(t)
        b.output(t)
        return b.model()
    }
}
