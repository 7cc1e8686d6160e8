// SPDX-License-Identifier: Apache-2.0
// swinit-run's entry: stage 2 (the hidden re-exec inside the new PID
// namespace) and the terminal guard of -it skip argument parsing entirely;
// everything else is the CLI.
import ArgumentParser
import Glibc
import SwinitRuntime

let arguments = CommandLine.arguments
if arguments.count > 1 && arguments[1] == ContainerSpec.stage2Marker {
    Stage2.main(arguments: arguments.dropFirst(2))
}
if arguments.count == 2 && arguments[1] == TerminalGuard.marker {
    TerminalGuard.main()
}

// ArgumentParser's own errors print as `Error: …` plus the usage; every
// error of swinit-run is one line `swinit-run: …` instead.
// `swinit-run --help` is the run command's help (the default subcommand's), plus the rest.
if let first = arguments.dropFirst().first, first == "--help" || first == "-h" {
    standardOutput(SwinitRun.helpMessage() + """

        SUBCOMMANDS:
          run (default)           this command; `swinit-run run …` is the same
          image load|ls|rm|prune  the image store (see swinit-run image --help)
        """)
    Glibc.exit(0)
}

// A run — the hot path — is parsed by the run command alone: the whole
// tree (image and its subcommands) costs its start-up most of a
// millisecond. A completion-script request goes to the whole tree.
let subcommands = ["run", "image", "help", "--generate-completion-script"]
let parser: ParsableCommand.Type = subcommands.contains(arguments.dropFirst().first ?? "")
    ? SwinitRunCommands.self : SwinitRun.self
do {
    var command = try parser.parseAsRoot()
    try command.run()
} catch let exit as ExitCode {
    Glibc.exit(exit.rawValue)
} catch {
    let code = parser.exitCode(for: error)
    if code == .success {
        standardOutput(parser.fullMessage(for: error))
        Glibc.exit(0)
    }
    var message = parser.message(for: error)
    if let first = message.first, first.isUppercase, message.dropFirst().first?.isLowercase == true {
        message = first.lowercased() + message.dropFirst()
    }
    Diagnostics.print("swinit-run: " + message.split(separator: "\n").joined(separator: "; "))
    Glibc.exit(code.rawValue)
}
