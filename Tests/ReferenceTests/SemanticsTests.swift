import Foundation
import KappaTestSupport
import Linalg
import ONNX
import Reports
import Sensitivity
import Testing
@testable import Reference

/// The defects of the semantics/hardening issue, each reproduced (they crashed or gave a wrong
/// answer on the earlier main) and checked fixed, and the pipeline fuzzer.
struct SemanticsTests {
    static func write(_ spec: ModelSpec, _ name: String = "m.onnx") throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kappa-semantics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent(name).path
        try ONNXWriter.write(spec, to: path)
        return path
    }

    /// A Conv with a 2-D kernel on an input of symbolic H/W and the given attributes.
    static func symbolicConv(_ attrs: [(String, AttrSpec)]) -> ModelSpec {
        var b = NetworkBuilder(seed: 3)
        b.graph.inputs.append(ValueInfoSpec("x", elemType: DataType.float.rawValue, dims: [1, 2, .param("H"), .param("W")]))
        let w = b.heWeight("W", dims: [4, 2, 3, 3])
        b.graph.nodes.append(NodeSpec("Conv", name: "conv", inputs: ["x", w], outputs: ["y"], attributes: attrs))
        b.graph.outputs.append(ValueInfoSpec("y", elemType: DataType.float.rawValue, dims: nil))
        return b.model()
    }

    /// Defect 1: window attributes the analysis indexed and multiplied unchecked (SIGILL in
    /// analyze, analyze --norm operator and validate). Now refused at load with the node and
    /// the attribute named, for every command.
    @Test(arguments: [("dilations", AttrSpec.ints([1])), ("dilations", .ints([1 << 62, 1 << 62])),
                      ("strides", .ints([1, 1, 1])), ("pads", .ints([1, 1])), ("kernel_shape", .ints([3]))])
    func windowAttributesAreValidatedWithoutShapes(_ key: String, _ value: AttrSpec) throws {
        let path = try Self.write(Self.symbolicConv([(key, value)]))
        do {
            _ = try ModelGraph(model: try ModelLoader.load(path: path))
            Issue.record("\(key) was accepted")
        } catch {
            let msg = error.localizedDescription
            #expect(msg.hasPrefix(path) && msg.contains("'conv'") && (msg.contains(key) || msg.contains("kernel_shape")), "\(msg)")
            #expect(!msg.contains("\n"))
        }
    }

    /// Defect 1 (bias): a Conv bias whose dtype was changed to an integer is refused by name.
    @Test func integerBiasIsRefused() throws {
        var spec = Self.symbolicConv([])
        spec.graph?.inputs[0] = ValueInfoSpec("x", shape: [1, 2, 6, 6])
        spec.graph?.initializers.append(.int64("bias", dims: [4], values: [1, 2, 3, 4]))
        spec.graph?.nodes[0].inputs.append("bias")
        let path = try Self.write(spec)
        do {
            _ = try ModelGraph(model: try ModelLoader.load(path: path))
            Issue.record("an INT64 bias was accepted")
        } catch {
            let msg = error.localizedDescription
            #expect(msg.contains("'bias'") && msg.contains("INT64") && msg.contains("'conv'"), "\(msg)")
        }
    }

    /// Defect 2: a STRING weight on a Conv was accepted (inspect: 0 weights, analyze: L = 0 and an
    /// overflow message). Now: exit 2 naming the tensor, its dtype and the node.
    @Test func stringWeightIsRefused() throws {
        var spec = Self.symbolicConv([])
        spec.graph?.inputs[0] = ValueInfoSpec("x", shape: [1, 2, 6, 6])
        spec.graph?.initializers = [TensorSpec(name: "W_1", dataType: DataType.string.rawValue, dims: [4, 2, 3, 3], data: .none)]
        spec.graph?.nodes[0].inputs = ["x", "W_1"]
        let path = try Self.write(spec)
        do {
            _ = try ModelGraph(model: try ModelLoader.load(path: path))
            Issue.record("a STRING weight was accepted")
        } catch {
            let msg = error.localizedDescription
            #expect(msg.contains("'W_1'") && msg.contains("STRING") && msg.contains("'conv'") && msg.contains("Conv"), "\(msg)")
        }
    }

    /// Defect 3: validate measured κ on the Softmax output when an Identity followed the
    /// Softmax, while analyze bounded the logits. One definition now: both use the logits.
    @Test func softmaxThenIdentityMeasuresTheLogits() throws {
        var b = NetworkBuilder(seed: 5)
        var t = b.input("x", shape: [1, 4])
        t = b.gemm(t, outFeatures: 3)
        let logits = t
        t = b.softmax(t)
        t = b.unary("Identity", t)
        b.output(t)
        let g = try ModelGraph(model: try ModelLoader.load(path: try Self.write(b.model())))
        let analysis = try SensitivityAnalysis.run(g, options: AnalysisOptions(threads: 1))
        #expect(analysis.network.output.tensor == logits)
        let inputs = InputSet.synthetic(count: 1, range: 0...1, seed: 1, shape: [1, 4])
        let measured = try Validation.run(graph: g, inputs: inputs, options: ValidationOptions())
        #expect(measured.settings.output == logits)
    }

    /// Defect 4: the measured summary gave negative digits and 0 bits for κ < 1 while the static
    /// bound clamped to 0 digits, 1 bit. One `Precision` now, so the two gates agree.
    @Test func oneRuleForPrecision() {
        let stats = KappaStatistics([0.5, 0.25])
        #expect(stats.max == Precision(kappa: 0.5))
        #expect(stats.max?.digits == 0 && stats.max?.bits == 1)
        #expect(stats.min?.digits == 0 && stats.min?.bits == 1)
        let summary = MeasurementSummary(rows: [InputMeasurement(index: 0, source: "a", label: 0, adversarialLabel: 1, flipped: true,
                                                                 steps: 1, relPerturbation: 0.1, kappaFinal: 0.5, kappaMax: 0.5,
                                                                 kappaRandom: 0.3, gainMax: 0.4)], bound: nil)
        let measured = Gate.evaluate(summary, output: "y", maxBits: 1)
        #expect(measured.passed && measured.precision.bits == 1)
    }

    /// Defect 5: the norms set one BLAS thread and never restored it, so DeepFool ran on one.
    @Test func blasThreadsAreRestoredAfterTheNorms() throws {
        let g = try ModelGraph(model: try ModelLoader.load(path: try Self.write(SmallModels.tinyCNN())))
        let before = BLAS.threads
        BLAS.setThreads(2)
        defer { BLAS.setThreads(before) }
        _ = try SensitivityAnalysis.run(g, options: AnalysisOptions(threads: 2))
        #expect(BLAS.threads == 2)
    }

    /// Defect 6: Pad edge/reflect multiplicity was too low on short axes (an unsound constant).
    /// The counts below are numpy.pad's, written out by hand: edge on one element with pads
    /// (2, 2) copies it 5 times; reflect of [1, 2, 3] with (2, 2) is [3, 2, 1, 2, 3, 2, 1] (2
    /// three times); and L = √(max copies) because JᵀJ is the diagonal of copy counts.
    @Test(arguments: [("edge", 1, 2, 2, 5), ("reflect", 3, 2, 2, 3), ("edge", 4, 1, 3, 4), ("reflect", 4, 1, 1, 2),
                      ("wrap", 2, 3, 2, 4)])
    func padMultiplicityIsExact(_ mode: String, _ n: Int, _ begin: Int, _ end: Int, _ copies: Int) throws {
        var b = NetworkBuilder(seed: 1)
        let x = b.input("x", shape: [1, n])
        let pads = b.graphInt64("pads", [0, Int64(begin), 0, Int64(end)])
        let y = b.node("Pad", [x, pads], shape: [1, n + begin + end], attributes: [("mode", .string(mode))])
        b.output(y)
        let g = try ModelGraph(model: try ModelLoader.load(path: try Self.write(b.model())))
        let r = try SensitivityAnalysis.run(g, options: AnalysisOptions(threads: 1))
        #expect(abs(r.network.eq7.operator - Double(copies).squareRoot()) < 1e-12, "\(mode) n=\(n): \(r.network.eq7.operator)")
        // Against the engine: the Jacobian's columns, one per input element.
        let engine = try Engine(graph: g, output: y)
        var worst = 0.0
        for j in 0..<n {
            var e = [Float](repeating: 0, count: n)
            e[j] = 1
            let col = try engine.forward(Value(shape: [1, n], data: e)).result.data
            worst = max(worst, col.reduce(0) { $0 + Double($1 * $1) }.squareRoot())
        }
        #expect(abs(worst - Double(copies).squareRoot()) < 1e-6)
    }

    /// Defect 7: the engine's Conv kept a pointer handed to a closure. The operator now keeps the
    /// owner of its weights alive: the tensor outlives every other reference while the operator lives.
    @Test func convOperatorKeepsItsWeightsAlive() throws {
        weak var weakTensor: Tensor?
        var op: ConvOperator?
        do {
            let t = Tensor(name: "w", dims: [1, 1, 2, 2], floats: [1, 2, 3, 4])
            weakTensor = t
            let floats = t.stableFloats()
            let g = ConvGeometry(inChannels: 1, outChannels: 1, groups: 1, input: [3, 3], kernel: [2, 2], strides: [1, 1],
                                 dilations: [1, 1], padsBegin: [0, 0], padsEnd: [0, 0], output: [2, 2])
            op = try ConvOperator(geometry: g, weight: floats.pointer, owner: floats)
        }
        #expect(weakTensor != nil)
        let y = try #require(op).apply([1, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(y == [1, 0, 0, 0])
        op = nil
        #expect(weakTensor == nil)
    }

    /// Broadcasting (found while consolidating the rules): x + ReduceMean(x) over K elements is
    /// (I + 11ᵀ/K)x with Lipschitz constant 2 — the per-operand sum without the broadcast
    /// multiplicity gave 1 + 1/√K; and x[N,1]·c[1,K] has constant ‖c‖, not max|c|.
    @Test func broadcastOperandsCountTheirCopies() throws {
        var b = NetworkBuilder(seed: 2)
        let x = b.input("x", shape: [1, 5])
        let m = b.node("ReduceMean", [x], shape: [1, 1], attributes: [("axes", .ints([1])), ("keepdims", .int(1))])
        let y = b.node("Add", [x, m], shape: [1, 5])
        b.output(y)
        let r = try SensitivityAnalysis.run(try ModelGraph(model: try ModelLoader.load(path: try Self.write(b.model(opset: 17)))),
                                            options: AnalysisOptions(threads: 1))
        #expect(r.network.eq7.operator >= 2 - 1e-12)
        #expect(abs(r.network.eq7.operator - 2) < 1e-12)  // 1 + √5·(1/√5)

        var c = NetworkBuilder(seed: 2)
        let u = c.input("x", shape: [1, 1])
        let k = c.constant("c", dims: [1, 4], values: [1, -2, 2, 0.5])
        let v = c.node("Mul", [u, k], shape: [1, 4])
        c.output(v)
        let r2 = try SensitivityAnalysis.run(try ModelGraph(model: try ModelLoader.load(path: try Self.write(c.model()))),
                                             options: AnalysisOptions(threads: 1))
        #expect(abs(r2.network.eq7.operator - (1 + 4 + 4 + 0.25).squareRoot()) < 1e-12)
    }

    /// The pipeline fuzzer (a few hundred mutants per run; `kappa-bench fuzz SEED COUNT DIR` for
    /// long runs): every mutant of the seed models goes through load, inspect, analyze in both
    /// norm modes and a short validate, and ends in a result or a one-line error. A crash would
    /// end the test process.
    @Test(.timeLimit(.minutes(5)), .tags(.slow))
    func pipelineFuzzer() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kappa-pipeline-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("mutant.onnx").path
        var fuzzer = PipelineFuzzer(seed: 909)
        let seeds = PipelineFuzzer.seeds()
        for s in seeds {  // the seeds themselves run every stage
            try ONNXWriter.write(s, to: path)
            let o = PipelineRun.run(path: path)
            #expect(o.errors.isEmpty, "\(o.errors)")
        }
        var ran = 0, refused = 0
        var stages: Set<String> = []
        for i in 0..<400 {
            try ONNXWriter.write(fuzzer.mutate(seeds[i % seeds.count]), to: path)
            let o = PipelineRun.run(path: path)
            if o.errors.isEmpty { ran += 1 } else { refused += 1 }
            for e in o.errors {
                stages.insert(e.stage)
                #expect(!e.message.isEmpty && !e.message.contains("\n"), "\(e.stage): \(e.message)")
            }
        }
        // The mutations exercise both outcomes and every stage's refusals.
        #expect(ran > 40 && refused > 100, "ran \(ran), refused \(refused)")
        #expect(stages.isSuperset(of: ["load", "validate"]), "\(stages)")
    }
}
