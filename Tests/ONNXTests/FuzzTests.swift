import Foundation
import KappaTestSupport
import ONNX
import Testing

@Suite("Fuzz: mutated models never crash or hang", .tags(.slow))
struct FuzzTests {
    /// A small valid model touching most loader paths: convs, pool, Gemm, a Constant and a
    /// Reshape (folding), an If node whose branches are subgraphs with their own weights.
    static func seedModel() -> ModelSpec {
        var b = NetworkBuilder(seed: 11)
        var t = b.input("x", shape: [1, 3, 8, 8])
        t = b.relu(b.conv(t, outChannels: 4, kernel: [3, 3], pads: [1, 1, 1, 1]))
        t = b.conv(t, outChannels: 4, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], group: 2)
        t = b.maxPool(t, kernel: [2, 2], strides: [2, 2])
        let shape = b.fresh("shape")
        b.graph.nodes.append(NodeSpec("Constant", name: "shape_const", inputs: [], outputs: [shape],
                                      attributes: [("value", .tensor(.int64("s", dims: [2], values: [1, -1])))]))
        t = b.node("Reshape", [t, shape], shape: [1, 16])
        t = b.gemm(t, outFeatures: 5)
        let branch = GraphSpec(name: "then", nodes: [NodeSpec("Mul", name: "scale", inputs: [t, "k"], outputs: ["then_out"])],
                               initializers: [.float("k", dims: [1], values: [2])], outputs: [ValueInfoSpec("then_out", shape: [1, 5])])
        b.graph.initializers.append(TensorSpec(name: "cond", dataType: DataType.bool.rawValue, dims: [], data: .raw([1])))
        b.graph.nodes.append(NodeSpec("If", name: "branchy", inputs: ["cond"], outputs: ["y"],
                                      attributes: [("then_branch", .graph(branch)), ("else_branch", .graph(branch))]))
        b.shapes["y"] = [1, 5]
        b.output("y")
        return b.model()
    }

    /// Extreme varint values that exercise length, count and dimension checks.
    static let extremes: [UInt64] = [0, 1, 0x7F, 0x80, 0xFFFF, 1 << 31, 1 << 32, 1 << 40, 1 << 62, .max, .max - 1]

    static func mutate(_ seed: [UInt8], _ rng: inout SeededRandom) -> [UInt8] {
        var bytes = seed
        let rounds = 1 + Int(rng.next() % 3)
        for _ in 0..<rounds {
            guard !bytes.isEmpty else { break }
            let pos = Int(rng.next() % UInt64(bytes.count))
            switch rng.next() % 6 {
            case 0:  // truncate
                bytes.removeSubrange(pos...)
            case 1:  // random bytes
                for _ in 0..<(1 + rng.next() % 4) { bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            case 2:  // replace a byte run with an extreme varint
                let v = rng.next() % 2 == 0 ? extremes[Int(rng.next() % UInt64(extremes.count))] : rng.next() >> (rng.next() % 64)
                let end = min(bytes.count, pos + 1 + Int(rng.next() % 3))
                bytes.replaceSubrange(pos..<end, with: Wire.varint(v))
            case 3:  // insert junk
                bytes.insert(contentsOf: (0..<(1 + rng.next() % 8)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: pos)
            case 4:  // delete a chunk
                bytes.removeSubrange(pos..<min(bytes.count, pos + 1 + Int(rng.next() % 16)))
            default:  // flip one bit
                bytes[pos] ^= UInt8(1) << (rng.next() % 8)
            }
        }
        return bytes
    }

    @Test("3,000 seeded truncations and mutations: only ONNXErrors naming the file, each well under 2 s")
    func mutations() throws {
        let seed = ONNXWriter.serialize(Self.seedModel())
        let folder = TempFolder("kappa-fuzz")
        let path = folder.file("fuzz.onnx")

        // The seed itself must load, so mutations start from a valid file.
        try Data(seed).write(to: URL(fileURLWithPath: path))
        let base = try ModelGraph(model: ModelLoader.load(path: path))
        #expect(base.shapes["y"] == nil || base.shapes["y"] == [1, 5])
        #expect(base.constants.count > 5)

        var rng = SeededRandom(seed: 2024)
        let clock = ContinuousClock()
        var slowest: Duration = .zero
        var loaded = 0, refused = 0
        var kinds: [String: Int] = [:]
        var badMessages: [String] = []
        for _ in 0..<3000 {
            let bytes = Self.mutate(seed, &rng)
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let start = clock.now
            do {
                let m = try ModelLoader.load(path: path)
                _ = try ModelGraph(model: m)
                loaded += 1
            } catch {
                refused += 1
                kinds[error.kind, default: 0] += 1
                let msg = error.message
                if msg.isEmpty || !msg.contains(path) || msg.contains("\n") { badMessages.append(msg) }
            }
            slowest = max(slowest, clock.now - start)
        }
        #expect(badMessages.isEmpty, "messages without the path: \(badMessages.prefix(3))")
        #expect(slowest < .seconds(2), "slowest iteration took \(slowest)")
        // The mutations really exercise both outcomes and several error kinds.
        #expect(loaded > 50)
        #expect(refused > 1000)
        #expect(kinds.count >= 4, "\(kinds)")
    }
}

@Test("names with newlines or terminal escapes cannot break the one-line message")
func controlCharactersInNames() throws {
    let evil = "w\n\u{1B}[31mred\u{7}" + String(repeating: "x", count: 500)
    let (error, path) = try loadError(model(initializers: [
        TensorSpec(name: evil, dataType: DataType.float.rawValue, dims: [2], data: .raw([1, 2, 3])),
    ]))
    expectError(error, "dataSizeMismatch", path: path, naming: ["\\u{a}", "\\u{1b}", "..."])
    let msg = error?.message ?? ""
    #expect(!msg.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
    #expect(msg.count < 400)
}
