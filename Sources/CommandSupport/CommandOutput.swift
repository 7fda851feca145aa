import ArgumentParser
import Foundation

/// The output convention of every CLI (contract §1): with `--json`, exactly one JSON object on stdout;
/// a refused operation exits non-zero with one clear line on stderr and, with `--json`,
/// `{"error": {"code", "message"}}` on stdout.
public enum CommandOutput {
    /// An error the CLI reports with a machine-readable code.
    public protocol CodedError: Error, CustomStringConvertible {
        var code: String { get }
    }

    public struct Refusal: CodedError {
        public let code: String
        public let description: String
        public init(code: String, _ message: String) {
            self.code = code
            self.description = message
        }
    }

    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// Prints `{"<name>": value}` as one line.
    public static func printJSON<T: Encodable>(_ name: String, _ value: T) throws {
        let data = try encoder().encode([name: value])
        FileHandle.standardOutput.write(data)
        FileHandle.standardOutput.write(Data("\n".utf8))
    }

    public static func printLine(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }

    /// Reports a refusal and exits non-zero.
    public static func fail(_ error: Error, json: Bool) -> Never {
        let code = (error as? CodedError)?.code ?? "error"
        let message = String(describing: error).replacingOccurrences(of: "\n", with: " ")
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        if json, let data = try? encoder().encode(["error": ["code": code, "message": message]]) {
            FileHandle.standardOutput.write(data)
            FileHandle.standardOutput.write(Data("\n".utf8))
        }
        Foundation.exit(1)
    }

    /// `--help`, `help VERB` and `--version`: the text on stdout, exit 0.
    static func helpAndExit<Root: ParsableCommand>(_ root: Root.Type, _ error: Error) -> Never {
        printLine(root.fullMessage(for: error))
        Foundation.exit(0)
    }

    /// Parses the arguments; argument errors are refusals like any other, `--help` exits 0.
    static func parse<Root: ParsableCommand>(_ root: Root.Type, _ arguments: [String], json: Bool) -> ParsableCommand {
        do {
            return try root.parseAsRoot(arguments)
        } catch {
            if root.exitCode(for: error) == .success { helpAndExit(root, error) }
            let message = root.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
            fail(Refusal(code: "usage", message), json: json)
        }
    }

    /// Ends the process after a command threw.
    static func exit<Root: ParsableCommand>(_ root: Root.Type, after error: Error, json: Bool) -> Never {
        switch error {
        case let clean as CleanExit: root.exit(withError: clean)
        case let code as ExitCode: Foundation.exit(code.rawValue)
        default:
            // `help VERB` parses into ArgumentParser's help command, whose run throws the help request.
            if root.exitCode(for: error) == .success { helpAndExit(root, error) }
            fail(error, json: json)
        }
    }

    /// Parses and runs a root command with these conventions, including for argument errors.
    public static func main<Root: ParsableCommand>(_ root: Root.Type, arguments: [String] = Array(CommandLine.arguments.dropFirst())) -> Never {
        let json = arguments.contains("--json")
        var command = parse(root, arguments, json: json)
        do {
            try command.run()
            Foundation.exit(0)
        } catch {
            exit(root, after: error, json: json)
        }
    }

    /// The same for a root command with async subcommands.
    public static func mainAsync<Root: AsyncParsableCommand>(_ root: Root.Type,
                                                           arguments: [String] = Array(CommandLine.arguments.dropFirst())) async -> Never {
        let json = arguments.contains("--json")
        var command = parse(root, arguments, json: json)
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch {
            exit(root, after: error, json: json)
        }
    }
}
