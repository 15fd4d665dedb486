import Foundation
import ONNX

/// One `--input-range` declaration: NAME=LO,HI (every element) or NAME=LO:HI,LO:HI,… (one
/// interval per channel along axis 1, e.g. the normalised range of each colour channel).
public struct DomainSpec: Sendable, Equatable {
    public var tensor: String
    /// One interval, or one per channel.
    public var intervals: [ClosedRange<Double>]

    public init(tensor: String, intervals: [ClosedRange<Double>]) {
        self.tensor = tensor
        self.intervals = intervals
    }

    /// Parses the option's text; nil with a reason on stderr-worthy mistakes.
    public static func parse(_ text: String) -> Result<DomainSpec, DomainError> {
        guard let eq = text.lastIndex(of: "="), !text[..<eq].isEmpty else {
            return .failure(.syntax(text, "expected NAME=LO,HI or NAME=LO:HI,LO:HI,…"))
        }
        let name = String(text[..<eq])
        let body = text[text.index(after: eq)...]
        func number(_ s: Substring) -> Double? {
            let t = s.trimmingCharacters(in: .whitespaces)
            return Double(t).flatMap { $0.isFinite ? $0 : nil }
        }
        var intervals: [ClosedRange<Double>] = []
        if body.contains(":") {
            for pair in body.split(separator: ",", omittingEmptySubsequences: false) {
                let p = pair.split(separator: ":", omittingEmptySubsequences: false)
                guard p.count == 2, let lo = number(p[0]), let hi = number(p[1]), lo <= hi else {
                    return .failure(.syntax(text, "per-channel ranges are LO:HI pairs with LO ≤ HI, separated by commas"))
                }
                intervals.append(lo...hi)
            }
        } else {
            let p = body.split(separator: ",", omittingEmptySubsequences: false)
            guard p.count == 2, let lo = number(p[0]), let hi = number(p[1]), lo <= hi else {
                return .failure(.syntax(text, "expected LO,HI with LO ≤ HI, e.g. 0,1"))
            }
            intervals = [lo...hi]
        }
        return .success(DomainSpec(tensor: name, intervals: intervals))
    }
}

public enum DomainError: Error, LocalizedError, Sendable, Equatable {
    case syntax(String, String)
    case unknownTensor(path: String, name: String)
    case shape(path: String, name: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case let .syntax(text, reason): return "--input-range '\(text)': \(reason)"
        case let .unknownTensor(path, name): return "\(path): --input-range '\(name)': no graph input or tensor has that name"
        case let .shape(path, name, reason): return "\(path): --input-range '\(name)': \(reason)"
        }
    }
}

extension InputDomain {
    /// The domain of a run: the declared ranges, and for every integer or bool graph input
    /// without one the range of its type (bool [0, 1]; ids of a table are bounded by the
    /// interval evaluator through the lookup anyway).
    public static func declared(_ specs: [DomainSpec], graph: ModelGraph) -> Result<InputDomain, DomainError> {
        var d = InputDomain()
        for s in specs {
            let isInput = graph.inputs.contains { $0.name == s.tensor }
            guard isInput || graph.producer[s.tensor] != nil else { return .failure(.unknownTensor(path: graph.path, name: s.tensor)) }
            guard let shape = graph.shapes[s.tensor] else {
                return .failure(.shape(path: graph.path, name: s.tensor, reason: "its shape is not known; fix it with --input-shape"))
            }
            let n = shape.reduce(1, *)
            var lo = [Float](repeating: 0, count: n), hi = [Float](repeating: 0, count: n)
            if s.intervals.count == 1 {
                let r = s.intervals[0]
                lo = Array(repeating: Float(r.lowerBound).nextDown, count: n)
                hi = Array(repeating: Float(r.upperBound).nextUp, count: n)
                // Exactly representable bounds need no widening.
                if Double(Float(r.lowerBound)) == r.lowerBound { lo = Array(repeating: Float(r.lowerBound), count: n) }
                if Double(Float(r.upperBound)) == r.upperBound { hi = Array(repeating: Float(r.upperBound), count: n) }
            } else {
                guard shape.count >= 2, shape[1] == s.intervals.count else {
                    return .failure(.shape(path: graph.path, name: s.tensor, reason: "\(s.intervals.count) per-channel ranges for a tensor of shape \(shape) (axis 1 has \(shape.count >= 2 ? shape[1] : 0))"))
                }
                let inner = shape[2...].reduce(1, *), c = shape[1]
                for i in 0..<n {
                    let r = s.intervals[(i / inner) % c]
                    lo[i] = Double(Float(r.lowerBound)) == r.lowerBound ? Float(r.lowerBound) : Float(r.lowerBound).nextDown
                    hi[i] = Double(Float(r.upperBound)) == r.upperBound ? Float(r.upperBound) : Float(r.upperBound).nextUp
                }
            }
            d.bounds[s.tensor] = TensorBounds(shape: shape, lo: lo, hi: hi)
            d.sources[s.tensor] = .declared
            let text = s.intervals.count == 1 ? "[\(NumberText.value(s.intervals[0].lowerBound)), \(NumberText.value(s.intervals[0].upperBound))]"
                : s.intervals.map { "[\(NumberText.value($0.lowerBound)), \(NumberText.value($0.upperBound))]" }.joined(separator: " ") + " per channel"
            d.descriptions.append("\(s.tensor) ∈ \(text) (declared)")
        }
        for vi in graph.inputs where d.bounds[vi.name] == nil {
            guard let t = graph.dtypes[vi.name] ?? vi.elementType, !t.isFloatingPoint, let shape = graph.shapes[vi.name] else { continue }
            let (lo, hi): (Float, Float)
            switch t {
            case .bool: (lo, hi) = (0, 1)
            case .uint8: (lo, hi) = (0, 255)
            case .int8: (lo, hi) = (-128, 127)
            case .uint16: (lo, hi) = (0, 65535)
            case .int16: (lo, hi) = (-32768, 32767)
            case .int32: (lo, hi) = (-0x1p31, 0x1p31)
            case .uint32: (lo, hi) = (0, 0x1p32)
            default: (lo, hi) = (-0x1p63, 0x1p63)
            }
            d.bounds[vi.name] = TensorBounds(shape: shape, lo: lo, hi: hi)
            d.sources[vi.name] = .dtype
            d.descriptions.append("\(vi.name) ∈ [\(NumberText.value(Double(lo))), \(NumberText.value(Double(hi)))] (the range of \(t))")
        }
        return .success(d)
    }

    /// An empirical domain: the observed minimum and maximum of each named input over the given
    /// data (`--inputs`): not a guarantee for other inputs.
    public static func empirical(_ observed: [String: (lo: Float, hi: Float, shape: [Int])], graph: ModelGraph) -> InputDomain {
        var d = InputDomain()
        for (name, o) in observed.sorted(by: { $0.key < $1.key }) {
            d.bounds[name] = TensorBounds(shape: o.shape, lo: o.lo, hi: o.hi)
            d.sources[name] = .empirical
            d.descriptions.append("\(name) ∈ [\(NumberText.value(Double(o.lo))), \(NumberText.value(Double(o.hi)))] (empirical: the min/max of --inputs)")
        }
        if case let .success(rest) = declared([], graph: graph) {
            for (k, v) in rest.bounds where d.bounds[k] == nil {
                d.bounds[k] = v
                d.sources[k] = rest.sources[k]
            }
            d.descriptions += rest.descriptions
        }
        return d
    }
}
