import ONNX

extension Architectures {
    /// A BERT-style text encoder as exporters write it (the MiniLM / BERT-small family), with
    /// seeded weights: input_ids and attention_mask (int64 [1, seq]); word and position
    /// embedding lookups (Gather) summed and LayerNorm'd; `layers` post-LN blocks of multi-head
    /// self-attention (Q/K/V MatMul + bias, Reshape/Transpose to heads, QKᵀ/√d, the additive mask
    /// (1 − mask)·(−10000), Softmax, ·V, output projection, residual, LayerNormalization) and a
    /// GELU feed-forward (x·½(1 + erf(x/√2)) as torch exports it, 4·hidden wide, residual,
    /// LayerNormalization); a classifier on the first token ([CLS]: Gather → Gemm) giving
    /// `logits` [1, classes] (the first output) and `last_hidden_state` [1, seq, hidden].
    /// Defaults: 4 layers, hidden 384, 6 heads, seq 128, vocabulary 8192 → 10.3 M parameters (41 MB).
    public static func bertEncoder(seed: UInt64 = 4, layers: Int = 4, hidden: Int = 384, heads: Int = 6, seq: Int = 128,
                                   vocab: Int = 8192, classes: Int = 2) -> ModelSpec {
        var b = NetworkBuilder(seed: seed)
        let dh = hidden / heads
        b.graph.inputs.append(ValueInfoSpec("input_ids", shape: [1, seq], elemType: .int64))
        b.graph.inputs.append(ValueInfoSpec("attention_mask", shape: [1, seq], elemType: .int64))
        func small(_ name: String, _ dims: [Int], _ scale: Double) -> String {
            b.constant(b.fresh(name), dims: dims, values: b.rng.gaussians(dims.reduce(1, *), scale: scale))
        }
        func int64(_ name: String, _ values: [Int64]) -> String {
            let n = b.fresh(name)
            b.graph.initializers.append(.int64(n, dims: [values.count], values: values))
            return n
        }
        func scalar(_ name: String, _ v: Float) -> String { b.constant(b.fresh(name), dims: [], values: [v]) }
        func layerNorm(_ x: String) -> String {
            let gamma = b.constant(b.fresh("ln_gamma"), dims: [hidden], values: (0..<hidden).map { _ in Float(1 + 0.05 * b.rng.gaussian()) })
            let beta = small("ln_beta", [hidden], 0.02)
            return b.node("LayerNormalization", [x, gamma, beta], shape: b.shapes[x], attributes: [("axis", .int(-1)), ("epsilon", .float(1e-12))])
        }
        func linear(_ x: String, _ out: Int) -> String {
            let s = b.shapes[x] ?? []
            let w = small("W", [s.last ?? hidden, out], 0.02 * 2)
            let y = b.node("MatMul", [x, w], shape: Array(s.dropLast()) + [out])
            return b.node("Add", [y, small("bias", [out], 0.02)], shape: b.shapes[y])
        }
        // Embeddings.
        let wordTable = small("word_embeddings", [vocab, hidden], 0.05)
        let posTable = small("position_embeddings", [seq, hidden], 0.05)
        let positions = int64("position_ids", (0..<seq).map { Int64($0) })
        let words = b.node("Gather", [wordTable, "input_ids"], shape: [1, seq, hidden])
        let pos = b.node("Gather", [posTable, positions], shape: [seq, hidden])
        var h = layerNorm(b.node("Add", [words, pos], shape: [1, seq, hidden]))
        // The additive mask (1 − mask)·(−10000), [1, 1, 1, seq].
        let maskF = b.node("Cast", ["attention_mask"], shape: [1, seq], attributes: [("to", .int(Int(DataType.float.rawValue)))])
        let mask4 = b.node("Reshape", [maskF, int64("mask_shape", [1, 1, 1, Int64(seq)])], shape: [1, 1, 1, seq])
        let inverted = b.node("Sub", [scalar("one", 1), mask4], shape: [1, 1, 1, seq])
        let bias = b.node("Mul", [inverted, scalar("neg", -10000)], shape: [1, 1, 1, seq])
        let headShape = int64("head_shape", [1, Int64(seq), Int64(heads), Int64(dh)])
        let mergedShape = int64("merged_shape", [1, Int64(seq), Int64(hidden)])
        for _ in 0..<layers {
            func split(_ t: String, keyLayout: Bool) -> String {
                let r = b.node("Reshape", [t, headShape], shape: [1, seq, heads, dh])
                return b.node("Transpose", [r], shape: keyLayout ? [1, heads, dh, seq] : [1, heads, seq, dh],
                              attributes: [("perm", .ints(keyLayout ? [0, 2, 3, 1] : [0, 2, 1, 3]))])
            }
            let q = split(linear(h, hidden), keyLayout: false)
            let k = split(linear(h, hidden), keyLayout: true)
            let v = split(linear(h, hidden), keyLayout: false)
            var s = b.node("MatMul", [q, k], shape: [1, heads, seq, seq])
            s = b.node("Div", [s, scalar("sqrt_dh", Float(dh).squareRoot())], shape: [1, heads, seq, seq])
            s = b.node("Add", [s, bias], shape: [1, heads, seq, seq])
            let p = b.node("Softmax", [s], shape: [1, heads, seq, seq], attributes: [("axis", .int(-1))])
            var ctx = b.node("MatMul", [p, v], shape: [1, heads, seq, dh])
            ctx = b.node("Transpose", [ctx], shape: [1, seq, heads, dh], attributes: [("perm", .ints([0, 2, 1, 3]))])
            ctx = b.node("Reshape", [ctx, mergedShape], shape: [1, seq, hidden])
            h = layerNorm(b.node("Add", [h, linear(ctx, hidden)], shape: [1, seq, hidden]))
            // GELU feed-forward, exported as x·½(1 + erf(x/√2)).
            let u = linear(h, 4 * hidden)
            let e = b.node("Erf", [b.node("Div", [u, scalar("sqrt2", Float(2).squareRoot())], shape: b.shapes[u])], shape: b.shapes[u])
            let gelu = b.node("Mul", [b.node("Mul", [u, b.node("Add", [e, scalar("one", 1)], shape: b.shapes[u])], shape: b.shapes[u]),
                                      scalar("half", 0.5)], shape: b.shapes[u])
            h = layerNorm(b.node("Add", [h, linear(gelu, hidden)], shape: [1, seq, hidden]))
        }
        let cls = b.node("Gather", [h, int64("cls_index", [0])], shape: [1, 1, hidden], attributes: [("axis", .int(1))])
        let flat = b.node("Reshape", [cls, int64("cls_shape", [1, Int64(hidden)])], shape: [1, hidden])
        let pooled = b.node("Tanh", [b.gemm(flat, outFeatures: hidden)], shape: [1, hidden])
        b.output(b.gemm(pooled, outFeatures: classes))
        b.output(h)
        return b.model()
    }
}
