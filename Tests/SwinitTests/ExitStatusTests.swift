// SPDX-License-Identifier: Apache-2.0
// swinit exits with its child's status: the code, 128+N for signal N, and
// 126/127 for programs that cannot be run, like a shell.
import Foundation
import Testing

@Suite("exit status", rootOnly, .serialized)
struct ExitStatusTests {
    @Test("the child's exit code comes back", arguments: InitBuild.allCases, [0, 1, 42, 255])
    func exitCodePassesThrough(build: InitBuild, code: Int) throws {
        let asChild = try run(build.path, ["--", probe, "exit", "\(code)"])
        #expect(asChild.status == Int32(code))
        let asPID1 = try runAsPID1(build, ["--", probe, "exit", "\(code)"])
        #expect(asPID1.status == Int32(code))
    }

    @Test("a death by signal N gives 128+N", arguments: InitBuild.allCases, [SIGHUP, SIGINT, SIGKILL, SIGUSR1, SIGTERM])
    func signalDeathGives128PlusN(build: InitBuild, signal: Int32) throws {
        let result = try runAsPID1(build, ["--", probe, "kill-self", "\(signal)"])
        #expect(result.status == 128 + signal)
    }

    @Test("an abort()ing child gives 134", arguments: InitBuild.allCases)
    func abortGives134(build: InitBuild) throws {
        #expect(try run(build.path, ["--", probe, "abort"]).status == 134)
    }

    @Test("a program that is not found gives 127 and says why", arguments: InitBuild.allCases)
    func notFoundGives127(build: InitBuild) throws {
        let result = try runAlone(build, ["--", "/nonexistent/program"])
        #expect(result.status == 127)
        #expect(result.stderr == "[swinit] error: exec /nonexistent/program: No such file or directory\n")
        #expect(result.stdout.isEmpty)
    }

    @Test("a program that cannot be executed gives 126 and says why", arguments: InitBuild.allCases)
    func notExecutableGives126(build: InitBuild) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let script = directory + "/not-executable"
        try "#!/bin/sh\nexit 0\n".write(toFile: script, atomically: true, encoding: .utf8)
        let result = try runAlone(build, ["--", script])
        #expect(result.status == 126)
        #expect(result.stderr == "[swinit] error: exec \(script): Permission denied\n")
    }

    @Test("-e CODE reports CODE as 0, and only CODE", arguments: InitBuild.allCases)
    func remapExitCode(build: InitBuild) throws {
        #expect(try run(build.path, ["-e", "3", "--", probe, "exit", "3"]).status == 0)
        #expect(try run(build.path, ["-e", "3", "-e", "143", "--", probe, "kill-self", "15"]).status == 0)
        #expect(try run(build.path, ["--remap-exit", "3", "--", probe, "exit", "4"]).status == 4)
    }

    @Test("-g is accepted (group delivery is the default)", arguments: InitBuild.allCases)
    func tiniGroupFlagIsAccepted(build: InitBuild) throws {
        #expect(try run(build.path, ["-g", "--", probe, "exit", "9"]).status == 9)
    }

    @Test("many children exiting with the main child never hang swinit", arguments: InitBuild.allCases)
    func coalescedExitsDoNotHang(build: InitBuild) throws {
        let script = "for i in $(seq 300); do (exit 0) & done; exit 5"
        #expect(try runAsPID1(build, ["--", "/bin/sh", "-c", script]).status == 5)
        #expect(try run(build.path, ["--", "/bin/sh", "-c", script]).status == 5)
    }
}

/// Runs swinit where its stderr holds only its own errors: directly, or under
/// qemu-user (which cannot make it a subreaper, a warning when not PID 1) as
/// PID 1 of a fresh pid namespace.
func runAlone(_ build: InitBuild, _ arguments: [String]) throws -> Finished {
    try InitBuild.qemu == nil ? run(build.path, arguments) : runAsPID1(build, arguments)
}
