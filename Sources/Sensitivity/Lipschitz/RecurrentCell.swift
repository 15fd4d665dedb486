import Foundation

/// The per-step comparison system of one direction of a recurrent op (recurrent.md Lemma 5):
/// for every pair of runs, n_t ≤ A_t n_{t−1} + β_t ‖δx_t‖ entrywise, where n_t collects the
/// norms of the state differences — (‖δh_t‖, ‖δC_t‖) for LSTM (m = 2), ‖δH_t‖ for GRU and
/// RNN (m = 1) — and t = 1…T counts processing steps (the reverse direction processes
/// x_T … x_1; its A_t, β_t are indexed the same way, §7.1).
struct ComparisonSystem: Sendable {
    /// State size m (1 or 2).
    var m: Int
    /// A_t, m × m row-major, t = 1…T (index t − 1).
    var a: [[Double]]
    /// β_t, m entries.
    var beta: [[Double]]
    /// κ_T, the bound on the state used by the constants (0 when none is needed); for messages.
    var kappa: Double

    var steps: Int { a.count }
    var isFinite: Bool { a.allSatisfy { $0.allSatisfy(\.isFinite) } && beta.allSatisfy { $0.allSatisfy(\.isFinite) } }
}

/// The constants of one direction's activations on the clip domain D_c (recurrent.md §2).
struct GateConstants {
    var f: ActivationBounds
    var g: ActivationBounds?
    var F1: Double { f.lip }
    var F0: Double { f.sup }
    var Z1: Double { f.oneMinusSup }
    var G1: Double { g?.lip ?? 0 }
    var G0: Double { g?.sup ?? 0 }
}

enum RecurrentCell {
    /// **Theorem R** (recurrent.md §4). H_t = f(cl(W x_t + R H_{t−1} + b)): by Lemma 1,
    /// δH_t = D(W δx_t + R δH_{t−1}) with D diagonal, |D| ≤ F1 = Lip_{D_c}(f) (clip is
    /// 1-Lipschitz into D_c = [−clip, clip]), so A_t = F1‖R‖, β_t = F1‖W‖. No bound on the
    /// state is needed; the bias does not enter.
    static func rnn(_ w: RecurrentBlocks, f: ActivationBounds, steps T: Int) -> ComparisonSystem {
        let a = safeProduct(f.lip, w.r(0)), b = safeProduct(f.lip, w.w(0))
        return ComparisonSystem(m: 1, a: Array(repeating: [a], count: T), beta: Array(repeating: [b], count: T), kappa: 0)
    }

    /// **Theorem G** (recurrent.md §5), gates z = 0, r = 1, h = 2; κ_0 ≥ ‖initial_h‖∞;
    /// κ_t = max(κ_{t−1}, G0) when the gates lie in [0, 1] (H_t is then a convex combination of
    /// h̃_t and H_{t−1}), else F0·κ_{t−1} + Z1·G0. With κ = κ_{t−1}, λ_z = F1(κ + G0):
    /// - linear_before_reset = 0: q = G1‖R_h‖(F0 + F1κ‖R_r‖),
    ///   b_t = N(Z1G1, λ_z; W_h, W_z) + Z1G1F1κ‖R_h‖‖W_r‖;
    /// - linear_before_reset = 1: ρ = max_k(κΣ_j|R_h[k,j]| + |Rb_h[k]|) ≥ ‖R_hH_{t−1} + Rb_h‖∞,
    ///   q = N(G1F0, G1F1ρ; R_h, R_r), b_t = N(Z1G1, Z1G1F1ρ, λ_z; W_h, W_r, W_z);
    /// - a_t = c(q) + λ_z‖R_z‖, c(q) = F0 + Z1q, or, with gates in [0, 1] (Lemma 3),
    ///   min(F0 + Z1q, √(f_hi + (1 − f_lo)q²)).
    /// Proof summary: Lemma 1 writes δH_t = diag(z')δH + diag(1 − z')δh̃ + diag(H − h̃)δz with
    /// |H − h̃| ≤ κ + G0; δh̃ = D_g(W_hδx + R_hδ(r⊙H)) (lbr 0) with δ(r⊙H) = diag(H)δr + diag(r')δH,
    /// so the δH coefficient is diag(z') + diag(1 − z')K + diag(H − h̃)D_zR_z with ‖K‖ ≤ q
    /// (Lemma 2 for lbr 1, where δ(r⊙u) = diag(u)δr + diag(r')R_hδH, |u| ≤ ρ); the δx coefficient
    /// is bounded by Lemma 2 and the triangle inequality. N(·) is ``mixedBlockNorm``.
    static func gru(_ w: RecurrentBlocks, _ c: GateConstants, linearBeforeReset: Bool, recurrentBiasH rbh: [Double],
                    kappa0: Double, steps T: Int) -> ComparisonSystem {
        let F1 = c.F1, F0 = c.F0, Z1 = c.Z1, G1 = c.G1, G0 = c.G0
        let (nRh, nRr, nRz, nWr, nWh, nWz) = (w.r(2), w.r(1), w.r(0), w.w(1), w.w(2), w.w(0))
        let rowSum = linearBeforeReset ? w.rowSums(recurrent: 2) : []
        var a: [[Double]] = [], beta: [[Double]] = []
        a.reserveCapacity(T); beta.reserveCapacity(T)
        var kappa = kappa0
        for _ in 0..<T {
            let lamZ = safeProduct(kappa + G0, F1)
            let q: Double, b: Double
            if linearBeforeReset {
                var rho = 0.0
                for k in rowSum.indices { rho = max(rho, safeProduct(kappa, rowSum[k]) + (k < rbh.count ? abs(rbh[k]) : 0)) }
                q = mixedBlockNorm([G1 * F0, safeProduct(G1 * rho, F1)], [nRh, nRr], stacked: w.r(2, 1))
                b = mixedBlockNorm([Z1 * G1, safeProduct(Z1 * G1, safeProduct(rho, F1)), lamZ], [nWh, nWr, nWz], stacked: w.w(0, 1, 2))
            } else {
                q = safeProduct(G1 * nRh, F0 + safeProduct(safeProduct(kappa, F1), nRr))
                b = mixedBlockNorm([Z1 * G1, lamZ], [nWh, nWz], stacked: w.w(0, 2))
                    + safeProduct(safeProduct(Z1 * G1, safeProduct(nRh, kappa)), safeProduct(F1, nWr))
            }
            var lin = F0 + safeProduct(Z1, q)
            if c.f.inUnitInterval { lin = min(lin, (c.f.hi + (1 - c.f.lo) * q * q).squareRoot()) }
            a.append([lin + safeProduct(lamZ, nRz)])
            beta.append([b])
            kappa = c.f.inUnitInterval ? max(kappa, G0) : safeProduct(F0, kappa) + safeProduct(Z1, G0)
        }
        return ComparisonSystem(m: 1, a: a, beta: beta, kappa: kappa)
    }

    /// **Theorem L** (recurrent.md §6), gates i = 0, o = 1, f = 2, c = 3, state (h, C).
    /// Cell bound (§6.1), κ_0 ≥ ‖initial_c‖∞: κ_t = F0κ_{t−1} + F0G0, or with input_forget
    /// max(κ_{t−1}, G0) (gates in [0, 1]) else Z1κ_{t−1} + F0G0. h is applied to C_t unclipped,
    /// so H0, H1 are its constants on [−κ_t, κ_t]. With κ = κ_{t−1}:
    /// λ_o = H0F1, E_k = λ_o|p_o,k| + F0H1, e = max_k E_k;
    /// standard: λ_i = F1G0, λ_f = F1κ, λ_g = F0G1, Acc_k = F0 + λ_f|p_f,k| + λ_i|p_i,k|, S = {i, f, c};
    /// input_forget: λ_i = F1(G0 + κ), λ_g = F0G1, Acc_k = Z1 + λ_i|p_i,k|, S = {i, c};
    /// a_cc = max Acc_k, a_hc = max_k E_kAcc_k, a_ch = N(λ_S; R_S), b_c = N(λ_S; W_S),
    /// a_hh = min(N(eλ_S, λ_o; R_S, R_o), e·a_ch + λ_o‖R_o‖), b_h likewise with W;
    /// A_t = [[a_hh, a_hc], [a_ch, a_cc]], β_t = (b_h, b_c).
    /// Proof summary: by Lemma 1, δC_t = Acc·δC + Σ_{j∈S} Λ_j(W_jδx + R_jδh) with Acc diagonal
    /// (|Acc_kk| ≤ Acc_k: f' + C·D_f·p_f + g·D_i·p_i) and |Λ_i| = |g D_i| ≤ λ_i, |Λ_f| = |C D_f| ≤ λ_f,
    /// |Λ_c| = |i' D_g| ≤ λ_g (Lemma 2 gives the C row); δh_t = EδC_t + Λ_o(W_oδx + R_oδh) with E
    /// diagonal (the peephole p_o acts on the new cell C_t; D_h a secant of h on [−κ_t, κ_t]),
    /// |Λ_o| ≤ λ_o; substituting δC_t gives the h row. The peephole vectors are absolute values.
    static func lstm(_ w: RecurrentBlocks, _ c: GateConstants, h hReadings: [RecurrentActivation], peepholes p: [Double],
                     inputForget: Bool, kappa0: Double, steps T: Int) -> Result<ComparisonSystem, RecurrentError> {
        let H = w.hidden
        let F1 = c.F1, F0 = c.F0, Z1 = c.Z1, G1 = c.G1, G0 = c.G0
        let pi = (0..<H).map { p.count == 3 * H ? abs(p[$0]) : 0 }
        let po = (0..<H).map { p.count == 3 * H ? abs(p[H + $0]) : 0 }
        let pf = (0..<H).map { p.count == 3 * H ? abs(p[2 * H + $0]) : 0 }
        let gates = inputForget ? [0, 3] : [0, 2, 3]
        let withO = inputForget ? [0, 1, 3] : [0, 1, 2, 3]
        let nW = gates.map { w.w($0) }, nR = gates.map { w.r($0) }
        let nWo = w.w(1), nRo = w.r(1)
        let sW = w.norm(false, gates), sR = w.norm(true, gates)
        let sWo = w.norm(false, withO), sRo = w.norm(true, withO)
        var a: [[Double]] = [], beta: [[Double]] = []
        a.reserveCapacity(T); beta.reserveCapacity(T)
        var kappa = kappa0
        var hCache: (Double, ActivationBounds)?
        for _ in 0..<T {
            let next: Double
            if inputForget {
                next = c.f.inUnitInterval ? max(kappa, G0) : safeProduct(Z1, kappa) + safeProduct(F0, G0)
            } else {
                next = safeProduct(F0, kappa) + safeProduct(F0, G0)
            }
            let hb: ActivationBounds
            if let (k, b) = hCache, k == next { hb = b } else {
                guard let b = RecurrentActivation.bounds(hReadings, halfWidth: next) else {
                    return .failure(.unbounded("LSTM output activation \(hReadings[0].name) is discontinuous on the cell range [−\(NumberText.value(next)), \(NumberText.value(next))] (recurrent.md §8.3)"))
                }
                hb = b
                hCache = (next, b)
            }
            let H1 = hb.lip, H0 = hb.sup
            let lamO = safeProduct(H0, F1)
            let E = po.map { safeProduct(lamO, $0) + safeProduct(F0, H1) }
            let e = E.max() ?? safeProduct(F0, H1)
            let lams: [Double]
            let acc: [Double]
            if inputForget {
                let lamI = safeProduct(G0 + kappa, F1)
                lams = [lamI, safeProduct(F0, G1)]
                acc = pi.map { Z1 + safeProduct(lamI, $0) }
            } else {
                let lamI = safeProduct(G0, F1), lamF = safeProduct(kappa, F1)
                lams = [lamI, lamF, safeProduct(F0, G1)]
                acc = (0..<H).map { F0 + safeProduct(lamF, pf[$0]) + safeProduct(lamI, pi[$0]) }
            }
            let aCC = acc.max() ?? F0
            let aHC = zip(E, acc).map { safeProduct($0, $1) }.max() ?? 0
            let aCH = mixedBlockNorm(lams, nR, stacked: sR)
            let bC = mixedBlockNorm(lams, nW, stacked: sW)
            let eLams = lams.map { safeProduct(e, $0) } + [lamO]
            let aHH = min(mixedBlockNorm(eLams, nR + [nRo], stacked: sRo), safeProduct(e, aCH) + safeProduct(lamO, nRo))
            let bH = min(mixedBlockNorm(eLams, nW + [nWo], stacked: sWo), safeProduct(e, bC) + safeProduct(lamO, nWo))
            a.append([aHH, aHC, aCH, aCC])
            beta.append([bH, bC])
            kappa = next
        }
        return .success(ComparisonSystem(m: 2, a: a, beta: beta, kappa: kappa))
    }
}
