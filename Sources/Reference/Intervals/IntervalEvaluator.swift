import ONNX
import Sensitivity

/// Sound elementwise bounds of every tensor of a model over an input domain (DESIGN.md §1.8):
/// an outward-rounded interval forward pass over the flat graph of ``ModelGraph``.
///
/// **What is bounded.** For every input in the domain, the value each tensor takes in exact
/// real arithmetic (the function the model file defines) lies in [lo, hi] elementwise. Every
/// float computation that produces a bound is rounded outward: in Double with directed
/// rounding (``Outward``, ``Interval``), or in float32 kernels widened by a proven margin
/// (γ_K for sums, ``CentreRadius``). The float32 engine's own values differ from the exact ones
/// by its rounding; NaN (an undefined value, 0·∞) is not bounded. ±∞ marks "no finite bound".
///
/// **Ops and how** (one file per family; each rule's doc comment states its argument):
/// - *Monotone, through the engine's kernel on lo and on hi* (``KernelRules``): Identity,
///   Dropout, Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Slice, Gather/GatherElements/
///   GatherND (exact indices), Expand, Tile, Split, Concat, Pad, Resize/Upsample nearest,
///   DepthToSpace, SpaceToDepth, Trilu, Compress, ScatterElements/ScatterND (reduction none,
///   max, min), MaxPool, GlobalMaxPool — exact; AveragePool, GlobalAveragePool — γ_{K+2}·M;
///   Resize linear — γ_{4K+4}·M. An op the engine lacks (on this branch: Expand, Tile, Trilu,
///   Compress, Scatter*, DepthToSpace, Resize linear, Einsum) stays unbounded until it has one.
/// - *Monotone or piecewise monotone elementwise, exact range in Double* (``Activations``,
///   ``Elementary``): Relu, LeakyRelu (any α), PRelu, Elu, Selu, Celu, ThresholdedRelu,
///   Shrink, Sigmoid, HardSigmoid, HardSwish, Tanh, Softplus, Softsign, Clip, Neg, Abs, Sign,
///   Floor, Ceil, Round, Exp, Log, Sqrt, Reciprocal, Erf, Atan, Sinh, Cosh, Asinh, Atanh, Sin,
///   Cos, Gelu (exact and tanh), Mish, Not, IsNaN, IsInf (these two [0, 1]).
/// - *Interval arithmetic with broadcasting* (``BinaryRules``): Add, Sub, Mul, Div, Pow,
///   Max, Min, Sum, Mean, Where, Mod, comparisons, And, Or, Xor.
/// - *Centre–radius, float32 BLAS/im2col with γ_K margins* (``CentreRadius``,
///   ``ConvRules``, ``MatMulRules``, ``Bilinear``): Conv, ConvTranspose, Gemm, MatMul (one
///   constant operand, or two bounded ones as in attention), Einsum (with the engine's kernel).
/// - *Normalizations and softmax* (``NormalizationRules``, ``SoftmaxRules``):
///   BatchNormalization (inference), LayerNormalization, InstanceNormalization,
///   GroupNormalization (|z| ≤ √(K − 1), tighter with a certified variance lower bound), LRN,
///   Softmax, LogSoftmax.
/// - *Reductions and selection in Double* (``ReduceRules``): ReduceSum/Mean/Max/Min/L1/L2/
///   SumSquare/LogSum/LogSumExp/Prod, CumSum, ArgMax, ArgMin, TopK, Hardmax.
/// - *Recurrent* (``RecurrentRules``): LSTM, GRU, RNN with bounded activations (their
///   ranges; the LSTM cell grows at most linearly).
/// - *Types and quantization* (``TypeRules``): Cast, CastLike, QuantizeLinear,
///   DequantizeLinear (both domains), DynamicQuantizeLinear's scale.
/// - *Structure* (``StructureRules``): Shape, Size, ConstantOfShape, Range (points), Gather
///   with bounded indices (the hull of the rows they reach), OneHot, and the If merge (the
///   taken branch when the condition is a point, else the union of both; nodes of a branch a
///   point condition excludes are not evaluated).
/// - *Anything else* (other ops, custom domains, tensors of unknown shape): unbounded, or the
///   range of its integer type when inference and the file agree on that type — never a guess.
///
/// **Inputs.** Graph inputs in `domain` get those bounds; other integer and bool inputs the
/// range of their type; other float inputs are unbounded. A `domain` entry for an internal
/// tensor replaces its producer. Constants are exact points.
///
/// **Memory.** Only the nodes the `needed` tensors depend on run (nil: all), and a tensor's
/// bounds are freed after its last reader unless requested; the result holds the `needed`
/// tensors (a constant as its point) or, for nil, every tensor computed. A tensor beyond
/// ``Engine/maxElements`` elements is refused before anything is allocated for it.
public enum IntervalEvaluator {
    /// Bounds of every tensor the graph computes (and its constants are exact points), given
    /// bounds of the graph inputs (and of any internal tensor in `domain`, which overrides its producer).
    public static func bounds(graph: ModelGraph, domain: [String: TensorBounds], needed: Set<String>? = nil) throws(ReferenceError) -> [String: TensorBounds] {
        var run = try IntervalRun(graph: graph, domain: domain, needed: needed)
        return try run.evaluate()
    }

    /// The rule for a node's op, nil when there is none (the outputs are unbounded).
    static func rule(for n: Node) -> IntervalRule? {
        switch n.domain {
        case "", "ai.onnx": return rules[n.opType]
        case "com.microsoft": return ["QuantizeLinear", "DequantizeLinear"].contains(n.opType) ? rules[n.opType] : nil
        case "kappa": return n.opType == "If" ? StructureRules.ifMerge : nil
        default: return nil
        }
    }

    static let rules: [String: IntervalRule] = Dictionary(
        [StructureRules.rules, TypeRules.rules, KernelRules.rules, Activations.rules, Elementary.rules,
         BinaryRules.rules, ConvRules.rules, MatMulRules.rules, EinsumRule.rules, ReduceRules.rules,
         NormalizationRules.rules, SoftmaxRules.rules, RecurrentRules.rules].flatMap { $0.map { ($0.key, $0.value) } },
        uniquingKeysWith: { first, _ in first })
}
