// SPDX-License-Identifier: Apache-2.0
// Entry point of the host-mode build (`swift build`). The static Embedded
// build has no CommandLine and enters through Init.swift's C `main` instead.
import CSwinit

exit(swinitMain(CommandLine.argc, CommandLine.unsafeArgv))
