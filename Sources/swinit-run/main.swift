// SPDX-License-Identifier: Apache-2.0
// swinit-run's entry: stage 2 (the hidden re-exec inside the new PID
// namespace) and the terminal guard of -it skip argument parsing entirely;
// everything else is the CLI.
import SwinitRuntime

let arguments = CommandLine.arguments
if arguments.count > 1 && arguments[1] == ContainerSpec.stage2Marker {
    Stage2.main(arguments: arguments.dropFirst(2))
}
if arguments.count == 2 && arguments[1] == TerminalGuard.marker {
    TerminalGuard.main()
}
SwinitRun.main()
