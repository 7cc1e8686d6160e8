// SPDX-License-Identifier: Apache-2.0
// The command line through the real binary: usage errors start nothing,
// --version/--help/--license print on stdout, parsing stops at the program.
import Foundation
import Testing

@Suite("command line", rootOnly, .serialized)
struct CommandLineTests {
    static let badInvocations: [([String], String)] = [
        (["-x", "--", "true"], "unknown option: -x"),
        (["--bogus", "true"], "unknown option: --bogus"),
        (["-p", "SIGFOO", "--", "true"], "unknown signal: SIGFOO"),
        (["-e", "300", "--", "true"], "exit code must be 0-255: 300"),
        (["-e", "abc", "--", "true"], "exit code must be 0-255: abc"),
        (["-r", "USR1", "--", "true"], "rewrite must be FROM:TO: USR1"),
        (["-r", "NOPE:USR2", "--", "true"], "rewrite names an unknown signal (or SIGCHLD, SIGKILL, SIGSTOP): NOPE:USR2"),
        (["-r", "KILL:TERM", "--", "true"], "rewrite names an unknown signal (or SIGCHLD, SIGKILL, SIGSTOP): KILL:TERM"),
        (["-t", "-1", "--", "true"], "grace period must be a whole number of seconds: -1"),
        (["-t"], "option needs a value: -t"),
        ([], "missing program to run"),
        (["-v", "--"], "missing program to run"),
        (["-P", "true"], "pause mode runs no program, but one was given: touch"),
        (["--pause=1"], "option takes no value: --pause=1"),
        (["--single-child=yes", "true"], "option takes no value: --single-child=yes"),
        (["--grace-period=", "true"], "grace period must be a whole number of seconds: "),
    ]

    @Test("bad input gives one line, a hint, exit 2, and starts nothing", arguments: InitBuild.allCases, badInvocations)
    func badInputIsAUsageError(build: InitBuild, invocation: ([String], String)) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let marker = directory + "/started"
        // If swinit started anything, "touch" would leave the marker behind.
        let arguments = invocation.0.flatMap { $0 == "true" ? ["touch", marker] : [$0] }
        let result = try run(build.path, arguments)
        #expect(result.status == 2)
        #expect(result.stderr == "[swinit] error: \(invocation.1) (try 'swinit --help')\n")
        #expect(result.stdout.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    @Test("--version prints the line dockerd's init-version parser accepts", arguments: InitBuild.allCases)
    func versionLooksLikeTini(build: InitBuild) throws {
        let result = try run(build.path, ["--version"])
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty)
        #expect(result.stdout.wholeMatch(of: /tini version \d+\.\d+\.\d+ - git\.swinit\n/) != nil)
    }

    @Test("--help and --license print on stdout and exit 0", arguments: InitBuild.allCases)
    func helpAndLicense(build: InitBuild) throws {
        for flag in ["-h", "--help"] {
            let result = try run(build.path, [flag])
            #expect(result.status == 0)
            #expect(result.stdout.hasPrefix("Usage: swinit [OPTIONS] [--] PROGRAM [ARGS...]\n"))
            #expect(result.stdout.contains("--grace-period SECS"))
            #expect(result.stderr.isEmpty)
        }
        for flag in ["-l", "--license"] {
            let result = try run(build.path, [flag])
            #expect(result.status == 0)
            #expect(result.stdout.contains("Apache License, Version 2.0"))
        }
    }

    @Test("--help, --version and --license fail (exit 1) when stdout cannot take them", arguments: InitBuild.allCases)
    func textToAFullStdoutFails(build: InitBuild) throws {
        for flag in ["--help", "--version", "--license"] {
            let result = try run("/bin/sh", ["-c", "exec \"$0\" \"$1\" >/dev/full", build.path, flag])
            #expect(result.status == 1, "\(flag)")
        }
    }

    @Test("option parsing stops at the first non-option", arguments: InitBuild.allCases)
    func parsingStopsAtProgram(build: InitBuild) throws {
        // tini and catatonit would take sh's -c as their own option.
        let result = try run(build.path, ["/bin/sh", "-c", "echo $0 $1; exit 7", "zero", "-v"])
        #expect(result.status == 7)
        #expect(result.stdout == "zero -v\n")
    }

    @Test("short options cluster and take attached values; long ones take =", arguments: InitBuild.allCases)
    func optionSpellings(build: InitBuild) throws {
        #expect(try run(build.path, ["-we3", probe, "exit", "3"]).status == 0)
        #expect(try run(build.path, ["--remap-exit=3", probe, "exit", "3"]).status == 0)
        #expect(try run(build.path, ["-t1", "-pKILL", probe, "exit", "4"]).status == 4)
    }

    @Test("logs go to stderr only, one [swinit] line each, gated by -v/-q", arguments: InitBuild.allCases)
    func logsAreLevelledLinesOnStderr(build: InitBuild) throws {
        let verbose = try run(build.path, ["-vv", "--no-subreaper", "--", probe, "exit", "0"])
        #expect(verbose.stdout.isEmpty)
        let lines = verbose.stderr.split(separator: "\n")
        #expect(lines.count >= 3)
        #expect(lines.allSatisfy { $0.hasPrefix("[swinit] ") })
        #expect(lines.contains { $0.hasPrefix("[swinit] info: started ") })
        // Default: warnings only; -q: not even those.
        let normal = try run(build.path, ["--no-subreaper", "--", probe, "exit", "0"])
        #expect(normal.stderr.contains("[swinit] warning: not PID 1 and not a subreaper"))
        #expect(!normal.stderr.contains("debug:"))
        let quiet = try run(build.path, ["-q", "--no-subreaper", "--", probe, "exit", "0"])
        #expect(quiet.stderr.isEmpty)
    }

    @Test("SWINIT_VERBOSITY and TINI_VERBOSITY set the log level", arguments: InitBuild.allCases)
    func verbosityFromEnvironment(build: InitBuild) throws {
        for name in ["SWINIT_VERBOSITY", "TINI_VERBOSITY"] {
            let loud = try run(build.path, [probe, "exit", "0"], environment: [name: "3"])
            #expect(loud.stderr.contains("[swinit] info: started "))
            let silent = try run(build.path, ["--no-subreaper", probe, "exit", "0"], environment: [name: "0"])
            #expect(silent.stderr.isEmpty)
        }
    }
}
