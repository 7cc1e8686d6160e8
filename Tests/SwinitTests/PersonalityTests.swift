// SPDX-License-Identifier: Apache-2.0
// swinit under the names engines give their init: `docker-init` and
// `podman-init` follow tini's rules (child-only delivery unless
// TINI_KILL_PROCESS_GROUP is set), `pause` is pause mode; and the
// environment never stops the program: a bad value is one warning.
import Foundation
import Testing

/// A temporary directory holding `name` as a symlink to the build under test.
final class RenamedInit {
    let directory: String
    let path: String

    init(_ build: InitBuild, as name: String) throws {
        let directory = try makeTemporaryDirectory()
        self.directory = directory
        path = directory + "/" + name
        do {
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: build.path)
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }
}

@Suite("names and environment", rootOnly, .serialized)
struct PersonalityTests {
    /// Who gets SIGUSR1, for a name, an environment and options:
    /// (name, environment, options, whether the group gets it).
    static let deliveries: [(String, [String: String], [String], Bool)] = [
        ("swinit", [:], [], true),
        ("swinit", ["SWINIT_KILL_PROCESS_GROUP": "0"], [], false),
        ("swinit", ["SWINIT_KILL_PROCESS_GROUP": "0"], ["-g"], true),
        ("docker-init", [:], [], false),
        ("podman-init", [:], [], false),
        ("docker-init", ["TINI_KILL_PROCESS_GROUP": "0"], [], true),  // set, whatever its value
        ("podman-init", ["TINI_KILL_PROCESS_GROUP": ""], [], true),
        ("docker-init", ["SWINIT_KILL_PROCESS_GROUP": "1"], [], true),
        ("docker-init", ["TINI_KILL_PROCESS_GROUP": "1", "SWINIT_KILL_PROCESS_GROUP": "0"], [], false),
        ("docker-init", ["SWINIT_KILL_PROCESS_GROUP": "1"], ["-c"], false),
        ("docker-init", [:], ["-g"], true),
    ]

    @Test("the name chooses who gets a forwarded signal; the environment, then -g/-c, can change it",
          arguments: InitBuild.allCases, deliveries)
    func deliveryByName(build: InitBuild, delivery: (String, [String: String], [String], Bool)) throws {
        let (name, environment, options, toGroup) = delivery
        let renamed = try RenamedInit(build, as: name)
        let (spawned, reporters, swinit) = try startSignalReporters(
            build, options, helpers: 1, asPID1: true, path: renamed.path, environment: environment)
        try #require(reporters.count == 2)
        // The reporters print their pids as seen in the namespace; the main
        // child is the lower one (it forks the helper).
        let main = reporters.min()!, helper = reporters.max()!
        kill(swinit, SIGUSR1)
        #expect(spawned.line(containing: "signal \(SIGUSR1) pid \(main)") != nil, "the child always gets it")
        let helperGotIt = spawned.line(containing: "signal \(SIGUSR1) pid \(helper)", within: toGroup ? 10 : 0.5) != nil
        #expect(helperGotIt == toGroup, "\(name) \(environment) \(options): the rest of the group \(toGroup ? "gets" : "does not get") it")
        kill(swinit, SIGTERM)
        #expect(spawned.waitForExit() != nil)
    }

    @Test("tini's names, as PID 1, reap orphans and report exit statuses", arguments: InitBuild.allCases, ["docker-init", "podman-init"])
    func engineNamesStillReap(build: InitBuild, name: String) throws {
        let renamed = try RenamedInit(build, as: name)
        let result = try runAsPID1Path(renamed.path, ["--", "/bin/sh", "-c", "(sleep 0.2 &); sleep 0.5; ps -o stat= | grep -c Z; exit 5"])
        #expect(result.status == 5)
        #expect(result.stdout == "0\n", "no zombie left")
    }

    @Test("as pause, with no arguments, it is the pause process: reaps until SIGTERM, exits 0", arguments: InitBuild.allCases)
    func pauseByName(build: InitBuild) throws {
        let renamed = try RenamedInit(build, as: "pause")
        let spawned = try Spawned("/usr/bin/unshare", ["--pid", "--fork", "--mount-proc", "--kill-child", renamed.path, "-v"])
        var swinit: pid_t = -1
        #expect(eventually { swinit = children(of: spawned.pid).first ?? -1; return swinit > 0 && waitsForSignals(swinit) })
        kill(swinit, SIGTERM)
        #expect(spawned.waitForExit() == 0)
        let stderr = spawned.remainingOutput().stderr
        #expect(stderr.contains("[swinit] info: pause mode: reaping orphans until SIGTERM or SIGINT\n"))
        // A program is a usage error, as with -P.
        let withProgram = try run(renamed.path, ["true"])
        #expect(withProgram.status == 2)
        #expect(withProgram.stderr.contains("pause mode runs no program, but one was given: true"))
    }

    /// (variable, value, the warning's tail after "NAME=\"VALUE\" ").
    static let badValues: [(String, String, String)] = [
        ("TINI_VERBOSITY", "abc", "is not a verbosity (0-3); using 1"),
        ("TINI_VERBOSITY", "", "is not a verbosity (0-3); using 1"),
        ("TINI_VERBOSITY", "-1", "is not a verbosity (0-3); using 1"),
        ("SWINIT_VERBOSITY", "x", "is not a verbosity (0-3); using 1"),
        ("SWINIT_SUBREAPER", "maybe", "is not 1 or 0; using automatic"),
        ("SWINIT_GRACE_PERIOD", "5s", "is not a whole number of seconds; using 0"),
        ("SWINIT_GRACE_PERIOD", "-3", "is not a whole number of seconds; using 0"),
        ("SWINIT_KILL_PROCESS_GROUP", "2", "is not 1 or 0; using 1"),
    ]

    @Test("a bad environment value is one warning naming it and the value used, and the program runs",
          arguments: InitBuild.allCases, badValues)
    func badEnvironmentIsOneWarning(build: InitBuild, bad: (String, String, String)) throws {
        let (name, value, tail) = bad
        let result = try runAsPID1(build, ["--", probe, "exit", "7"], environment: [name: value])
        #expect(result.status == 7)
        #expect(result.stderr == "[swinit] warning: \(name)=\"\(value)\" \(tail)\n")
    }

    @Test("-v and TINI_VERBOSITY=2 say what started with which pid and how it ended", arguments: InitBuild.allCases)
    func infoLines(build: InitBuild) throws {
        for (options, environment) in [(["-v"], [String: String]()), ([], ["TINI_VERBOSITY": "2"])] {
            let exited = try runAsPID1(build, options + ["--", probe, "exit", "3"], environment: environment)
            #expect(exited.status == 3)
            // The pid in the namespace: 2, or 3 under qemu-user (its own thread is 2).
            let started = try #require(exited.stderr.firstMatch(of: /\[swinit\] info: started (.+) as pid (\d+)\n/))
            #expect(started.output.1 == probe)
            #expect(exited.stderr == "\(started.output.0)[swinit] info: main child \(started.output.2) exited with status 3\n")
            let killed = try runAsPID1(build, options + ["--", probe, "kill-self", "15"], environment: environment)
            #expect(killed.status == 143)
            #expect(killed.stderr.wholeMatch(
                of: /\[swinit\] info: started .+ as pid (\d+)\n\[swinit\] info: main child \1 killed by SIGTERM \(status 143\)\n/) != nil)
        }
    }

    @Test("every log line carries its level", arguments: InitBuild.allCases)
    func everyLineHasALevel(build: InitBuild) throws {
        let stubborn = "\"$0\" ignore 15 \"$0\" sleep 60000 & sleep 0.3; exit 3"
        let result = try runAsPID1(build, ["-vvv", "-t", "1", "--", "/bin/sh", "-c", stubborn, probe],
                                   environment: ["SWINIT_SUBREAPER": "maybe"])
        #expect(result.status == 3)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.contains("[swinit] info: grace period over: sending SIGKILL to what is left"))
        #expect(lines.contains { $0.hasPrefix("[swinit] warning: SWINIT_SUBREAPER=") })
        for line in lines {
            #expect(line.wholeMatch(of: /\[swinit\] (error|warning|info|debug): .+/) != nil, "\(line)")
        }
    }
}

/// Runs `path ARGS` as PID 1 of a fresh pid namespace.
func runAsPID1Path(_ path: String, _ arguments: [String], environment: [String: String]? = nil) throws -> Finished {
    try run("/usr/bin/unshare", ["--pid", "--fork", "--mount-proc", "--kill-child", path] + arguments, environment: environment)
}
