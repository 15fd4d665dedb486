import Foundation
import KappaTestSupport
import Testing

@testable import ONNX

/// Zero-copy loading: large raw_data is left in the mapped file (see `Skeleton`).
@Suite struct SkeletonTests {
    func tempPath(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kappa-skeleton-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir.appendingPathComponent(name).path
    }

    /// Tensors of every alignment (the name length shifts where raw_data starts), small and
    /// large, round-trip exactly; large aligned ones are borrowed from the mapping.
    @Test(arguments: ["w", "wx", "wxy", "wxyz"])
    func largeRawDataRoundTrips(name: String) throws {
        var rng = SeededRandom(seed: 7)
        let big = rng.gaussians(64 * 50)  // 12,800 bytes: above the 4,096-byte threshold
        let small = rng.gaussians(10)
        let doubles = (0..<700).map { Double($0) * 0.5 - 3 }
        var g = GraphSpec(nodes: [NodeSpec("Identity", name: "id", inputs: ["x"], outputs: ["y"])],
                          inputs: [ValueInfoSpec("x", shape: [1])], outputs: [ValueInfoSpec("y", shape: [1])])
        g.initializers = [
            .float(name, dims: [64, 50], values: big),
            .float("small", dims: [10], values: small),
            TensorSpec(name: "d", dataType: DataType.double.rawValue, dims: [700],
                       data: .raw(doubles.withUnsafeBytes { Array($0) })),
        ]
        let path = tempPath("m.onnx")
        try ONNXWriter.write(ModelSpec(graph: g), to: path)
        let model = try ModelLoader.load(path: path)
        let byName = Dictionary(uniqueKeysWithValues: model.graph.initializers.map { ($0.name, $0) })
        #expect(byName[name]?.floats() == big)
        #expect(byName["small"]?.floats() == small)
        #expect(byName["d"]?.doubles() == doubles)
        // The zero-copy view is aligned for its element type whatever the file offset was.
        let t = try #require(byName[name])
        let aligned = t.withFloats { p in Int(bitPattern: p.baseAddress) % MemoryLayout<Float>.alignment == 0 }
        #expect(aligned)
    }

    /// A file may not use the loader's private field numbers (9001/9002 in TensorProto).
    @Test(arguments: [UInt64(9001), 9002])
    func reservedFieldNumbersAreRefused(field: UInt64) throws {
        func varint(_ v: UInt64) -> [UInt8] {
            var v = v, out: [UInt8] = []
            while v >= 0x80 { out.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
            return out + [UInt8(v)]
        }
        func lengthDelimited(_ field: UInt64, _ body: [UInt8]) -> [UInt8] {
            varint(field << 3 | 2) + varint(UInt64(body.count)) + body
        }
        // TensorProto { dims: 1, data_type: FLOAT, <field> fixed64 = 0 }
        let tensor = varint(1 << 3) + [1] + varint(2 << 3) + [1] + varint(field << 3 | 1) + [UInt8](repeating: 0, count: 8)
        let graph = lengthDelimited(5, tensor)
        let model = varint(1 << 3) + [8] + lengthDelimited(7, graph)
        let path = tempPath("reserved.onnx")
        try Data(model).write(to: URL(fileURLWithPath: path))
        #expect {
            _ = try ModelLoader.load(path: path)
        } throws: { error in
            guard case let .notProtobuf(p, reason) = error as? ONNXError else { return false }
            return p == path && reason.contains("reserved") && reason.contains("\(field)")
        }
    }
}
