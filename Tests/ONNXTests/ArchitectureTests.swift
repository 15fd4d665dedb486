import KappaTestSupport
import ONNX
import Testing

/// Parameters of a conv layer (weight M × C/g × k × k plus bias M) and of a dense layer.
func convParams(_ inC: Int, _ outC: Int, _ k: Int, group: Int = 1) -> Int { outC * (inC / group) * k * k + outC }
func denseParams(_ inF: Int, _ outF: Int) -> Int { inF * outF + outF }

@Suite("Full-size architectures load with the published shapes and parameter counts", .serialized, .tags(.slow))
struct ArchitectureTests {
    @Test("AlexNet (BVLC layout, grouped conv2/4/5): [1, 1000] output, 60,965,224 parameters")
    func alexNet() throws {
        // conv1 96·3·11·11, conv2 256·48·5·5 (group 2), conv3 384·256·3·3, conv4 384·192·3·3
        // (group 2), conv5 256·192·3·3 (group 2), fc6 9216→4096, fc7 4096→4096, fc8 4096→1000.
        let expected = convParams(3, 96, 11) + convParams(96, 256, 5, group: 2) + convParams(256, 384, 3)
            + convParams(384, 384, 3, group: 2) + convParams(384, 256, 3, group: 2)
            + denseParams(256 * 6 * 6, 4096) + denseParams(4096, 4096) + denseParams(4096, 1000)
        #expect(expected == 60_965_224)
        let g = try prepared(Architectures.alexNet())
        let params = g.graph.initializers.reduce(0) { $0 + $1.count }
        #expect(params == expected)
        let out = try #require(g.graph.outputs.first?.name)
        #expect(g.shapes[out] == [1, 1000])
        // Spatial sizes as in the BVLC model: 224 → 54 → 27 → 13 → 6.
        let convs = g.order.map { g.graph.nodes[$0] }.filter { $0.opType == "Conv" }
        #expect(convs.map { g.shapes[$0.outputs[0]]?[2] } == [54, 27, 13, 13, 13])
        let pools = g.order.map { g.graph.nodes[$0] }.filter { $0.opType == "MaxPool" }
        #expect(pools.map { g.shapes[$0.outputs[0]] } == [[1, 96, 27, 27], [1, 256, 13, 13], [1, 256, 6, 6]])
        #expect(g.notes.isEmpty)
    }

    @Test("VGG-19 (configuration E): [1, 1000] output, 143,667,240 parameters")
    func vgg19() throws {
        var expected = 0
        var c = 3
        for (channels, repeats) in [(64, 2), (128, 2), (256, 4), (512, 4), (512, 4)] {
            for _ in 0..<repeats {
                expected += convParams(c, channels, 3)
                c = channels
            }
        }
        expected += denseParams(512 * 7 * 7, 4096) + denseParams(4096, 4096) + denseParams(4096, 1000)
        #expect(expected == 143_667_240)
        let g = try prepared(Architectures.vgg19())
        #expect(g.graph.initializers.reduce(0) { $0 + $1.count } == expected)
        let out = try #require(g.graph.outputs.first?.name)
        #expect(g.shapes[out] == [1, 1000])
        let flatten = try #require(g.graph.nodes.first { $0.opType == "Flatten" })
        #expect(g.shapes[flatten.outputs[0]] == [1, 25088])
        #expect(g.graph.nodes.filter { $0.opType == "Conv" }.count == 16)
    }
}
