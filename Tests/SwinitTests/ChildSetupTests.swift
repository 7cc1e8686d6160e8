// SPDX-License-Identifier: Apache-2.0
// What the child inherits: its own process group, the signal mask and
// ignored signals swinit was given, the working directory, no descriptor of
// swinit's own, LISTEN_PID rewritten; and what swinit lets go of.
import Foundation
import Testing

@Suite("child set-up", rootOnly, .serialized)
struct ChildSetupTests {
    @Test("the child leads its own process group", arguments: InitBuild.allCases)
    func childHasOwnProcessGroup(build: InitBuild) throws {
        let spawned = try Spawned(build.path, ["--", probe, "ids"])
        let line = try #require(spawned.line(containing: "pid "))
        let fields = line.split(separator: " ")
        #expect(fields[1] == fields[5], "pgid == pid: \(line)")
        #expect(fields[3] == "\(spawned.pid)", "ppid is swinit: \(line)")
        #expect(fields[5] != "\(getpgrp())")
        #expect(spawned.waitForExit() == 0)
    }

    @Test("the signal mask swinit inherited is restored exactly in the child", .notUnderQemu(.procStatus), arguments: InitBuild.allCases)
    func maskIsRestored(build: InitBuild) throws {
        // USR1 (bit 9) and signal 33 (bit 32): libc's sigprocmask could not restore the latter.
        let result = try run(probe, ["with-mask", "100000200", build.path, "--", probe, "sigmask"])
        #expect(result.stdout.contains("SigBlk:\t0000000100000200\n"), "\(result.stdout)")
        let clean = try run(build.path, ["--", probe, "sigmask"])
        #expect(clean.stdout.contains("SigBlk:\t0000000000000000\n"))
    }

    @Test("an ignored signal (nohup) stays ignored in the child", .notUnderQemu(.procStatus), arguments: InitBuild.allCases)
    func ignoredSignalsSurvive(build: InitBuild) throws {
        let result = try run(probe, ["ignore", "\(SIGHUP)", build.path, "--", probe, "sigmask"])
        #expect(result.stdout.contains("SigIgn:\t0000000000000001\n"), "\(result.stdout)")
    }

    @Test("an inherited SIG_IGN on SIGCHLD neither loses the status nor leaks into swinit", .notUnderQemu(.procStatus), arguments: InitBuild.allCases)
    func ignoredSigchld(build: InitBuild) throws {
        let status = try run(probe, ["ignore", "\(SIGCHLD)", build.path, "--", probe, "exit", "7"])
        #expect(status.status == 7)
        let mask = try run(probe, ["ignore", "\(SIGCHLD)", build.path, "--", probe, "sigmask"])
        #expect(mask.stdout.contains("SigIgn:\t0000000000010000\n"), "\(mask.stdout)")
    }

    @Test("no descriptor of swinit's own leaks into the child; inherited ones pass", arguments: InitBuild.allCases)
    func descriptors(build: InitBuild) throws {
        let clean = try run(build.path, ["--", probe, "fds"])
        #expect(clean.stdout == "fds 0 1 2\n")
        let inherited = try run("/bin/sh", ["-c", "exec 7</dev/null; exec \"$0\" -- \"$1\" fds", build.path, probe])
        #expect(inherited.stdout == "fds 0 1 2 7\n")
    }

    @Test("after the spawn, swinit holds only stdio and its signalfd, and its cwd is /", arguments: InitBuild.allCases)
    func swinitLetsGo(build: InitBuild) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let spawned = try Spawned("/bin/sh", ["-c", "exec 7</dev/null; exec \"$0\" -- \"$1\" signals", build.path, probe],
                                  directory: directory)
        #expect(spawned.line(containing: "ready") != nil)
        let swinit = spawned.pid
        // The child may print before swinit has let go: give it a moment.
        func descriptors() -> [Int] {
            ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(swinit)/fd")) ?? []).compactMap(Int.init).sorted()
        }
        #expect(eventually { descriptors() == [0, 1, 2, 3] }, "\(descriptors())")
        #expect(eventually { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(swinit)/cwd")) == "/" })
        let child = try #require(children(of: swinit).first)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(child)/cwd") == directory)
        spawned.signal(SIGTERM)
        #expect(spawned.waitForExit() == 0)
    }

    @Test("LISTEN_PID naming swinit is rewritten to the child; any other value is kept", arguments: InitBuild.allCases)
    func listenPid(build: InitBuild) throws {
        let rewritten = try run("/bin/sh", ["-c", "LISTEN_PID=$$ exec \"$0\" -- /bin/sh -c 'echo $LISTEN_PID $$'", build.path])
        let pair = rewritten.stdout.split(whereSeparator: \.isWhitespace)
        #expect(pair.count == 2 && pair[0] == pair[1], "\(rewritten.stdout)")
        let kept = try run(build.path, ["--", probe, "getenv", "LISTEN_PID"], environment: ["LISTEN_PID": "12345"])
        #expect(kept.stdout == "LISTEN_PID=12345\n")
    }
}
