import Foundation
import ONNX

/// The schemes of one `kappa quant` run: a default for weights and for activations, and
/// per-node overrides (`--overrides FILE`, or a plan's sidecar).
public struct QuantSettings: Sendable, Equatable {
    public struct Override: Sendable, Equatable, Codable {
        public var weights: WeightScheme?
        public var activations: ActivationScheme?
        public init(weights: WeightScheme? = nil, activations: ActivationScheme? = nil) {
            self.weights = weights
            self.activations = activations
        }
    }

    public var weights: WeightScheme
    public var activations: ActivationScheme
    /// ONNX node name → its schemes (a missing field keeps the default).
    public var overrides: [String: Override]

    public init(weights: WeightScheme, activations: ActivationScheme, overrides: [String: Override] = [:]) {
        self.weights = weights
        self.activations = activations
        self.overrides = overrides
    }

    public func weights(for node: String) -> WeightScheme { overrides[node]?.weights ?? weights }
    public func activations(for node: String) -> ActivationScheme { overrides[node]?.activations ?? activations }

    /// Reads per-node overrides from JSON: `{"nodes": {"NAME": {"weights": "fp16", "activations": "fp32"}}}`
    /// (the plan sidecar `kappa quant --max-error` writes; its other keys are ignored) or the bare
    /// `{"NAME": {…}}` map.
    public static func overrides(json data: Data, path: String) throws(QuantError) -> [String: Override] {
        struct Sidecar: Decodable { var nodes: [String: Override] }
        do {
            // A top-level "nodes" key means the sidecar form: its errors (a misspelt scheme) are
            // reported as such, not re-read as an override of a node called "nodes".
            let top = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
            if top?["nodes"] != nil { return try JSONDecoder().decode(Sidecar.self, from: data).nodes }
            return try JSONDecoder().decode([String: Override].self, from: data)
        } catch let DecodingError.dataCorrupted(c) {
            throw .badOverrides(path: path, reason: c.debugDescription)
        } catch {
            throw .badOverrides(path: path, reason: "expected {\"NODE\": {\"weights\": SCHEME, \"activations\": SCHEME}} (\(error.localizedDescription))")
        }
    }
}

/// Every way `kappa quant` refuses its input; one line naming the file and the node (exit 2).
public enum QuantError: Error, LocalizedError, Sendable, Equatable {
    case badOverrides(path: String, reason: String)
    case unknownNode(path: String, node: String)
    case needsDomain(path: String, node: String, scheme: String)
    case noLayers(path: String)
    /// The analysis semantics refused the model (its message names the file).
    case analysis(String)

    public var errorDescription: String? {
        switch self {
        case let .badOverrides(path, reason): return "\(path): bad per-node overrides: \(reason)"
        case let .unknownNode(path, node): return "\(path): override for node '\(node)', which is not a weight layer Kappa quantizes (Conv, ConvTranspose, Gemm, MatMul with a constant weight, feeding the analysed output)"
        case let .needsDomain(path, node, scheme): return "\(path): node '\(node)': --activations \(scheme) takes the scale of each activation from its range over the input domain: declare one with --input-range NAME=LO,HI"
        case let .analysis(m): return m
        case let .noLayers(path): return "\(path): no weight layer to quantize (Conv, ConvTranspose, Gemm or MatMul with a constant float weight)"
        }
    }
}
