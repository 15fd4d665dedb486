import ONNX

/// How `validate` reads the analysed output as class scores (DESIGN.md §1.6): DeepFool needs
/// classes to flip.
/// - [C] or [N, C]: one set of C class scores per batch item (N = 1 in practice);
/// - [N, T, C] or [T, N, C]: per-position scores along the last axis (a sequence model, CTC
///   logits); the input flips when any position's top class changes; κ on the whole tensor;
/// - [N, C, H, W]: per-pixel scores along axis 1 (segmentation), likewise;
/// refused: fewer than 2 classes per position (a probability map, a regression output), and
/// a last axis of 4 on a rank-3 tensor (box coordinates) — pick a score tensor with --output.
/// A detector's decoded output whose class axis concatenates boxes, objectness and scores is
/// refused from the graph (``DetectorOutput``), not from its shape.
public struct ScoreLayout: Sendable, Equatable {
    /// Number of positions and of classes per position.
    public var positions: Int
    public var classes: Int
    /// Distance between consecutive classes of one position in the flat tensor.
    public var classStride: Int
    /// Flat index of each position's class 0.
    public var positionOffsets: [Int]

    public init(positions: Int, classes: Int, classStride: Int, positionOffsets: [Int]) {
        self.positions = positions
        self.classes = classes
        self.classStride = classStride
        self.positionOffsets = positionOffsets
    }

    /// The layout of a score tensor of `shape`, or why it is not one.
    public static func of(shape: [Int], name: String) -> Result<ScoreLayout, ScoreLayoutError> {
        let count = shape.reduce(1, *)
        switch shape.count {
        case 0:
            return .failure(ScoreLayoutError(name: name, reason: "is a scalar, not class scores"))
        case 1, 2:
            let c = shape.last ?? 1
            guard c >= 2 else { return .failure(ScoreLayoutError(name: name, reason: "has \(c) value per item, not class scores (a regression or probability output)")) }
            let p = count / c
            return .success(ScoreLayout(positions: p, classes: c, classStride: 1, positionOffsets: (0..<p).map { $0 * c }))
        case 3:
            let c = shape[2]
            guard c >= 2 else { return .failure(ScoreLayoutError(name: name, reason: "has 1 value per position, not class scores")) }
            guard c != 4 else {
                return .failure(ScoreLayoutError(name: name, reason: "has 4 values per position: box coordinates, not class scores"))
            }
            let p = count / c
            return .success(ScoreLayout(positions: p, classes: c, classStride: 1, positionOffsets: (0..<p).map { $0 * c }))
        default:
            let c = shape[1], inner = shape[2...].reduce(1, *), n = shape[0]
            guard c >= 2 else {
                return .failure(ScoreLayoutError(name: name, reason: "has \(c) channel: a probability or regression map, not class scores"))
            }
            var offsets: [Int] = []
            for b in 0..<n { for s in 0..<inner { offsets.append(b * c * inner + s) } }
            return .success(ScoreLayout(positions: n * inner, classes: c, classStride: inner, positionOffsets: offsets))
        }
    }

    @inline(__always) public func index(position p: Int, class k: Int) -> Int { positionOffsets[p] + k * classStride }

    public func scores(_ y: [Float], position p: Int) -> [Float] { (0..<classes).map { y[index(position: p, class: $0)] } }

    /// The top class of every position.
    public func argmaxes(_ y: [Float]) -> [Int] {
        (0..<positions).map { p in
            var best = 0
            for k in 1..<classes where y[index(position: p, class: k)] > y[index(position: p, class: best)] { best = k }
            return best
        }
    }

    /// The top-two gap of every position.
    public func margins(_ y: [Float]) -> [Float] {
        (0..<positions).map { p in
            var a = -Float.infinity, b = -Float.infinity
            for k in 0..<classes {
                let v = y[index(position: p, class: k)]
                if v > a { b = a; a = v } else if v > b { b = v }
            }
            return a - b
        }
    }

    /// The position with the smallest positive gap between its two top scores (the easiest to
    /// flip; a position whose top scores tie has no defined class), else position 0.
    public func attackPosition(_ y: [Float]) -> Int { positionsByMargin(y).first ?? 0 }

    /// Positions by increasing positive top-two gap, then those whose top scores tie.
    public func positionsByMargin(_ y: [Float]) -> [Int] {
        let m = margins(y)
        let positive = m.indices.filter { m[$0] > 0 }.sorted { m[$0] < m[$1] || (m[$0] == m[$1] && $0 < $1) }
        return positive + m.indices.filter { !(m[$0] > 0) }
    }
}

public struct ScoreLayoutError: Error, Sendable, Equatable {
    public var name: String
    public var reason: String
    public var message: String { "output '\(name)' \(reason); DeepFool needs class scores: pick a score tensor with --output" }
}

/// Detector outputs that look like scores by shape: YOLO-style heads end with a Concat of box
/// coordinates (2 or 4 wide), objectness (1) and class scores along one axis — [1, N, 5 + C]
/// (YOLOv5, YOLOX) or [1, 4 + C, N] (YOLOv8) — possibly after Reshape/Transpose/Sigmoid and a
/// Concat of the feature levels along another axis. ``evidence(_:tensor:)`` finds that Concat.
public enum DetectorOutput {
    static let passThrough: Set<String> = ["Identity", "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Cast", "Sigmoid"]

    /// Why `tensor` is a detector's decoded output rather than class scores, or nil.
    public static func evidence(_ graph: ModelGraph, tensor: String) -> String? {
        var stack = [(tensor, 0)]
        var seen = Set<String>()
        while let (t, depth) = stack.popLast() {
            guard depth < 8, seen.insert(t).inserted, let p = graph.producer[t] else { continue }
            let n = graph.graph.nodes[p]
            if passThrough.contains(n.opType), let x = n.input(0) { stack.append((x, depth + 1)); continue }
            guard n.opType == "Concat", let axisValue = n.int("axis") else { continue }
            let parts = n.inputs.filter { !$0.isEmpty }
            let extents: [Int?] = parts.map { part in
                guard let s = graph.shapes[part], let a = Shapes.axis(axisValue, rank: s.count) else { return nil }
                return s[a]
            }
            let known = extents.compactMap { $0 }
            if known.count == parts.count, parts.count >= 2, known.contains(where: { $0 == 2 || $0 == 4 }), Set(known).count > 1 || known.count >= 3 {
                let widest = zip(parts, known).max { $0.1 < $1.1 }
                let hint = widest.flatMap { $0.1 > 4 ? " (the class scores are likely '\($0.0)')" : nil } ?? ""
                return "is made by Concat '\(n.name)' of parts \(known.map(String.init).joined(separator: " + ")) wide: a detector's box coordinates, objectness and class scores, not one set of class scores\(hint)"
            }
            for part in parts { stack.append((part, depth + 1)) }
        }
        return nil
    }
}
