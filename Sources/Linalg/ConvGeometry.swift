// The geometry of one convolution on one concrete input shape.

/// A convolution's geometry for ONE concrete input shape (spatial rank 1, 2 or 3).
///
/// Index relation (ONNX Conv and ConvTranspose, bias excluded). Call the side that windows are
/// cut from the *big* side and the side with one entry per window the *small* side; per spatial
/// axis a, window i and kernel tap j touch big position
///
///     p = i·s_a + j·d_a − padsBegin_a,   0 ≤ i < small_a, 0 ≤ j < k_a,
///
/// and positions outside [0, big_a) read as zero (padding) or are dropped.
/// - Conv: big = `input` (C_in = `inChannels`), small = `output` (C_out = `outChannels`),
///   y[m, i] = Σ_{c∈group(m), j} W[m, c mod C_in/g, j]·x[c, p(i, j)], weight (C_out, C_in/g, k…).
/// - ConvTranspose (`transposed`): small = `input`, big = `output`, weight (C_in, C_out/g, k…),
///   y[o, p(i, j)] += W[c, o mod C_out/g, j]·x[c, i]: exactly the adjoint of the Conv from
///   C_out to C_in channels with the *same* weight tensor (ONNX semantics; `output_padding`
///   only enlarges `output`, `output_shape` only changes the pads).
/// Group gr owns small channels [gr·S/g, (gr+1)·S/g) and big channels [gr·B/g, (gr+1)·B/g).
public struct ConvGeometry: Sendable, Equatable {
    public var inChannels: Int, outChannels: Int, groups: Int
    public var input: [Int]      // spatial input extent
    public var kernel: [Int], strides: [Int], dilations: [Int]
    public var padsBegin: [Int], padsEnd: [Int]
    public var output: [Int]     // spatial output extent
    public var transposed: Bool  // ConvTranspose: weight (C_in, C_out/g, k…), maps input (C_in, input) → (C_out, output)

    public init(inChannels: Int, outChannels: Int, groups: Int, input: [Int], kernel: [Int], strides: [Int],
                dilations: [Int], padsBegin: [Int], padsEnd: [Int], output: [Int], transposed: Bool = false) {
        self.inChannels = inChannels; self.outChannels = outChannels; self.groups = groups
        self.input = input; self.kernel = kernel; self.strides = strides; self.dilations = dilations
        self.padsBegin = padsBegin; self.padsEnd = padsEnd; self.output = output; self.transposed = transposed
    }

    /// Channels × spatial product of the input (per batch item).
    public var inputCount: Int { inChannels * input.reduce(1, *) }
    /// Channels × spatial product of the output (per batch item).
    public var outputCount: Int { outChannels * output.reduce(1, *) }
    /// The number of spatial dimensions.
    public var rank: Int { kernel.count }

    /// Channels and spatial extent of the side windows are cut from (Conv input, ConvTranspose output).
    var bigChannels: Int { transposed ? outChannels : inChannels }
    var bigExtent: [Int] { transposed ? output : input }
    /// Channels and spatial extent of the side with one entry per window.
    var smallChannels: Int { transposed ? inChannels : outChannels }
    var smallExtent: [Int] { transposed ? input : output }

    /// The ONNX weight shape: (smallChannels, bigChannels/g, k…), i.e. Conv (C_out, C_in/g, k…),
    /// ConvTranspose (C_in, C_out/g, k…).
    public var weightShape: [Int] { [smallChannels, bigChannels / max(groups, 1)] + kernel }
    /// The element count of ``weightShape``.
    public var weightCount: Int { weightShape.reduce(1, *) }

    /// c = Π over spatial dims of the max number of windows one input element lies in.
    ///
    /// Computed exactly for this concrete geometry: per axis, the maximum over big-side positions
    /// p of #{(i, j) : p = i·s + j·d − padsBegin, 0 ≤ i < small, 0 ≤ j < k} (for d ≥ 1 each window
    /// i contributes at most one tap j); the count of a multi-index is the product of its axis
    /// counts, so the maximum of the product is the product of the maxima. This never exceeds the
    /// closed form ``overlapBound`` = Π min(k, ⌈((k−1)·d+1)/s⌉) of DESIGN.md §1.1, and is smaller
    /// near borders of small inputs. It is the c in ‖A‖ ≤ √c·σ_matrix (see ``OperatorNorm``).
    public var overlapCount: Int {
        var c = 1
        for a in 0..<rank {
            let big = bigExtent[a], small = smallExtent[a]
            guard big > 0, small > 0 else { return 0 }
            var counts = [Int](repeating: 0, count: big)
            for i in 0..<small {
                for j in 0..<kernel[a] {
                    let p = i * strides[a] + j * dilations[a] - padsBegin[a]
                    if p >= 0 && p < big { counts[p] += 1 }
                }
            }
            c *= counts.max() ?? 0
        }
        return c
    }

    /// The closed form Π min(k, ⌈((k−1)·d+1)/s⌉) (DESIGN.md §1.1), independent of extents and pads:
    /// the windows containing p start at i·s ∈ (p + pad − (k−1)·d − 1, p + pad], a range of
    /// (k−1)·d+1 integers, and each has at most one of its k taps at p.
    public var overlapBound: Int {
        var c = 1
        for a in 0..<rank {
            let span = (kernel[a] - 1) * dilations[a] + 1
            c *= min(kernel[a], (span + strides[a] - 1) / strides[a])
        }
        return c
    }

    /// The ONNX Conv output extent ⌊(n + b + e − ((k−1)·d+1))/s⌋ + 1 per axis (explicit pads).
    public static func convOutput(input: [Int], kernel: [Int], strides: [Int], dilations: [Int],
                                  padsBegin: [Int], padsEnd: [Int]) -> [Int] {
        (0..<input.count).map { a in
            let span = (kernel[a] - 1) * dilations[a] + 1
            let room = input[a] + padsBegin[a] + padsEnd[a] - span
            return room < 0 ? 0 : room / max(strides[a], 1) + 1
        }
    }

    /// The ONNX ConvTranspose output extent s·(n−1) + output_padding + (k−1)·d + 1 − b − e per axis.
    public static func convTransposeOutput(input: [Int], kernel: [Int], strides: [Int], dilations: [Int],
                                           padsBegin: [Int], padsEnd: [Int], outputPadding: [Int]) -> [Int] {
        (0..<input.count).map { a in
            strides[a] * (input[a] - 1) + outputPadding[a] + (kernel[a] - 1) * dilations[a] + 1
                - padsBegin[a] - padsEnd[a]
        }
    }

    /// Checks that the geometry describes a valid map: rank 1…3, matching attribute lengths,
    /// groups ≥ 1 dividing both channel counts, kernel/stride/dilation ≥ 1, pads ≥ 0, extents ≥ 1,
    /// and counts that fit the 32-bit BLAS/LAPACK interfaces.
    public func validate() throws(LinalgError) {
        let r = kernel.count
        guard (1...3).contains(r) else { throw .invalidShape("convolution spatial rank \(r) (kernel \(kernel)) is not 1, 2 or 3") }
        for (name, v) in [("input", input), ("strides", strides), ("dilations", dilations),
                          ("pads begin", padsBegin), ("pads end", padsEnd), ("output", output)] where v.count != r {
            throw .invalidShape("convolution \(name) \(v) has \(v.count) entries, kernel \(kernel) has \(r)")
        }
        guard groups >= 1, inChannels >= 1, outChannels >= 1,
              inChannels % groups == 0, outChannels % groups == 0 else {
            throw .invalidShape("channels in \(inChannels), out \(outChannels) are not positive multiples of groups \(groups)")
        }
        guard kernel.allSatisfy({ $0 >= 1 }), strides.allSatisfy({ $0 >= 1 }), dilations.allSatisfy({ $0 >= 1 }) else {
            throw .invalidShape("kernel \(kernel), strides \(strides), dilations \(dilations) must be ≥ 1")
        }
        guard padsBegin.allSatisfy({ $0 >= 0 }), padsEnd.allSatisfy({ $0 >= 0 }) else {
            throw .invalidShape("pads \(padsBegin) / \(padsEnd) must be ≥ 0")
        }
        guard input.allSatisfy({ $0 >= 1 }), output.allSatisfy({ $0 >= 1 }) else {
            throw .invalidShape("convolution extents input \(input), output \(output) must be ≥ 1")
        }
        // Every count handed to BLAS (channels × spatial products, the im2col row length) must
        // fit 32 bits; products are formed with overflow checks since extents come from models.
        let limit = BLAS.maxDimension
        let counts: [[Int]] = [[inChannels] + input, [outChannels] + output,
                               weightShape, [bigChannels / groups] + kernel]
        guard (kernel + strides + dilations + padsBegin + padsEnd).allSatisfy({ $0 <= limit }) else {
            throw .invalidShape("kernel \(kernel), strides \(strides), dilations \(dilations), pads \(padsBegin)/\(padsEnd) exceed 32 bits")
        }
        for factors in counts {
            guard let n = ConvGeometry.checkedProduct(factors), n <= limit else {
                throw .invalidShape("convolution sizes \(factors) exceed the 32-bit BLAS limit (input \(input), output \(output), kernel \(kernel))")
            }
        }
    }

    /// Π xs, or nil on Int overflow.
    static func checkedProduct(_ xs: [Int]) -> Int? {
        var p = 1
        for x in xs {
            let (r, o) = p.multipliedReportingOverflow(by: x)
            if o { return nil }
            p = r
        }
        return p
    }
}
