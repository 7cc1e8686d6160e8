// SPDX-License-Identifier: Apache-2.0
// swinit as the init of real engines: a private dockerd 20.10 with
// `--init-path` (one with swinit, one with Debian's tini-static, so every
// scenario shows the same result for both), docker-compose's `init: true`,
// podman's `--init --init-path`, and a podman pod whose pause process is
// swinit. The engines come from scripts/engines.sh (see EngineSupport.swift).
import Foundation
import Testing

@Suite("Docker with swinit and with tini as its init", rootOnly, enginesAvailable)
struct DockerInitTests {
    /// `docker run --rm --init --network none IMAGE ARGS`.
    func runInit(_ initKind: EngineInit, options: [String] = [], _ arguments: [String]) throws -> Finished {
        try #require(Engines.dockerImages[initKind] == true, "docker import of the busybox root")
        return try docker(initKind, ["run", "--rm", "--init", "--network", "none"] + options + [Engines.image] + arguments)
    }

    /// `docker run -d --init …`, removed (by name) when `body` is done.
    func withDetached(_ initKind: EngineInit, options: [String] = [], withInit: Bool = true, _ arguments: [String],
                      _ body: (String) throws -> Void) throws {
        try #require(Engines.dockerImages[initKind] == true, "docker import of the busybox root")
        let name = uniqueName("docker")
        let started = try docker(initKind, ["run", "-d", "--name", name, "--network", "none"] + (withInit ? ["--init"] : [])
                                 + options + [Engines.image] + arguments)
        defer { _ = try? docker(initKind, ["rm", "-f", name]) }
        try #require(started.status == 0, "docker run -d: \(started.stderr)")
        try body(name)
    }

    @Test("docker info accepts the init (its --version parses as tini's)", arguments: EngineInit.allCases)
    func infoAcceptsTheInit(initKind: EngineInit) throws {
        let info = try docker(initKind, ["info", "--format", "{{.InitBinary}}|{{.InitCommit.ID}}|{{.InitCommit.Expected}}|{{.Warnings}}"])
        #expect(info.status == 0)
        let fields = info.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "|", omittingEmptySubsequences: false)
        try #require(fields.count == 4, "\(info.stdout)")
        #expect(fields[0] == initKind.path)
        #expect(fields[1] == fields[2], "the version dockerd read matches what it expects")
        #expect(!fields[3].lowercased().contains("init"), "no warning about the init")
        if initKind == .swinit { #expect(fields[1] == "swinit") }
    }

    @Test("PID 1 is the init, and the command is its child", arguments: EngineInit.allCases)
    func initIsPID1(initKind: EngineInit) throws {
        let result = try runInit(initKind, ["ps", "-o", "pid,ppid,args"])
        #expect(result.status == 0)
        let rows: [[String]] = result.stdout.split(separator: "\n").dropFirst().map { row in
            row.split(separator: " ", maxSplits: 2).map { String($0) }
        }
        #expect(rows.first == ["1", "0", "/sbin/docker-init -- ps -o pid,ppid,args"])
        #expect(rows.contains { $0.count == 3 && $0[1] == "1" && $0[2] == "ps -o pid,ppid,args" })
    }

    @Test("orphans are reaped (and without --init they stay zombies)", arguments: EngineInit.allCases)
    func orphansAreReaped(initKind: EngineInit) throws {
        // 20 orphans, then PID 1's child execs a program that never waits.
        let script = "for i in $(seq 20); do (sleep 0.1 &); done; echo started; exec sleep 30"
        for withInit in [true, false] {
            try withDetached(initKind, withInit: withInit, ["sh", "-c", script]) { name in
                #expect(logs(of: name, contain: "started") { try docker(initKind, $0) })
                Thread.sleep(forTimeInterval: 1)
                let zombies = try docker(initKind, ["exec", name, "sh", "-c", "ps -o stat= | grep -c Z || true"])
                let count = Int(zombies.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
                if withInit {
                    #expect(count == 0, "the init reaped every orphan")
                } else if initKind == .swinit {
                    #expect(count == 20, "the control: with sleep as PID 1, all 20 stay zombies")
                }
            }
        }
    }

    @Test("docker stop: 143 at once; with a TERM trap, the trap's status", arguments: EngineInit.allCases)
    func dockerStop(initKind: EngineInit) throws {
        for (command, expected) in [("echo ready; exec sleep 60", "143"), ("trap 'exit 42' TERM; echo ready; sleep 60 & wait", "42")] {
            try withDetached(initKind, ["sh", "-c", command]) { name in
                #expect(logs(of: name, contain: "ready") { try docker(initKind, $0) })
                let started = Date()
                let stop = try docker(initKind, ["stop", "-t", "10", name])
                let elapsed = Date().timeIntervalSince(started)
                #expect(stop.status == 0)
                #expect(elapsed < 3, "well under the 10 s timeout: \(elapsed) s")
                let code = try docker(initKind, ["inspect", "-f", "{{.State.ExitCode}}", name])
                #expect(code.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == expected, "\(command)")
            }
        }
    }

    /// A trap for USR1 in sh, a `sleep` beside it; prints the trap, then the sleep's status.
    static let usr1Script = """
        trap 'echo trapped USR1' USR1; sleep 3 & pid=$!; echo ready; wait $pid; wait $pid; echo sleep-status $?
        """

    @Test("docker kill -s USR1 reaches the trap and leaves the sleep alone; with TINI_KILL_PROCESS_GROUP, the group",
          arguments: EngineInit.allCases)
    func dockerKillUSR1(initKind: EngineInit) throws {
        for (options, sleepStatus) in [([String](), "0"), (["-e", "TINI_KILL_PROCESS_GROUP=1"], "138")] {
            try withDetached(initKind, options: options, ["sh", "-c", Self.usr1Script]) { name in
                #expect(logs(of: name, contain: "ready") { try docker(initKind, $0) })
                #expect(try docker(initKind, ["kill", "-s", "USR1", name]).status == 0)
                #expect(logs(of: name, contain: "sleep-status") { try docker(initKind, $0) })
                let output = try docker(initKind, ["logs", name]).stdout
                #expect(output.contains("trapped USR1\n"), "\(options)")
                #expect(output.contains("sleep-status \(sleepStatus)\n"), "\(options): \(output)")
            }
        }
    }

    static let statuses: [(String, [String], Int32)] = [
        ("exit 3", ["sh", "-c", "exit 3"], 3),
        ("SIGKILL", ["sh", "-c", "kill -KILL $$"], 137),
        ("SIGTERM", ["sh", "-c", "kill -TERM $$"], 143),
        ("SIGSEGV", ["sh", "-c", "kill -SEGV $$"], 139),
        ("not found", ["/nonexistent"], 127),
        ("not executable", ["/etc/passwd"], 126),
    ]

    @Test("exit statuses come back as the shell's", arguments: EngineInit.allCases)
    func exitStatuses(initKind: EngineInit) throws {
        for (label, command, expected) in Self.statuses {
            #expect(try runInit(initKind, command).status == expected, "\(label)")
        }
    }

    @Test("docker run -it, Ctrl-C: 130", arguments: EngineInit.allCases)
    func interactiveCtrlC(initKind: EngineInit) throws {
        try #require(Engines.dockerImages[initKind] == true)
        // The probe holds the pty's master side: docker's stdin is a terminal.
        let session = try Spawned(probe, ["pty", "/usr/bin/docker", "-H", initKind.dockerHost, "run", "--rm", "-it", "--init",
                                          "--network", "none", Engines.image, "sh", "-c", "echo ready; exec sleep 30"])
        #expect(session.line(containing: "ready", within: 30) != nil)
        Thread.sleep(forTimeInterval: 0.3)
        session.send("\u{03}")
        #expect(session.waitForExit(within: 20) == 130)
    }

    @Test("malformed TINI_* and SWINIT_* values still run the command", arguments: EngineInit.allCases)
    func malformedEnvironmentStillRuns(initKind: EngineInit) throws {
        let environment = ["TINI_VERBOSITY=abc", "SWINIT_VERBOSITY=x", "SWINIT_SUBREAPER=maybe", "SWINIT_GRACE_PERIOD=5s",
                           "SWINIT_KILL_PROCESS_GROUP=perhaps", "TINI_SUBREAPER=", "TINI_KILL_PROCESS_GROUP=no"]
        let result = try runInit(initKind, options: environment.flatMap { ["-e", $0] }, ["sh", "-c", "echo ran; exit 3"])
        #expect(result.status == 3)
        #expect(result.stdout == "ran\n")
        if initKind == .swinit {
            // One warning per unusable value (TINI_VERBOSITY's too, with 1 kept).
            let warnings = result.stderr.split(separator: "\n").filter { $0.hasPrefix("[swinit] warning: ") }
            #expect(warnings.count == 5, "\(result.stderr)")
        }
    }

    @Test("--restart=always with malformed variables: running, not restarting", arguments: EngineInit.allCases)
    func noRestartLoop(initKind: EngineInit) throws {
        let options = ["--restart=always", "-e", "TINI_VERBOSITY=", "-e", "SWINIT_VERBOSITY=-1", "-e", "SWINIT_GRACE_PERIOD=5s"]
        try withDetached(initKind, options: options, ["sh", "-c", "echo ready; exec sleep 30"]) { name in
            #expect(logs(of: name, contain: "ready") { try docker(initKind, $0) })
            Thread.sleep(forTimeInterval: 1.5)
            let state = try docker(initKind, ["inspect", "-f", "{{.RestartCount}} {{.State.Running}}", name])
            #expect(state.stdout == "0 true\n", "restarts and running: \(state.stdout)")
        }
    }

    @Test("docker-compose: a service with init: true runs under the init", arguments: EngineInit.allCases)
    func composeInitTrue(initKind: EngineInit) throws {
        try #require(Engines.dockerImages[initKind] == true)
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let compose = """
            version: "2.4"
            services:
              app:
                image: \(Engines.image)
                init: true
                network_mode: none
                command: ["sh", "-c", "ps -o pid,args | grep -q '^ *1 /sbin/docker-init -- ' && (sleep 0.1 &) && sleep 0.5 && exit 7"]
            """
        try compose.write(toFile: directory + "/docker-compose.yml", atomically: true, encoding: .utf8)
        let project = uniqueName("compose")
        let environment = ["DOCKER_HOST": initKind.dockerHost, "COMPOSE_PROJECT_NAME": project]
        defer { _ = try? run("/usr/bin/docker-compose", ["down", "--remove-orphans"], environment: environment, directory: directory) }
        let up = try run("/usr/bin/docker-compose", ["up", "--exit-code-from", "app"], environment: environment, directory: directory,
                         within: 90)
        #expect(up.status == 7, "\(up.stderr)")
    }
}

@Suite("podman with swinit and with tini as its init; a pod with swinit as pause", rootOnly, enginesAvailable)
struct PodmanInitTests {
    @Test("podman run --init --init-path: PID 1 is the init, orphans are reaped, the status comes back",
          arguments: EngineInit.allCases)
    func podmanInit(initKind: EngineInit) throws {
        try #require(Engines.podmanImages, "podman import of the busybox root")
        let script = "(sleep 0.1 &); (sleep 0.1 &); sleep 0.5; ps -o pid,ppid,stat,args; exit 3"
        let result = try podman(["run", "--rm", "--network", "none", "--init", "--init-path", initKind.path, Engines.image,
                                 "sh", "-c", script])
        #expect(result.status == 3, "\(result.stderr)")
        let rows = result.stdout.split(separator: "\n").dropFirst()
        #expect(rows.first?.contains(/^\s*1\s+0\s+\S+\s+\/run\/podman-init -- sh -c/) == true, "\(result.stdout)")
        #expect(!rows.contains { $0.contains(/^\s*\d+\s+\d+\s+Z/) }, "no zombie: \(result.stdout)")
    }

    @Test("podman kill -s USR1 reaches the trap and leaves the sleep alone", arguments: EngineInit.allCases)
    func podmanKillUSR1(initKind: EngineInit) throws {
        try #require(Engines.podmanImages)
        let name = uniqueName("podman")
        let started = try podman(["run", "-d", "--name", name, "--network", "none", "--init", "--init-path", initKind.path,
                                  Engines.image, "sh", "-c", DockerInitTests.usr1Script])
        defer { _ = try? podman(["rm", "-f", name]) }
        try #require(started.status == 0, "\(started.stderr)")
        #expect(logs(of: name, contain: "ready") { try podman($0) })
        #expect(try podman(["kill", "--signal", "USR1", name]).status == 0)
        #expect(logs(of: name, contain: "sleep-status") { try podman($0) })
        let output = try podman(["logs", name]).stdout
        #expect(output.contains("trapped USR1\n"))
        #expect(output.contains("sleep-status 0\n"), "\(output)")
    }

    @Test("a pod whose pause process is swinit (named pause, no arguments) reaps another container's orphans")
    func podWithSwinitAsPause() throws {
        try #require(Engines.podmanImages, "podman import of the busybox root and the pause image")
        // The control: a pause process that never waits (busybox sleep) leaves them.
        for (infra, expectedZombies) in [(["--infra-image", Engines.pauseImage], "0"),
                                         (["--infra-image", Engines.image, "--infra-command", "sleep 60"], "5")] {
            let pod = uniqueName("pod")
            let created = try podman(["pod", "create", "--name", pod, "--share", "pid,ipc,uts", "--network", "none"] + infra)
            defer { _ = try? podman(["pod", "rm", "-f", "-t", "0", pod]) }
            try #require(created.status == 0, "\(created.stderr)")
            #expect(try podman(["pod", "start", pod]).status == 0)
            let script = "ps -o pid,args | grep -q '^ *1 ' && for i in 1 2 3 4 5; do (sleep 0.1 &); done; sleep 0.8; ps -o stat= | grep -c Z"
            let result = try podman(["run", "--rm", "--pod", pod, Engines.image, "sh", "-c", script])
            #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == expectedZombies, "\(infra): \(result.stderr)")
            if infra.contains(Engines.pauseImage) {
                let top = try podman(["run", "--rm", "--pod", pod, Engines.image, "ps", "-o", "pid,args"])
                #expect(top.stdout.contains("    1 /pause\n"), "\(top.stdout)")
                // SIGTERM (pod stop) ends pause mode with 0, at once.
                let started = Date()
                #expect(try podman(["pod", "stop", "-t", "10", pod]).status == 0)
                #expect(Date().timeIntervalSince(started) < 5)
                let infraID = try podman(["pod", "inspect", "-f", "{{.InfraContainerID}}", pod]).stdout
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                let code = try podman(["inspect", "-f", "{{.State.ExitCode}}", infraID])
                #expect(code.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "0")
            }
        }
    }
}
