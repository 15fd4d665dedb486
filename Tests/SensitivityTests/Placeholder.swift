import Foundation
import KappaTestSupport
import Testing

@Test func dumpTiny() throws {
    guard let dir = ProcessInfo.processInfo.environment["KAPPA_DUMP"] else { return }
    try ONNXWriter.write(SmallModels.tinyCNN(), to: dir + "/tiny.onnx")
    try ONNXWriter.write(SmallModels.withUnsupported(), to: dir + "/unsup.onnx")
    try ONNXWriter.write(SmallModels.withNaN(), to: dir + "/nan.onnx")
    try ONNXWriter.write(SmallModels.mlp(), to: dir + "/mlp.onnx")
}
