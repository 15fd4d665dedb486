import Foundation
import ONNX
import Sensitivity

/// LayerNormalization, InstanceNormalization, GroupNormalization and LRN
/// (see ``NormalizationRules``).
extension NormalizationRules {
    /// y = z·γ + β with γ and β read through `index` (element → parameter offset).
    static func affine(_ x: TensorBounds, _ z: [Interval], scale: TensorBounds?, bias: TensorBounds?,
                       index: (Int) -> Int) -> TensorBounds {
        TensorBounds(shape: x.shape, count: x.count) { i in
            var y = z[i]
            if let scale { y = y * scale.interval(index(i)) }
            if let bias { y = y + bias.interval(index(i)) }
            return y
        }
    }

    static func eps(_ c: IntervalNode) -> Double { Double(c.node.float("epsilon") ?? 1e-5) }

    static let layerNorm: IntervalRule = { c throws(ReferenceError) in
        guard let x = c.bounds(0), let scale = c.bounds(1) else { return [] }
        let a = c.node.int("axis") ?? -1
        guard let axis = Shapes.axis(a, rank: x.shape.count) else { throw c.fail("axis \(a) is out of range") }
        let normalized = Array(x.shape[axis...])
        let k = normalized.reduce(1, *)
        let bias = c.has(2) ? c.bounds(2) : nil
        if c.has(2) && bias == nil { return [] }
        for p in [scale] + (bias.map { [$0] } ?? []) where Shapes.broadcast(p.shape, normalized) != normalized {
            throw c.fail("scale/bias \(p.shape) do not broadcast to the normalized shape \(normalized)")
        }
        let st = IndexTable.broadcast(scale.shape, to: normalized)
        let bt = bias.map { IndexTable.broadcast($0.shape, to: normalized) }
        let (z, mean, inv) = normalize(x, k: k, eps: eps(c))
        // Scale and bias may broadcast differently: apply them with their own tables.
        let y = TensorBounds(shape: x.shape, count: x.count) { i in
            var v = z[i] * scale.interval(Int(st[i % k]))
            if let bias, let bt { v = v + bias.interval(Int(bt[i % k])) }
            return v
        }
        var statShape = x.shape
        for j in axis..<statShape.count { statShape[j] = 1 }
        return [y, TensorBounds(shape: statShape, count: mean.count) { mean[$0] },
                TensorBounds(shape: statShape, count: inv.count) { inv[$0] }]
    }

    static let instanceNorm: IntervalRule = { c throws(ReferenceError) in
        guard let x = c.bounds(0), x.shape.count >= 3, let scale = c.bounds(1), let bias = c.bounds(2) else { return [] }
        let channels = x.shape[1], k = x.shape.dropFirst(2).reduce(1, *)
        guard scale.count == channels, bias.count == channels else { throw c.fail("scale/bias do not have \(channels) values") }
        let z = normalize(x, k: k, eps: eps(c)).z
        return [affine(x, z, scale: scale, bias: bias) { ($0 / k) % channels }]
    }

    static let groupNorm: IntervalRule = { c throws(ReferenceError) in
        guard let x = c.bounds(0), x.shape.count >= 2, let scale = c.bounds(1), let bias = c.bounds(2),
              let groups = c.node.int("num_groups"), groups >= 1, x.shape[1] % groups == 0 else { return [] }
        let channels = x.shape[1], spatial = x.shape.dropFirst(2).reduce(1, *)
        let k = channels / groups * spatial
        let z = normalize(x, k: k, eps: eps(c)).z
        // Opset 21: one γ, β per channel; opset 18: one per group.
        if scale.count == channels && bias.count == channels {
            return [affine(x, z, scale: scale, bias: bias) { ($0 / spatial) % channels }]
        }
        guard scale.count == groups, bias.count == groups else { throw c.fail("scale/bias have \(scale.count)/\(bias.count) values for \(channels) channels in \(groups) groups") }
        return [affine(x, z, scale: scale, bias: bias) { ($0 / k) % groups }]
    }

    static let lrn: IntervalRule = { c throws(ReferenceError) in
        guard let x = c.bounds(0), x.shape.count >= 3, let size = c.node.int("size"), size >= 1 else { return [] }
        let alpha = Double(c.node.float("alpha") ?? 1e-4), beta = Double(c.node.float("beta") ?? 0.75)
        let bias = Double(c.node.float("bias") ?? 1)
        guard beta > 0 else { return [] }
        let channels = x.shape[1], spatial = x.shape.dropFirst(2).reduce(1, *)
        let before = (size - 1) / 2, after = size - 1 - before
        let coefficient = Interval(point: alpha) / Interval(point: Double(size))
        return [TensorBounds(shape: x.shape, count: x.count) { i in
            let s = i % spatial, ch = (i / spatial) % channels, n = i / (spatial * channels)
            var sum = Interval(point: 0)
            for cc in max(0, ch - before)...min(channels - 1, ch + after) {
                sum = sum + x.interval((n * channels + cc) * spatial + s).square()
            }
            let d = Interval(point: bias) + coefficient * sum
            guard d.lo > 0 else { return .entire }
            let p = Interval(BinaryRules.powPoint(d.lo, beta).lo, BinaryRules.powPoint(d.hi, beta).hi)
            return x.interval(i) / p
        }]
    }
}
