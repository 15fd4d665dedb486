extension Architectures {
    /// A mobile detector in the shape of PicoDet / SSDLite-MobileNetV3 (the kind of 5–10 MB
    /// model shipped for on-device detection), with seeded He weights: a MobileNetV3-Large
    /// backbone (Howard et al. 2019, Table 1; inverted residuals, depthwise convolutions,
    /// squeeze-excitation gates GlobalAveragePool → 1×1 Conv → Relu → 1×1 Conv → HardSigmoid
    /// → Mul, hard-swish), channels × `width`; a two-level FPN (stride 16 and 32, nearest 2×
    /// Resize, Add); a head of depthwise 3×3 + pointwise convolutions giving per-location class
    /// scores [N, classes, H/16, W/16] (the first output) and box offsets [N, 4, H/16, W/16].
    /// width 0.75 at 320×320: 1.74 M parameters (7.0 MB as float32), 149 nodes.
    public static func mobileDetector(seed: UInt64 = 3, size: Int = 320, width: Double = 0.75, classes: Int = 81) -> ModelSpec {
        var b = NetworkBuilder(seed: seed)
        func ch(_ c: Int) -> Int { max(8, Int((Double(c) * width / 8).rounded()) * 8) }
        func hswish(_ x: String) -> String { b.unary("HardSwish", x) }
        func act(_ x: String, _ hs: Bool) -> String { hs ? hswish(x) : b.relu(x) }
        func se(_ x: String) -> String {
            let c = b.shapes[x]?[1] ?? 1
            let n = b.shapes[x]?[0] ?? 1
            let pooled = b.node("GlobalAveragePool", [x], shape: [n, c, 1, 1])
            let squeezed = b.relu(b.conv(pooled, outChannels: max(8, (c / 4 + 4) / 8 * 8), kernel: [1, 1]))
            let gate = b.unary("HardSigmoid", b.conv(squeezed, outChannels: c, kernel: [1, 1]),
                               attributes: [("alpha", .float(1.0 / 6)), ("beta", .float(0.5))])
            return b.node("Mul", [x, gate], shape: b.shapes[x])
        }
        var t = b.input("image", shape: [1, 3, size, size])
        t = hswish(b.conv(t, outChannels: ch(16), kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1]))
        // (kernel, expansion, out, SE, hard-swish, stride)
        let blocks: [(Int, Int, Int, Bool, Bool, Int)] = [
            (3, 16, 16, false, false, 1), (3, 64, 24, false, false, 2), (3, 72, 24, false, false, 1),
            (5, 72, 40, true, false, 2), (5, 120, 40, true, false, 1), (5, 120, 40, true, false, 1),
            (3, 240, 80, false, true, 2), (3, 200, 80, false, true, 1), (3, 184, 80, false, true, 1),
            (3, 184, 80, false, true, 1), (3, 480, 112, true, true, 1), (3, 672, 112, true, true, 1),
            (5, 672, 160, true, true, 2), (5, 960, 160, true, true, 1), (5, 960, 160, true, true, 1),
        ]
        var stride16 = t
        for (i, (k, e, o, useSE, hs, s)) in blocks.enumerated() {
            let input = t
            let inC = b.shapes[t]?[1] ?? 0
            var y = t
            if ch(e) != inC { y = act(b.conv(y, outChannels: ch(e), kernel: [1, 1]), hs) }
            let p = k / 2
            y = act(b.conv(y, outChannels: ch(e), kernel: [k, k], strides: [s, s], pads: [p, p, p, p], group: ch(e)), hs)
            if useSE { y = se(y) }
            y = b.conv(y, outChannels: ch(o), kernel: [1, 1])
            if s == 1 && inC == ch(o) { y = b.add(y, input) }
            t = y
            if i == 11 { stride16 = t }
        }
        let c5 = hswish(b.conv(t, outChannels: ch(480), kernel: [1, 1]))
        // FPN: lateral 1×1 convs to a common width, the coarse level upsampled ×2 and added.
        let fpn = ch(128)
        let p5 = b.conv(c5, outChannels: fpn, kernel: [1, 1])
        let p4 = b.conv(stride16, outChannels: fpn, kernel: [1, 1])
        let scales = b.constant(b.fresh("scales"), dims: [4], values: [1, 1, 2, 2])
        let up = b.node("Resize", [p5, "", scales], shape: b.shapes[p4], attributes: [("mode", .string("nearest"))])
        var f = b.add(p4, up)
        for _ in 0..<2 {
            f = hswish(b.conv(f, outChannels: fpn, kernel: [3, 3], pads: [1, 1, 1, 1], group: fpn))
            f = hswish(b.conv(f, outChannels: fpn, kernel: [1, 1]))
        }
        let scores = b.conv(f, outChannels: classes, kernel: [1, 1])
        let boxes = b.conv(f, outChannels: 4, kernel: [1, 1])
        b.output(scores)
        b.output(boxes)
        return b.model()
    }
}
