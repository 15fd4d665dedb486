import ONNX
import Sensitivity

/// An interval rule: bounds of a node's outputs (nil = no information, the evaluator marks it
/// unbounded or the range of its type) from bounds of its inputs.
typealias IntervalRule = @Sendable (IntervalNode) throws(ReferenceError) -> [TensorBounds?]

/// What an interval rule sees for one node: the bounds of its computed inputs, its constant
/// inputs as tensors (a rule reads weights without copying them into bounds), their types,
/// and the output shapes and types shape inference found.
struct IntervalNode {
    let node: Node
    let opset: Int
    /// Bounds of the computed inputs (and graph inputs); nil for constants, omitted inputs and
    /// tensors of unknown shape.
    let evaluated: [TensorBounds?]
    let constants: [Tensor?]
    let dtypes: [DataType?]
    let outShapes: [[Int]?]
    let outTypes: [DataType?]

    var name: String { node.name }
    var op: String { node.opType }

    func fail(_ reason: String) -> ReferenceError { .badNode(node: node.name, op: node.opType, reason: reason) }

    /// Whether input i is given (not omitted).
    func has(_ i: Int) -> Bool { node.input(i) != nil }

    func constant(_ i: Int) -> Tensor? { i < constants.count ? constants[i] : nil }

    func dtype(_ i: Int) -> DataType { i < dtypes.count ? (dtypes[i] ?? .float) : .float }

    /// Bounds of input i (a constant as its point), nil when omitted or unknown.
    func bounds(_ i: Int) -> TensorBounds? {
        if i < evaluated.count, let b = evaluated[i] { return b }
        return constant(i).map(IntervalNode.point)
    }

    /// The shape of input i when known.
    func shape(_ i: Int) -> [Int]? {
        if i < evaluated.count, let b = evaluated[i] { return b.shape }
        return constant(i)?.dims
    }

    /// The values of input i when they are exactly known: a constant, or bounds that are a
    /// point (lo = hi everywhere).
    func point(_ i: Int) -> [Float]? {
        if let t = constant(i) { return t.floats() }
        guard i < evaluated.count, let b = evaluated[i], b.lo == b.hi else { return nil }
        return b.lo
    }

    /// Integer values of input i when exactly known (axes, shapes, counts, indices).
    func pointInts(_ i: Int) -> [Int]? {
        if let t = constant(i) { return t.int64s().map { Int(clamping: $0) } }
        return point(i)?.map { Int(saturatingInt64($0)) }
    }

    /// A constant tensor as point bounds (integers beyond 2²⁴ rounded outward to floats).
    static func point(_ t: Tensor) -> TensorBounds {
        if t.dataType == .int64 {
            let v = t.int64s()
            var lo = [Float](repeating: 0, count: v.count), hi = lo
            for i in v.indices { (lo[i], hi[i]) = Outward.floatBounds(v[i]) }
            return TensorBounds(shape: t.dims, lo: lo, hi: hi)
        }
        if t.dataType == .double || t.dataType == .uint64 {
            let d = t.doubles()
            return TensorBounds(shape: t.dims, lo: d.map(Outward.floatDown), hi: d.map(Outward.floatUp))
        }
        guard t.dataType.isNumeric else { return .unbounded(shape: t.dims) }
        let f = t.floats()
        return TensorBounds(shape: t.dims, lo: f, hi: f)
    }

    /// Input i's element j as an interval (inputs must be present).
    @inline(__always) static func interval(_ b: TensorBounds, _ j: Int) -> Interval { Interval(Double(b.lo[j]), Double(b.hi[j])) }
}

extension TensorBounds {
    /// Whether every element is known exactly.
    var isPoint: Bool { lo == hi }

    /// Bounds from one Double interval per element, rounded outward to float32.
    init(shape: [Int], count: Int, _ f: (Int) -> Interval) {
        var lo = [Float](repeating: 0, count: count), hi = lo
        for i in 0..<count { (lo[i], hi[i]) = f(i).floats }
        self.init(shape: shape, lo: lo, hi: hi)
    }

    /// Element i as an interval.
    @inline(__always) func interval(_ i: Int) -> Interval { Interval(Double(lo[i]), Double(hi[i])) }

    /// Replaces NaN bounds by the infinite ones (no information).
    mutating func sanitize() {
        for i in 0..<count {
            if lo[i].isNaN { lo[i] = -.infinity }
            if hi[i].isNaN { hi[i] = .infinity }
        }
    }

    /// Widens every element by `margin` (a Double upper bound of an error), outward.
    mutating func widen(by margin: Double) {
        guard margin > 0 else { return }
        for i in 0..<count {
            lo[i] = Outward.floatDown(Double(lo[i]) - margin - abs(Double(lo[i])) * 0x1p-52)
            hi[i] = Outward.floatUp(Double(hi[i]) + margin + abs(Double(hi[i])) * 0x1p-52)
        }
    }

    /// The centre and radius in float32 with [lo, hi] ⊂ [c − r, c + r] exactly: c = fl((lo + hi)/2),
    /// r = max(hi − c, c − lo) rounded up (computed in Double, directed). Elements with an
    /// infinite bound get c = r = 0 and are flagged in `infinite`.
    func centreRadius() -> (c: [Float], r: [Float], infinite: [Bool]?) {
        var c = [Float](repeating: 0, count: count), r = c
        var inf: [Bool]? = nil
        for i in 0..<count {
            let l = Double(lo[i]), h = Double(hi[i])
            guard l.isFinite, h.isFinite else {
                if inf == nil { inf = [Bool](repeating: false, count: count) }
                inf?[i] = true
                continue
            }
            let m = Float(l * 0.5 + h * 0.5)       // any float: r below makes it exact
            let dm = Double(m)
            let rr = Swift.max(Outward.addUp(h, -dm), Outward.addUp(dm, -l))
            let r32 = Outward.floatUp(rr)
            if r32.isFinite { c[i] = m; r[i] = r32 } else {
                if inf == nil { inf = [Bool](repeating: false, count: count) }
                inf?[i] = true
            }
        }
        return (c, r, inf)
    }
}
