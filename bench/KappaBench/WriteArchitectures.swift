import Foundation
import KappaTestSupport

/// `kappa-bench write-arch DIR`: AlexNet and VGG-19 built by Kappa's own ONNX writer
/// (seeded He weights), plus VGG-19 with its weights in an external data file and the
/// MobileNetV3-style detector (``Architectures/mobileDetector(seed:size:width:classes:)``) and the
/// BERT-style encoder (``Architectures/bertEncoder(seed:layers:hidden:heads:seq:vocab:classes:)``).
func writeArchitectures(to dir: String) throws -> [String: Any] {
    let alex = dir + "/writer_alexnet.onnx", vgg = dir + "/writer_vgg19.onnx"
    let ext = dir + "/writer_vgg19_external/vgg19.onnx"
    let mobile = dir + "/writer_mobile_detector.onnx"
    try ONNXWriter.write(Architectures.mobileDetector(), to: mobile)
    let bert = dir + "/writer_bert_encoder.onnx"
    try ONNXWriter.write(Architectures.bertEncoder(), to: bert)
    try ONNXWriter.write(Architectures.alexNet(), to: alex)
    try ONNXWriter.write(Architectures.vgg19(), to: vgg)
    try ONNXWriter.writeWithExternalData(Architectures.vgg19(), to: ext, weightsFile: "vgg19.weights")
    return ["written": [alex, vgg, ext, mobile, bert]]
}
