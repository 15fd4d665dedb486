/// The part of swift-argument-parser's `--experimental-dump-help` JSON (ToolInfoV0,
/// `serializationVersion` 0) that a manual page needs. Decoded with our own types because the
/// package does not export ArgumentParserToolInfo as a product.
struct ToolInfo: Decodable {
    var serializationVersion: Int
    var command: CommandInfo
}

struct CommandInfo: Decodable {
    var commandName: String
    var abstract: String?
    var discussion: String?
    var shouldDisplay: Bool?
    var subcommands: [CommandInfo]?
    var arguments: [ArgumentInfo]?
}

struct ArgumentInfo: Decodable {
    enum Kind: String, Decodable { case positional, option, flag }

    struct Name: Decodable {
        enum Kind: String, Decodable { case long, short, longWithSingleDash }
        var kind: Kind
        var name: String

        /// `--max-bits`, `-o`, `-long`.
        var spelled: String {
            switch kind {
            case .long: "--" + name
            case .short: "-" + name
            case .longWithSingleDash: "-" + name
            }
        }
    }

    var kind: Kind
    var shouldDisplay: Bool
    var isOptional: Bool
    var isRepeating: Bool
    var names: [Name]?
    var valueName: String?
    var defaultValue: String?
    var allValues: [String]?
    var abstract: String?
    var discussion: String?
}
