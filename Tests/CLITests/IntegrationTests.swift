import Foundation
import Testing
import Yams

/// The ways Kappa meets users outside the CLI itself: `kappa --version`, shell completions,
/// the man page, `make install`/`uninstall`, the pre-commit hooks and the GitHub Action. The
/// YAML files are parsed with Yams and checked against what the README documents.
struct IntegrationTests {
    static let root = CLITests.packageRoot

    static func file(_ name: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(name), encoding: .utf8)
    }

    /// A YAML mapping with its keys as strings (Yams maps keys to `AnyHashable`).
    static func mapping(_ value: Any?, _ what: String) throws -> [String: Any] {
        guard let m = value as? [AnyHashable: Any] else { throw CLITests.CLIError("\(what) is not a mapping") }
        return Dictionary(uniqueKeysWithValues: m.map { ("\($0.key)", $0.value) })
    }

    static func sequence(_ value: Any?, _ what: String) throws -> [Any] {
        guard let s = value as? [Any] else { throw CLITests.CLIError("\(what) is not a list") }
        return s
    }

    /// The ```yaml blocks of the README.
    static func readmeYAMLBlocks() throws -> [String] {
        let parts = try Self.file("README.md").components(separatedBy: "```yaml\n")
        return parts.dropFirst().map { $0.components(separatedBy: "```")[0] }
    }

    /// Subcommand names from `kappa --experimental-dump-help` (the parser's own view).
    static func subcommands() throws -> [String] {
        let (code, out, _) = try CLITests.run(["--experimental-dump-help"], in: Self.root)
        #expect(code == 0)
        let tool = try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any]
        let command = tool?["command"] as? [String: Any]
        let subs = (command?["subcommands"] as? [[String: Any]] ?? []).compactMap { $0["commandName"] as? String }
        return subs.filter { $0 != "help" }
    }

    // MARK: version, completions, man page

    @Test func versionNamesTheVersionAndTheGitRevision() throws {
        let (code, out, err) = try CLITests.run(["--version"], in: Self.root)
        #expect(code == 0)
        #expect(err.isEmpty)
        let pattern = #/^kappa \d+\.\d+\.\d+ \(git ([0-9a-f]{7,40}(-dirty)?|unknown)\)\n$/#
        #expect(out.wholeMatch(of: pattern) != nil, "got \(out.debugDescription)")
        // The same version the JSON reports carry.
        let dir = try CLITests.workspace()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (_, json, _) = try CLITests.run(["inspect", "mlp.onnx", "--format", "json"], in: dir)
        let report = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        let tool = report?["tool"] as? [String: Any]
        let version = try #require(out.split(separator: " ").dropFirst().first.map(String.init))
        #expect(tool?["version"] as? String == version, "report says \(String(describing: tool))")
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptNamesEverySubcommand(_ shell: String) throws {
        let (code, out, _) = try CLITests.run(["--generate-completion-script", shell], in: Self.root)
        #expect(code == 0)
        let subs = try Self.subcommands()
        #expect(subs == ["inspect", "analyze", "check", "validate", "quant", "diff", "run", "merge"])
        for sub in subs { #expect(out.contains(sub), "\(shell) completion lacks \(sub)") }
        #expect(out.contains("max-bits"), "\(shell) completion lacks check's --max-bits")
        if shell == "bash" { #expect(out.contains("complete -") && out.contains("kappa")) }
    }

    /// kappa-manual turns the dump into a man page with every command and option, and keeps
    /// the non-ASCII text (κ, σ) that swift-argument-parser's generate-manual drops.
    @Test func manualPageHasEveryCommandAndOptionAndKeepsUnicode() throws {
        let (_, dump, _) = try CLITests.run(["--experimental-dump-help"], in: Self.root)
        let tool = try CLITests.binary().deletingLastPathComponent().appendingPathComponent("kappa-manual")
        let p = Process()
        p.executableURL = tool
        p.arguments = ["--date", "2026-01-02", "--source", "kappa 0.1.0 (git 95f16ea)", "--exit-status", "0 clean."]
        let input = Pipe(), output = Pipe()
        p.standardInput = input
        p.standardOutput = output
        try p.run()
        input.fileHandleForWriting.write(Data(dump.utf8))
        try input.fileHandleForWriting.close()
        let page = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)

        #expect(page.contains(#".TH "KAPPA" 1 "2026\-01\-02" "kappa 0.1.0 (git 95f16ea)""#))
        #expect(page.contains(".SH SYNOPSIS") && page.contains(".SH \"EXIT STATUS\""))
        for sub in try Self.subcommands() { #expect(page.contains(".SS \"kappa \(sub)\""), "no section for \(sub)") }
        for option in ["max-bits", "exit-zero", "inputs", "operator-tolerance", "shard", "plot", "input-shape"] {
            let escaped = "\\fB\\-\\-" + option.replacingOccurrences(of: "-", with: "\\-") + "\\fR"
            #expect(page.contains(escaped), "no \(option)")
        }
        #expect(page.contains(#"measured \[u03BA] instead"#), "κ lost")
        #expect(page.contains(#"\[u03C3]_matrix"#), "σ lost")
        #expect(page.unicodeScalars.allSatisfy { $0.isASCII }, "raw non-ASCII left in the page")
        // Every control line is one the renderer writes: no text line starts with "." or "'".
        let macros = [".TH ", ".SH ", ".SS ", ".PP", ".TP", ".IP", ".nh", ".ad l", ".in ", ".ti ", #".\""#]
        for line in page.split(separator: "\n") where line.hasPrefix(".") || line.hasPrefix("'") {
            #expect(macros.contains { line.hasPrefix($0) }, "stray control line: \(line)")
        }
    }

    // MARK: make install / uninstall

    /// `make -n install` and `make -n uninstall` agree on exactly the five files, under
    /// DESTDIR + PREFIX, in the conventional places.
    @Test func uninstallRemovesExactlyWhatInstallInstalls() throws {
        func dryRun(_ target: String) throws -> String {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["make", "-n", target, "PREFIX=/opt/kp", "DESTDIR=/stage"]
            p.currentDirectoryURL = Self.root
            let out = Pipe()
            p.standardOutput = out
            p.standardError = FileHandle.nullDevice
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            #expect(p.terminationStatus == 0, "make -n \(target) failed")
            return text
        }
        let installed = try dryRun("install").split(separator: "\n")
            .filter { $0.hasPrefix("install -m") }
            .compactMap { $0.split(separator: " ").last.map(String.init) }
        let removed = try dryRun("uninstall").split(separator: "\n")
            .filter { $0.hasPrefix("rm -f") }
            .flatMap { $0.split(separator: " ").dropFirst(2).map(String.init) }
        let expected = [
            "/stage/opt/kp/bin/kappa",
            "/stage/opt/kp/share/bash-completion/completions/kappa",
            "/stage/opt/kp/share/zsh/site-functions/_kappa",
            "/stage/opt/kp/share/fish/vendor_completions.d/kappa.fish",
            "/stage/opt/kp/share/man/man1/kappa.1",
        ]
        #expect(installed.sorted() == expected.sorted())
        #expect(removed.sorted() == expected.sorted())
    }

    // MARK: pre-commit

    @Test func preCommitHooksAreWellFormed() throws {
        let hooks = try Self.sequence(try Yams.load(yaml: try Self.file(".pre-commit-hooks.yaml")), ".pre-commit-hooks.yaml")
        #expect(hooks.count == 2)
        var ids: [String] = []
        for (i, h) in hooks.enumerated() {
            let hook = try Self.mapping(h, "hook \(i)")
            let id = try #require(hook["id"] as? String)
            ids.append(id)
            #expect(!((hook["name"] as? String) ?? "").isEmpty, "\(id): name")
            #expect(!((hook["description"] as? String) ?? "").isEmpty, "\(id): description")
            #expect(hook["entry"] as? String == "kappa check", "\(id): entry")
            #expect(["swift", "system"].contains(hook["language"] as? String ?? ""), "\(id): language")
            #expect(hook["pass_filenames"] as? Bool == true, "\(id): pass_filenames")
            #expect(hook["args"] == nil, "\(id): the budget is the user's to set")
            let files = try Regex(try #require(hook["files"] as? String))
            for path in ["model.onnx", "models/sub/net.onnx"] { #expect(path.contains(files), "\(id) skips \(path)") }
            for path in ["model.onnx.txt", "onnx.md", "model.pb"] { #expect(!path.contains(files), "\(id) takes \(path)") }
        }
        #expect(ids == ["kappa-check", "kappa-check-system"])
    }

    /// The README's .pre-commit-config.yaml names a hook that exists and sets the budget.
    @Test func readmePreCommitConfigUsesADefinedHook() throws {
        let defined = try Self.sequence(try Yams.load(yaml: try Self.file(".pre-commit-hooks.yaml")), "hooks")
            .compactMap { try? Self.mapping($0, "hook")["id"] as? String }
        let configs = try Self.readmeYAMLBlocks().compactMap { block -> [String: Any]? in
            let m = try? Self.mapping(try Yams.load(yaml: block), "block")
            return m?["repos"] == nil ? nil : m
        }
        let config = try #require(configs.first, "README has no .pre-commit-config.yaml block")
        let repo = try Self.mapping(try Self.sequence(config["repos"], "repos").first, "repo")
        #expect(repo["repo"] is String && repo["rev"] != nil)
        let hooks = try Self.sequence(repo["hooks"], "hooks").map { try Self.mapping($0, "hook") }
        #expect(!hooks.isEmpty)
        for hook in hooks {
            #expect(defined.contains(hook["id"] as? String ?? ""))
            let args = (hook["args"] as? [Any] ?? []).map { "\($0)" }
            #expect(args.first == "--max-bits" && args.count >= 2 && Int(args[1]) != nil, "args \(args)")
        }
        let readme = try Self.file("README.md")
        for id in defined { #expect(readme.contains("`\(id)`"), "README does not document \(id)") }
    }

    // MARK: GitHub Action

    static func action() throws -> [String: Any] {
        try Self.mapping(try Yams.load(yaml: try Self.file("action.yml")), "action.yml")
    }

    @Test func actionIsAWellFormedCompositeAction() throws {
        let action = try Self.action()
        #expect(!((action["name"] as? String) ?? "").isEmpty)
        #expect(!((action["description"] as? String) ?? "").isEmpty)

        let inputs = try Self.mapping(action["inputs"], "inputs")
        #expect(Set(inputs.keys) == ["models", "max-bits", "format", "sarif", "extra-args", "version"])
        for (name, value) in inputs {
            let input = try Self.mapping(value, "input \(name)")
            #expect(!((input["description"] as? String) ?? "").isEmpty, "input \(name) has no description")
        }
        #expect(try Self.mapping(inputs["max-bits"], "max-bits")["required"] as? Bool == true)
        #expect(try Self.mapping(inputs["models"], "models")["default"] as? String == "**/*.onnx")
        #expect(try Self.mapping(inputs["format"], "format")["default"] as? String == "github")

        let runs = try Self.mapping(action["runs"], "runs")
        #expect(runs["using"] as? String == "composite")
        let steps = try Self.sequence(runs["steps"], "steps").map { try Self.mapping($0, "step") }
        #expect(!steps.isEmpty)
        let declared = Set(inputs.keys)
        for step in steps {
            let name = step["name"] as? String ?? "?"
            #expect(step["name"] is String, "a step has no name")
            #expect((step["run"] == nil) != (step["uses"] == nil), "\(name): exactly one of run/uses")
            if let run = step["run"] as? String {
                #expect(step["shell"] as? String == "bash", "\(name): shell: bash")
                // Inputs reach scripts through env:, never pasted into the script text.
                #expect(!run.contains("${{"), "\(name): expression inside run:")
            }
            // Every inputs.X an expression names is declared.
            let text = "\(step)"
            for match in text.matches(of: #/inputs\.([a-z-]+)/#) {
                #expect(declared.contains(String(match.1)), "\(name) uses undeclared input \(match.1)")
            }
        }
        let upload = steps.first { ($0["uses"] as? String)?.hasPrefix("github/codeql-action/upload-sarif@") == true }
        let uploadStep = try #require(upload, "no upload-sarif step")
        #expect(uploadStep["if"] as? String == "inputs.sarif != ''")
        #expect(try Self.mapping(uploadStep["with"], "with")["sarif_file"] as? String == "${{ inputs.sarif }}")
    }

    /// The commands the action runs are the README's: `make deps`, `make release`,
    /// `.build/release/kappa check`, and `--format sarif -o` for the SARIF step.
    @Test func actionRunsTheCommandsTheReadmeDocuments() throws {
        let steps = try Self.sequence(try Self.mapping(try Self.action()["runs"], "runs")["steps"], "steps")
            .map { try Self.mapping($0, "step") }
        let scripts = steps.compactMap { $0["run"] as? String }.joined(separator: "\n")
        let readme = try Self.file("README.md")
        for command in ["make deps", "make release", ".build/release/kappa check"] {
            #expect(scripts.contains(command), "action does not run \(command)")
            #expect(readme.contains("`\(command)`"), "README does not document \(command)")
        }
        #expect(scripts.contains("--format sarif -o \"$SARIF\" --exit-zero"))
        #expect(readme.contains("--format sarif -o PATH --exit-zero"))
        for target in ["deps:", "release:"] {
            #expect(try Self.file("Makefile").contains("\n\(target)"), "Makefile has no \(target)")
        }
    }

    /// The README's workflow uses the action with its required input and declared inputs only.
    @Test func readmeWorkflowUsesTheActionsInputs() throws {
        let inputs = try Self.mapping(try Self.action()["inputs"], "inputs")
        let workflows = try Self.readmeYAMLBlocks().compactMap { block -> [String: Any]? in
            let m = try? Self.mapping(try Yams.load(yaml: block), "block")
            return m?["jobs"] == nil ? nil : m
        }
        let workflow = try #require(workflows.first, "README has no workflow block")
        var uses: [[String: Any]] = []
        for (_, job) in try Self.mapping(workflow["jobs"], "jobs") {
            for step in try Self.sequence(try Self.mapping(job, "job")["steps"], "steps") {
                let s = try Self.mapping(step, "step")
                if (s["uses"] as? String)?.contains("/kappa@") == true { uses.append(s) }
            }
        }
        let step = try #require(uses.first, "the workflow does not use the action")
        let with = try Self.mapping(step["with"], "with")
        #expect(with["max-bits"] != nil)
        for key in with.keys { #expect(inputs[key] != nil, "workflow passes undeclared input \(key)") }
    }
}
