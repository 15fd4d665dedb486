import ArgumentParser

/// The subcommands, in the order `kappa --help` lists them.
enum KappaCommands {
    static let all: [ParsableCommand.Type] = [Inspect.self, Analyze.self, Check.self, Validate.self, Quant.self, Diff.self, Run.self, Merge.self]
}
