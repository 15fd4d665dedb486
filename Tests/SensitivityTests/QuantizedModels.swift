import Foundation
import KappaTestSupport
import ONNX

/// A small graph writer for quantized test models: tensors of any integer type, ops of any
/// domain, and weights quantized per tensor or per channel with their dequantized float
/// values (for the float twin: the same arithmetic as DequantizeLinear, in Double, stored as
/// float32).
struct QBuilder {
    var graph = GraphSpec(name: "q")
    var rng: SeededRandom
    private var counter = 0

    /// `start` offsets the generated names (a second builder extending a graph).
    init(seed: UInt64, start: Int = 0) {
        rng = SeededRandom(seed: seed)
        counter = start
    }

    mutating func fresh(_ p: String) -> String {
        counter += 1
        return "\(p)_\(counter)"
    }

    mutating func input(_ name: String, _ shape: [Int]) -> String {
        graph.inputs.append(ValueInfoSpec(name, shape: shape))
        return name
    }

    mutating func output(_ name: String) { graph.outputs.append(ValueInfoSpec(name, elemType: DataType.float.rawValue, dims: nil)) }

    @discardableResult
    mutating func f32(_ p: String, _ dims: [Int], _ v: [Float]) -> String {
        let n = fresh(p)
        graph.initializers.append(.float(n, dims: dims, values: v))
        return n
    }

    /// An integer initializer (INT8, UINT8, INT32) as raw_data.
    mutating func ints(_ p: String, _ type: DataType, _ dims: [Int], _ v: [Int]) -> String {
        let n = fresh(p)
        let bytes: [UInt8]
        switch type {
        case .int8: bytes = v.map { UInt8(bitPattern: Int8(clamping: $0)) }
        case .uint8: bytes = v.map { UInt8(clamping: $0) }
        case .int32: bytes = v.map { Int32(clamping: $0) }.withUnsafeBytes { Array($0) }
        default: bytes = v.map { Int64($0) }.withUnsafeBytes { Array($0) }
        }
        graph.initializers.append(TensorSpec(name: n, dataType: type.rawValue, dims: dims.map { Int64($0) }, data: .raw(bytes)))
        return n
    }

    mutating func i64(_ p: String, _ v: [Int]) -> String {
        let n = fresh(p)
        graph.initializers.append(.int64(n, dims: [v.count], values: v.map { Int64($0) }))
        return n
    }

    @discardableResult
    mutating func op(_ op: String, _ ins: [String], domain: String = "", attrs: [(String, AttrSpec)] = [], outputs: Int = 1) -> [String] {
        let name = fresh(op)
        let outs = (0..<outputs).map { "\(name)_out\($0)" }
        graph.nodes.append(NodeSpec(op, name: name, domain: domain, inputs: ins, outputs: outs, attributes: attrs))
        return outs
    }

    mutating func op1(_ o: String, _ ins: [String], domain: String = "", attrs: [(String, AttrSpec)] = []) -> String {
        op(o, ins, domain: domain, attrs: attrs)[0]
    }

    /// He-normal float weights.
    mutating func weights(_ dims: [Int]) -> [Float] {
        let fanIn = max(dims.dropFirst().reduce(1, *), 1)
        return rng.gaussians(dims.reduce(1, *), scale: (2.0 / Double(fanIn)).squareRoot())
    }

    func model(opset: Int64 = 17, contrib: Bool = false) -> ModelSpec {
        var m = ModelSpec(graph: graph, opset: opset)
        if contrib { m.opsets.append((domain: "com.microsoft", version: 1)) }
        return m
    }
}

/// A weight quantized as an exporter does it: s_c = max|w_c|/100 per channel along `axis`
/// (or one scale), q = clamp(round(w/s) + z_c), with non-zero zero points z_c so that the
/// dequantization (q − z)·s is really tested.
struct QuantizedWeight {
    var dims: [Int]
    var q: [Int]
    var scale: [Float]
    var zero: [Int]
    var type: DataType
    /// (q − z)·s computed in Double and rounded to float32 (DequantizeLinear's folding).
    var dequantized: [Float]
    var axis: Int?

    init(_ w: [Float], dims: [Int], axis: Int?, type: DataType = .int8) {
        self.dims = dims
        self.type = type
        self.axis = axis
        let channels = axis.map { dims[$0] } ?? 1
        let inner = axis.map { dims[($0 + 1)...].reduce(1, *) } ?? w.count
        func channel(_ i: Int) -> Int { axis == nil ? 0 : (i / inner) % channels }
        var maxAbs = [Float](repeating: 0, count: channels)
        for (i, v) in w.enumerated() { maxAbs[channel(i)] = max(maxAbs[channel(i)], abs(v)) }
        scale = maxAbs.map { max($0, 1e-3) / 100 }
        let (lo, hi) = type == .uint8 ? (0, 255) : (-128, 127)
        zero = (0..<channels).map { type == .uint8 ? 128 + ($0 % 5) - 2 : ($0 % 5) - 2 }
        var q = [Int](repeating: 0, count: w.count)
        var dq = [Float](repeating: 0, count: w.count)
        for (i, v) in w.enumerated() {
            let c = channel(i)
            q[i] = min(max(Int((Double(v) / Double(scale[c])).rounded(.toNearestOrEven)) + zero[c], lo), hi)
            dq[i] = Float((Double(q[i]) - Double(zero[c])) * Double(scale[c]))
        }
        self.q = q
        self.dequantized = dq
    }

    /// Writes q, scale and zero point; returns their names.
    func write(_ b: inout QBuilder, _ p: String) -> (q: String, scale: String, zero: String) {
        let sd = axis == nil ? [] : [scale.count]
        return (b.ints(p + "_q", type, dims, q), b.f32(p + "_scale", sd, scale), b.ints(p + "_zp", type, sd, zero))
    }
}

/// The quantized test networks, each with its float twin (same shapes, the dequantized
/// weights) where the norms are compared.
enum QuantizedTestModels {
    static let pad1: [(String, AttrSpec)] = [("kernel_shape", .ints([3, 3])), ("pads", .ints([1, 1, 1, 1]))]
    static let grouped: [(String, AttrSpec)] = [("kernel_shape", .ints([3, 3])), ("group", .int(2)), ("strides", .ints([2, 2])),
                                                 ("pads", .ints([1, 1, 0, 0]))]

    /// QOperator: Q → QLinearConv (per-channel int8, zero points, int32 bias) → QLinearConv
    /// (group 2, stride 2, asymmetric pads) → DQ; twin Conv → Conv.
    static func qlinearConv() -> (quantized: ModelSpec, float: ModelSpec) {
        var q = QBuilder(seed: 31), f = QBuilder(seed: 0)
        let x = q.input("x", [1, 3, 8, 8])
        _ = f.input("x", [1, 3, 8, 8])
        let xs = q.f32("x_scale", [], [0.02]), xz = q.ints("x_zp", .uint8, [], [128])
        var t = q.op1("QuantizeLinear", [x, xs, xz])
        let w1 = QuantizedWeight(q.weights([4, 3, 3, 3]), dims: [4, 3, 3, 3], axis: 0)
        let (w1q, w1s, w1z) = w1.write(&q, "w1")
        let y1s = q.f32("y1_scale", [], [0.05]), y1z = q.ints("y1_zp", .uint8, [], [100])
        let b1 = q.ints("b1", .int32, [4], [100, -50, 0, 7])
        t = q.op1("QLinearConv", [t, xs, xz, w1q, w1s, w1z, y1s, y1z, b1], attrs: pad1)
        let w2 = QuantizedWeight(q.weights([6, 2, 3, 3]), dims: [6, 2, 3, 3], axis: 0)
        let (w2q, w2s, w2z) = w2.write(&q, "w2")
        let y2s = q.f32("y2_scale", [], [0.07]), y2z = q.ints("y2_zp", .uint8, [], [90])
        t = q.op1("QLinearConv", [t, y1s, y1z, w2q, w2s, w2z, y2s, y2z], attrs: grouped)
        q.output(q.op1("DequantizeLinear", [t, y2s, y2z]))
        var u = f.op1("Conv", [x, f.f32("w1", w1.dims, w1.dequantized)], attrs: pad1)
        u = f.op1("Conv", [u, f.f32("w2", w2.dims, w2.dequantized)], attrs: grouped)
        f.output(u)
        return (q.model(), f.model())
    }

    /// QOperator: Q → QLinearMatMul (b constant, per-column int8) → QLinearMatMul (a constant,
    /// per-row) → DQ; twin MatMul(x, B) → MatMul(A, ·).
    static func qlinearMatMul() -> (quantized: ModelSpec, float: ModelSpec) {
        var q = QBuilder(seed: 32), f = QBuilder(seed: 0)
        let x = q.input("x", [3, 6])
        _ = f.input("x", [3, 6])
        let xs = q.f32("x_scale", [], [0.03]), xz = q.ints("x_zp", .int8, [], [-3])
        var t = q.op1("QuantizeLinear", [x, xs, xz])
        let b = QuantizedWeight(q.weights([6, 5]), dims: [6, 5], axis: 1)
        let (bq, bs, bz) = b.write(&q, "b")
        let ys = q.f32("y_scale", [], [0.04]), yz = q.ints("y_zp", .int8, [], [2])
        t = q.op1("QLinearMatMul", [t, xs, xz, bq, bs, bz, ys, yz])
        let a = QuantizedWeight(q.weights([4, 3]), dims: [4, 3], axis: 0)
        let (aq, asc, az) = a.write(&q, "a")
        let zs = q.f32("z_scale", [], [0.06]), zz = q.ints("z_zp", .int8, [], [0])
        t = q.op1("QLinearMatMul", [aq, asc, az, t, ys, yz, zs, zz])
        q.output(q.op1("DequantizeLinear", [t, zs, zz]))
        var u = f.op1("MatMul", [x, f.f32("b", b.dims, b.dequantized)])
        u = f.op1("MatMul", [f.f32("a", a.dims, a.dequantized), u])
        f.output(u)
        return (q.model(), f.model())
    }

    /// quantize_dynamic's MatMul pattern twice (uint8 per-tensor weight; then int8 per-column
    /// weight and zero points): DQL → Mul(s, w_s) → MatMulInteger → Cast → Mul → Add(bias) →
    /// Relu → DQL → …; twin MatMul + bias → Relu → MatMul.
    static func dynamicMatMul() -> (quantized: ModelSpec, float: ModelSpec) {
        var q = QBuilder(seed: 33), f = QBuilder(seed: 0)
        let x = q.input("x", [2, 6])
        _ = f.input("x", [2, 6])
        let w1 = QuantizedWeight(q.weights([6, 5]), dims: [6, 5], axis: nil, type: .uint8)
        let bias = q.weights([5])
        let w2 = QuantizedWeight(q.weights([5, 4]), dims: [5, 4], axis: 1, type: .int8)
        func layer(_ b: inout QBuilder, _ input: String, _ w: QuantizedWeight, _ p: String) -> String {
            let (wq, ws, wz) = w.write(&b, p)
            let d = b.op("DynamicQuantizeLinear", [input], outputs: 3)
            let scales = b.op1("Mul", [d[1], ws])
            let acc = b.op1("MatMulInteger", [d[0], wq, d[2], wz])
            let cast = b.op1("Cast", [acc], attrs: [("to", .int(1))])
            return b.op1("Mul", [cast, scales])
        }
        var t = layer(&q, x, w1, "w1")
        t = q.op1("Add", [t, q.f32("bias", [5], bias)])
        t = q.op1("Relu", [t])
        q.output(layer(&q, t, w2, "w2"))
        var u = f.op1("MatMul", [x, f.f32("w1", w1.dims, w1.dequantized)])
        u = f.op1("Relu", [f.op1("Add", [u, f.f32("bias", [5], bias)])])
        f.output(f.op1("MatMul", [u, f.f32("w2", w2.dims, w2.dequantized)]))
        return (q.model(), f.model())
    }

    /// The older quantizer's ConvInteger pattern (ddddocr's common_old.onnx): the bias
    /// quantized at run time as ⌊b/(s·w_s)⌋ (Mul, Div, Floor, Cast, Reshape) and added to the
    /// int32 product before the Cast and the rescale; twin Conv with the float bias.
    static func dynamicConv() -> (quantized: ModelSpec, float: ModelSpec) {
        var q = QBuilder(seed: 34), f = QBuilder(seed: 0)
        let x = q.input("x", [1, 2, 6, 6])
        _ = f.input("x", [1, 2, 6, 6])
        let w = QuantizedWeight(q.weights([4, 2, 3, 3]), dims: [4, 2, 3, 3], axis: nil, type: .uint8)
        let bias = q.weights([4])
        let (wq, ws, wz) = w.write(&q, "w")
        let b = q.f32("b", [4], bias)
        let d = q.op("DynamicQuantizeLinear", [x], outputs: 3)
        let biasScale = q.op1("Mul", [d[1], ws])
        let bq = q.op1("Cast", [q.op1("Floor", [q.op1("Div", [b, biasScale])])], attrs: [("to", .int(6))])
        let bqr = q.op1("Reshape", [bq, q.i64("bshape", [1, 4, 1, 1])])
        let acc = q.op1("ConvInteger", [d[0], wq, d[2], wz], attrs: pad1)
        let withBias = q.op1("Add", [acc, bqr])
        let cast = q.op1("Cast", [withBias], attrs: [("to", .int(1))])
        let scales = q.op1("Mul", [d[1], ws])
        q.output(q.op1("Relu", [q.op1("Mul", [cast, scales])]))
        let u = f.op1("Conv", [x, f.f32("w", w.dims, w.dequantized), f.f32("b", [4], bias)], attrs: pad1)
        f.output(f.op1("Relu", [u]))
        return (q.model(), f.model())
    }

    /// onnxruntime's contrib forms: DynamicQuantizeMatMul; DQL → MatMulIntegerToFloat; a
    /// QGemm with a quantized output (transB) between a QuantizeLinear and a DequantizeLinear;
    /// twin MatMul → MatMul → Gemm.
    static func contribMatMuls() -> (quantized: ModelSpec, float: ModelSpec) {
        var q = QBuilder(seed: 35), f = QBuilder(seed: 0)
        let x = q.input("x", [2, 6])
        _ = f.input("x", [2, 6])
        let w1 = QuantizedWeight(q.weights([6, 5]), dims: [6, 5], axis: 1, type: .int8)
        let (w1q, w1s, w1z) = w1.write(&q, "w1")
        let b1 = q.weights([5])
        var t = q.op1("DynamicQuantizeMatMul", [x, w1q, w1s, w1z, q.f32("b1", [5], b1)], domain: "com.microsoft")
        let w2 = QuantizedWeight(q.weights([5, 4]), dims: [5, 4], axis: 1, type: .uint8)
        let (w2q, w2s, w2z) = w2.write(&q, "w2")
        let d = q.op("DynamicQuantizeLinear", [t], outputs: 3)
        t = q.op1("MatMulIntegerToFloat", [d[0], w2q, d[1], w2s, d[2], w2z], domain: "com.microsoft")
        let xs = q.f32("g_scale", [], [0.05]), xz = q.ints("g_zp", .uint8, [], [120])
        let w3 = QuantizedWeight(q.weights([3, 4]), dims: [3, 4], axis: 0, type: .int8)  // stored N × K (transB)
        let (w3q, w3s, w3z) = w3.write(&q, "w3")
        let ys = q.f32("y_scale", [], [0.08]), yz = q.ints("y_zp", .uint8, [], [125])
        t = q.op1("QuantizeLinear", [t, xs, xz])
        t = q.op1("QGemm", [t, xs, xz, w3q, w3s, w3z, "", ys, yz], domain: "com.microsoft",
                  attrs: [("transB", .int(1)), ("alpha", .float(0.75))])
        q.output(q.op1("DequantizeLinear", [t, ys, yz]))
        var u = f.op1("Add", [f.op1("MatMul", [x, f.f32("w1", w1.dims, w1.dequantized)]), f.f32("b1", [5], b1)])
        u = f.op1("MatMul", [u, f.f32("w2", w2.dims, w2.dequantized)])
        u = f.op1("Gemm", [u, f.f32("w3", w3.dims, w3.dequantized)], attrs: [("transB", .int(1)), ("alpha", .float(0.75))])
        f.output(u)
        return (q.model(contrib: true), f.model())
    }

    /// A QDQ network with activation quantizers per tensor, per axis and blocked (opset 21);
    /// for the soundness test.
    static func qdq() -> ModelSpec {
        var q = QBuilder(seed: 36)
        let x = q.input("x", [1, 2, 6, 6])
        func pair(_ b: inout QBuilder, _ t: String, _ s: String, _ z: String, _ attrs: [(String, AttrSpec)] = []) -> String {
            b.op1("DequantizeLinear", [b.op1("QuantizeLinear", [t, s, z], attrs: attrs), s, z], attrs: attrs)
        }
        var t = pair(&q, x, q.f32("s0", [], [0.02]), q.ints("z0", .uint8, [], [128]))
        let w = QuantizedWeight(q.weights([4, 2, 3, 3]), dims: [4, 2, 3, 3], axis: 0)
        let (wq, ws, wz) = w.write(&q, "w")
        let wd = q.op1("DequantizeLinear", [wq, ws, wz], attrs: [("axis", .int(0))])
        t = q.op1("Relu", [q.op1("Conv", [t, wd], attrs: pad1)])
        t = pair(&q, t, q.f32("s1", [4], [0.01, 0.03, 0.02, 0.05]), q.ints("z1", .uint8, [4], [0, 3, 1, 0]), [("axis", .int(1))])
        t = q.op1("MaxPool", [t], attrs: [("kernel_shape", .ints([2, 2])), ("strides", .ints([2, 2]))])
        t = q.op1("Flatten", [t], attrs: [("axis", .int(1))])  // [1, 36]
        let blocks = (0..<9).map { Float(0.01 + 0.005 * Double($0 % 4)) }
        t = pair(&q, t, q.f32("s2", [1, 9], blocks), q.ints("z2", .int8, [1, 9], Array(repeating: 0, count: 9)),
                 [("axis", .int(1)), ("block_size", .int(4))])
        let g = QuantizedWeight(q.weights([3, 36]), dims: [3, 36], axis: 0)
        let (gq, gs, gz) = g.write(&q, "g")
        let gd = q.op1("DequantizeLinear", [gq, gs, gz], attrs: [("axis", .int(0))])
        t = q.op1("Gemm", [t, gd], attrs: [("transB", .int(1))])
        q.output(pair(&q, t, q.f32("s3", [], [0.1]), q.ints("z3", .uint8, [], [128])))
        return q.model(opset: 21)
    }

    /// A QOperator network over every contrib op with a rule: QLinearConv, MaxPool on uint8,
    /// grouped QLinearConv, QLinearLeakyRelu and QLinearSigmoid branches joined by
    /// QLinearConcat, QLinearGlobalAveragePool, QLinearMatMul twice joined by QLinearAdd
    /// (both operands variable, one broadcast), QLinearMul by a constant, QGemm, DQ.
    static func qoperator() -> ModelSpec {
        var q = QBuilder(seed: 37)
        let ms = "com.microsoft"
        let x = q.input("x", [1, 2, 6, 6])
        func s(_ b: inout QBuilder, _ v: Float) -> String { b.f32("s", [], [v]) }
        func z(_ b: inout QBuilder, _ v: Int) -> String { b.ints("z", .uint8, [], [v]) }
        let (s0, z0) = (s(&q, 0.02), z(&q, 128))
        var t = q.op1("QuantizeLinear", [x, s0, z0])
        let w1 = QuantizedWeight(q.weights([4, 2, 3, 3]), dims: [4, 2, 3, 3], axis: 0)
        let (w1q, w1s, w1z) = w1.write(&q, "w1")
        let (s1, z1) = (s(&q, 0.04), z(&q, 100))
        t = q.op1("QLinearConv", [t, s0, z0, w1q, w1s, w1z, s1, z1], attrs: pad1)
        t = q.op1("MaxPool", [t], attrs: [("kernel_shape", .ints([2, 2])), ("strides", .ints([1, 1]))])  // [1, 4, 5, 5]
        let w2 = QuantizedWeight(q.weights([4, 2, 3, 3]), dims: [4, 2, 3, 3], axis: 0)
        let (w2q, w2s, w2z) = w2.write(&q, "w2")
        let (s2, z2) = (s(&q, 0.05), z(&q, 110))
        t = q.op1("QLinearConv", [t, s1, z1, w2q, w2s, w2z, s2, z2], attrs: grouped)  // [1, 4, 3, 3]
        let (s3, z3) = (s(&q, 0.03), z(&q, 120))
        let lr = q.op1("QLinearLeakyRelu", [t, s2, z2, s3, z3], domain: ms, attrs: [("alpha", .float(1.3))])
        let (s4, z4) = (s(&q, 0.004), z(&q, 0))
        let sg = q.op1("QLinearSigmoid", [t, s2, z2, s4, z4], domain: ms)
        let (s5, z5) = (s(&q, 0.035), z(&q, 128))
        t = q.op1("QLinearConcat", [s5, z5, lr, s3, z3, sg, s4, z4], domain: ms, attrs: [("axis", .int(1))])  // [1, 8, 3, 3]
        let (s6, z6) = (s(&q, 0.02), z(&q, 128))
        t = q.op1("QLinearGlobalAveragePool", [t, s5, z5, s6, z6], domain: ms)  // [1, 8, 1, 1]
        t = q.op1("Reshape", [t, q.i64("shape", [1, 8])])
        let m1 = QuantizedWeight(q.weights([8, 3]), dims: [8, 3], axis: 1)
        let (m1q, m1s, m1z) = m1.write(&q, "m1")
        let (s7, z7) = (s(&q, 0.05), z(&q, 128))
        let p = q.op1("QLinearMatMul", [t, s6, z6, m1q, m1s, m1z, s7, z7])  // [1, 3]
        let m2 = QuantizedWeight(q.weights([8, 1]), dims: [8, 1], axis: 1)
        let (m2q, m2s, m2z) = m2.write(&q, "m2")
        let (s8, z8) = (s(&q, 0.06), z(&q, 128))
        let r = q.op1("QLinearMatMul", [t, s6, z6, m2q, m2s, m2z, s8, z8])  // [1, 1], broadcast in the Add
        let (s9, z9) = (s(&q, 0.07), z(&q, 128))
        t = q.op1("QLinearAdd", [p, s7, z7, r, s8, z8, s9, z9], domain: ms)
        let c = q.ints("c", .uint8, [3], [140, 100, 200])
        let (cs, cz) = (s(&q, 0.01), z(&q, 128))
        let (s10, z10) = (s(&q, 0.05), z(&q, 128))
        t = q.op1("QLinearMul", [t, s9, z9, c, cs, cz, s10, z10], domain: ms)
        let g = QuantizedWeight(q.weights([3, 2]), dims: [3, 2], axis: 1)
        let (gq, gs, gz) = g.write(&q, "g")
        let (s11, z11) = (s(&q, 0.08), z(&q, 128))
        t = q.op1("QGemm", [t, s10, z10, gq, gs, gz, "", s11, z11], domain: ms)
        q.output(q.op1("DequantizeLinear", [t, s11, z11]))
        return q.model(contrib: true)
    }

    /// Dynamic quantization end to end: the ConvInteger pattern with the run-time bias, Relu,
    /// Flatten, the MatMulInteger pattern with per-column scales, DynamicQuantizeMatMul.
    static func dynamic() -> ModelSpec {
        let (conv, _) = dynamicConv()
        guard let g = conv.graph, let last = g.outputs.first?.name else { return conv }
        var b = QBuilder(seed: 38, start: 1000)
        b.graph = g
        b.graph.outputs = []
        var t = b.op1("Flatten", [last], attrs: [("axis", .int(1))])  // [1, 144]
        let w = QuantizedWeight(b.weights([144, 5]), dims: [144, 5], axis: 1, type: .int8)
        let (wq, ws, wz) = w.write(&b, "fc")
        let d = b.op("DynamicQuantizeLinear", [t], outputs: 3)
        let acc = b.op1("MatMulInteger", [d[0], wq, d[2], wz])
        t = b.op1("Mul", [b.op1("Mul", [b.op1("Cast", [acc], attrs: [("to", .int(1))]), ws]), d[1]])  // rescale in two Muls
        let w2 = QuantizedWeight(b.weights([5, 3]), dims: [5, 3], axis: 1, type: .int8)
        let (w2q, w2s, w2z) = w2.write(&b, "fc2")
        t = b.op1("DynamicQuantizeMatMul", [t, w2q, w2s, w2z], domain: "com.microsoft")
        b.output(t)
        return b.model(contrib: true)
    }
}
