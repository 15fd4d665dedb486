import Foundation
import ONNX
import Testing
@testable import Reference

/// The reference engine against onnxruntime on the committed op cases
/// (`Tests/ReferenceTests/OpCases`, made once by `scripts/make_op_cases.py` with
/// onnxruntime 1.32.0, CPU, optimizations off; each folder holds `model.onnx` and
/// `test_data_set_0/{input,output}_*.pb`, and `cases.json` the tolerances).
///
/// Each case is loaded with Kappa's own loader (the input shapes of the test data fixed
/// with `inputShapes`), every graph input is fed from its `.pb`, and each graph output is
/// computed by an `Engine` built for it — perturbing the first float graph input, or the
/// first graph input when none is float. An output the loader already folded to a constant
/// (a static `Shape`, `ConstantOfShape` of it, Constant arithmetic) is compared as folded.
/// An element passes when |ours − onnxruntime| ≤ abs + rel·|onnxruntime| (the case's
/// per-output tolerance); NaN must meet NaN, ±∞ the same infinity, bool and integer outputs
/// pass within `abs` (0 or one quantization step, as cases.json records); the element type
/// must be the one onnxruntime produced.
///
/// Every case must pass except those in `expectedUnsupported`, each with its reason; a
/// listed case that starts passing fails the test too, so the table stays exact.
struct OpCaseTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("OpCases").path

    /// Cases the engine is not expected to run, with the reason.
    static let expectedUnsupported: [String: String] = [
        // Loops Kappa does not unroll (the analysis reports them unsupported with the reason).
        "loop_cond_early_exit": "Loop whose body computes its condition (an early exit) is not unrolled",
        "loop_cond_only_no_trip_count": "Loop without a constant trip count is not unrolled",
    ]

    struct Tolerance: Decodable, Sendable {
        var abs: Float
        var rel: Float
    }

    struct TensorSpec: Decodable, Sendable {
        var name: String
        var dtype: String
        var shape: [Int]
        var tolerance: Tolerance?
    }

    struct Spec: Decodable, Sendable {
        var `case`: String
        var inputs: [TensorSpec]
        var outputs: [TensorSpec]
        var tolerance: Tolerance
    }

    struct Catalog: Decodable {
        var cases: [Spec]
    }

    static let specs: [String: Spec] = {
        guard let data = FileManager.default.contents(atPath: folder + "/cases.json"),
              let catalog = try? JSONDecoder().decode(Catalog.self, from: data) else { return [:] }
        return Dictionary(catalog.cases.map { ($0.case, $0) }, uniquingKeysWith: { a, _ in a })
    }()

    static let names: [String] = specs.keys.sorted()

    @Test func catalogIsComplete() {
        #expect(Self.specs.count == 375)
        for name in Self.expectedUnsupported.keys.sorted() {
            #expect(Self.specs[name] != nil, "expectedUnsupported lists '\(name)', which is not a case")
        }
    }

    @Test(arguments: names)
    func matchesOnnxruntime(_ name: String) throws {
        guard let spec = Self.specs[name] else { Issue.record("no case '\(name)'"); return }
        let problems = Self.run(spec)
        if let reason = Self.expectedUnsupported[name] {
            #expect(!problems.isEmpty, "\(name) is listed as unsupported (\(reason)) but passes: remove it from the list")
        } else {
            for p in problems { Issue.record("\(name): \(p)") }
        }
    }

    /// Runs one case; returns what went wrong (empty when it passes).
    static func run(_ spec: Spec) -> [String] {
        let dir = folder + "/" + spec.case
        var feeds: [String: Value] = [:]
        var shapes: [String: [Int]] = [:]
        do {
            for (i, s) in spec.inputs.enumerated() {
                let t = try TensorLoader.load(path: dir + "/test_data_set_0/input_\(i).pb")
                feeds[s.name] = Value(shape: t.dims, data: t.floats(), dtype: t.dataType)
                shapes[s.name] = t.dims
            }
        } catch { return ["test data: \(error.localizedDescription)"] }
        let graph: ModelGraph
        do {
            graph = try ModelGraph(model: ModelLoader.load(path: dir + "/model.onnx"), inputShapes: shapes)
        } catch { return ["loader: \(error.localizedDescription)"] }
        let perturbed = graph.inputs.first { $0.elementType?.isFloatingPoint == true }?.name ?? graph.inputs.first?.name
        var problems: [String] = []
        for (i, out) in spec.outputs.enumerated() {
            let want: Tensor
            do { want = try TensorLoader.load(path: dir + "/test_data_set_0/output_\(i).pb") } catch {
                problems.append("output \(out.name): \(error.localizedDescription)"); continue
            }
            let got: Value
            if let t = graph.constants[out.name] {
                got = Value(shape: t.dims, data: t.floats(), dtype: t.dataType)
            } else {
                do {
                    let engine = try Engine(graph: graph, output: out.name, input: perturbed)
                    got = try engine.forward(feeds).result
                } catch {
                    problems.append("output \(out.name): \(error.localizedDescription)"); continue
                }
                if got.dtype != want.dataType {
                    problems.append("output \(out.name): element type \(got.dtype), onnxruntime \(want.dataType)")
                }
            }
            problems += compare(got, want, tolerance: out.tolerance ?? spec.tolerance, name: out.name)
        }
        return problems
    }

    static func compare(_ got: Value, _ want: Tensor, tolerance: Tolerance, name: String) -> [String] {
        guard got.shape == want.dims else { return ["output \(name): shape \(got.shape), onnxruntime \(want.dims)"] }
        let w = want.floats()
        guard got.data.count == w.count else { return ["output \(name): \(got.data.count) values for \(w.count)"] }
        var bad: [String] = []
        var count = 0
        for (i, (a, b)) in zip(got.data, w).enumerated() {
            let ok: Bool
            if b.isNaN { ok = a.isNaN } else if b.isInfinite { ok = a == b } else if !want.dataType.isFloatingPoint {
                ok = abs(a - b) <= tolerance.abs
            } else {
                ok = abs(a - b) <= tolerance.abs + tolerance.rel * abs(b)
            }
            if !ok {
                count += 1
                if bad.count < 4 { bad.append("[\(i)] \(a) vs \(b)") }
            }
        }
        return count == 0 ? [] : ["output \(name): \(count) of \(w.count) elements differ: \(bad.joined(separator: ", "))"]
    }
}
