import Linalg
import ONNX

/// A weight layer (DESIGN.md §1.1): a node with a constant weight operand, and the view of
/// that weight whose norm bounds the layer.
public struct WeightLayer: Sendable {
    /// How the weight is read as a linear map.
    public enum View: Sendable {
        /// `blocks` contiguous row-major rows × cols matrices inside the weight tensor (a
        /// block-diagonal map: its norm is the max over the blocks). Conv (M, C/g, k…): g
        /// blocks (M/g) × (C/g·Πk); ConvTranspose (C, M/g, k…): g blocks (C/g) × (M/g·Πk);
        /// Gemm: the 2-D operand (σ(B) = σ(Bᵀ), so transA/transB need no copy); MatMul: the
        /// stack of its last two dimensions.
        case matrix(rows: Int, cols: Int, blocks: Int)
        /// A diagonal scaling y = s ⊙ x (broadcast): BatchNormalization s_c = γ_c/√(var_c+ε),
        /// Mul by c (s = c), Div by c (s = 1/c). `gain` is its Lipschitz constant: max|s| when x
        /// is not the broadcast operand, else the largest fiber norm of s (`Broadcast`).
        case diagonal([Double], gain: Double)
    }

    /// Position of the node in `graph.nodes`.
    public var nodeIndex: Int
    public var node: String
    public var op: String
    /// The operand that depends on the input.
    public var input: String
    /// The weight tensor as stored (for BatchNormalization: the scale γ).
    public var weight: Tensor
    public var view: View
    /// A constant factor of the map (Gemm's |alpha|).
    public var scale: Double = 1
    /// The convolution on the input shape the layer really sees, when known.
    public var conv: ConvGeometry?
    /// c, the largest number of windows one input element lies in (convolutions): exact for
    /// `conv`, else the closed form; ‖A‖ ≤ √c·σ_matrix.
    public var overlap: Int?
    /// Further operands that depend on the input (a variable Gemm C gets |beta|).
    public var extraTerms: [NodeRule.Term] = []
}

/// Norms of one weight layer.
public struct WeightNorms: Sendable {
    public var frobenius: Double?
    public var sigmaMatrix: Double?
    public var matrixEstimate: SpectralEstimate?
    /// Certified interval for σ_op: lower (nil when not estimated) and a rigorous upper bound.
    public var sigmaOpLower: Double?
    public var sigmaOpUpper: Double?
    public var operatorIterations: Int?
    public var operatorTolerance: Double?
    public var nonFinite: Int = 0
    /// Set when no finite norm could be computed.
    public var failure: String?
}
