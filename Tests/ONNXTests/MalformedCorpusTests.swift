import Foundation
import KappaTestSupport
import ONNX
import Testing

/// The committed corpus folder in the source tree (for the staleness check and re-recording).
let corpusSourceFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Malformed").path

/// The corpus as copied into the test bundle (what the loading tests read).
func corpusBundleFolder() throws -> String {
    try #require(Bundle.module.url(forResource: "Malformed", withExtension: nil)).path
}

@Suite("Malformed corpus (DESIGN.md §4)")
struct MalformedCorpusTests {
    static let record = ProcessInfo.processInfo.environment["KAPPA_RECORD"] == "1"

    @Test("committed files equal what the generator writes (KAPPA_RECORD=1 rewrites them)")
    func upToDate() throws {
        let files = MalformedCorpus.cases.map { ($0.file, $0.bytes) } + MalformedCorpus.dataFiles.map { ($0.file, $0.bytes) }
        for (file, bytes) in files {
            let path = (corpusSourceFolder as NSString).appendingPathComponent(file)
            if Self.record {
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                continue
            }
            let committed = FileManager.default.contents(atPath: path).map { [UInt8]($0) }
            let same = committed == bytes  // (a Bool, so a failure does not dump both byte arrays)
            #expect(same, "\(file) is stale or missing; re-record with KAPPA_RECORD=1 swift test --filter ONNXTests")
        }
        // No stray files: everything in the folder is generated here.
        let present = Set(try FileManager.default.contentsOfDirectory(atPath: corpusSourceFolder))
        #expect(present == Set(files.map(\.0)))
    }

    @Test("the corpus stays small and covers distinct files")
    func small() {
        let cases = MalformedCorpus.cases
        #expect(Set(cases.map(\.file)).count == cases.count)
        for c in cases { #expect(c.bytes.count <= 400, "\(c.file) is \(c.bytes.count) bytes") }
        #expect(cases.count >= 25)
    }

    @Test("each malformed file fails with its ONNXError naming the file and the culprit", arguments: MalformedCorpus.cases)
    func refused(_ c: MalformedCase) throws {
        let path = try (corpusBundleFolder() as NSString).appendingPathComponent(c.file)
        expectError(loadError(path), c.error, path: path, naming: c.fragments)
    }

    @Test("nesting exactly at ModelLoader.maxNesting loads; one graph more is refused")
    func nestingLimit() throws {
        let folder = TempFolder()
        let ok = try folder.write(bytes: MalformedCorpus.nestedModel(graphs: 33), as: "ok.onnx")
        let m = try ModelLoader.load(path: ok)
        var depth = 1
        var g = m.graph
        while case let .graph(inner)? = g.nodes.first?.attributes.values.first {
            depth += 1
            g = inner
        }
        #expect(depth == 33)
        let deep = try folder.write(bytes: MalformedCorpus.nestedModel(graphs: 34), as: "deep.onnx")
        expectError(loadError(deep), "nestingTooDeep", path: deep)
        // Far deeper files are refused just as fast (the scan is iterative, protobuf-c never sees them).
        let deeper = try folder.write(bytes: MalformedCorpus.nestedModel(graphs: 5000), as: "deeper.onnx")
        expectError(loadError(deeper), "nestingTooDeep", path: deeper)
    }

    @Test("the valid seed model of the corpus loads")
    func tinyLoads() throws {
        let g = try prepared(MalformedCorpus.tiny())
        #expect(g.shapes["y"] == [4])
    }
}
