import Foundation
import ONNX
import Sensitivity
import Testing
@testable import Reference

/// The 375 onnxruntime-made cases (`OpCases/`, scripts/make_op_cases.py): with the stored
/// input as a point domain, and with a box around it, every stored output must lie inside the
/// bounds, within the case's own tolerance for onnxruntime's float32 rounding (cases.json:
/// |got − want| ≤ abs + rel·|want|). Integer inputs are given as points.
extension IntervalTests {
    struct Stored {
        var graph: ModelGraph
        var inputs: [String: Tensor]
        var outputs: [(String, Tensor, Double, Double)]
    }

    static func storedCases() throws -> [String: Stored] {
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: opCases.appendingPathComponent("cases.json"))) as? [String: Any]
        let list = index?["cases"] as? [[String: Any]] ?? []
        var out: [String: Stored] = [:]
        for c in list {
            guard let name = c["case"] as? String else { continue }
            let dir = opCases.appendingPathComponent(name)
            guard let model = try? ModelLoader.load(path: dir.appendingPathComponent("model.onnx").path),
                  let g = try? ModelGraph(model: model) else { continue }
            let data = dir.appendingPathComponent("test_data_set_0")
            var inputs: [String: Tensor] = [:]
            for (k, vi) in g.inputs.enumerated() {
                if let t = try? TensorLoader.load(path: data.appendingPathComponent("input_\(k).pb").path) { inputs[vi.name] = t }
            }
            let tolerances = (c["outputs"] as? [[String: Any]] ?? []).map { $0["tolerance"] as? [String: Double] ?? [:] }
            var outputs: [(String, Tensor, Double, Double)] = []
            for (k, o) in g.graph.outputs.enumerated() {
                guard let t = try? TensorLoader.load(path: data.appendingPathComponent("output_\(k).pb").path) else { continue }
                let tol = k < tolerances.count ? tolerances[k] : [:]
                outputs.append((o.name, t, tol["abs"] ?? 1e-5, tol["rel"] ?? 1e-5))
            }
            out[name] = Stored(graph: g, inputs: inputs, outputs: outputs)
        }
        return out
    }

    @Test("onnxruntime's outputs lie inside the bounds of a point and of a box around the stored input")
    func opCaseSweep() throws {
        let cases = try Self.storedCases()
        #expect(cases.count > 300)
        var finite = 0, checked = 0, failures: [String] = [], unbounded: [String] = []
        for (name, c) in cases.sorted(by: { $0.key < $1.key }) {
            for widen in [0.0, 0.05] {
                var domain: [String: TensorBounds] = [:]
                for (k, t) in c.inputs where t.dataType.isNumeric {
                    var b = IntervalNode.point(t)
                    for i in 0..<b.count where b.lo[i].isNaN { b.lo[i] = -.infinity; b.hi[i] = .infinity }
                    if t.dataType.isFloatingPoint && widen > 0 {
                        for i in 0..<b.count where b.lo[i].isFinite {
                            let d = Float(widen) * (abs(b.lo[i]) + 0.1)
                            b.lo[i] -= d; b.hi[i] += d
                        }
                    }
                    domain[k] = b
                }
                let bounds: [String: TensorBounds]
                do { bounds = try IntervalEvaluator.bounds(graph: c.graph, domain: domain) } catch {
                    failures.append("\(name): \(error)")
                    continue
                }
                for (o, want, abs0, rel) in c.outputs {
                    guard let b = bounds[o], b.count == want.count else { continue }
                    if widen > 0 && b.isFinite { finite += 1 } else if widen > 0 { unbounded.append("\(name):\(o)") }
                    for i in 0..<want.count {
                        let v = want.double(at: i)
                        guard !v.isNaN else { continue }
                        checked += 1
                        let tol = v.isFinite ? abs0 + rel * abs(v) : 0
                        if !(v >= Double(b.lo[i]) - tol && v <= Double(b.hi[i]) + tol), failures.count < 40 {
                            failures.append("\(name) (±\(widen)): \(o)[\(i)] = \(v) ∉ [\(b.lo[i]), \(b.hi[i])]")
                        }
                    }
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failures: \(failures)")
        #expect(checked > 10_000)
        #expect(finite > 150, "only \(finite) outputs have finite bounds")
        print("OpCases: \(cases.count) cases, \(checked) stored values checked, \(finite) outputs with finite bounds from a box; unbounded: \(unbounded.joined(separator: " "))")
    }
}
