// SPDX-License-Identifier: Apache-2.0
// Signals in and out: every signal is blocked in swinit and read from a
// signalfd; every catchable one but SIGCHLD reaches the child's process group.
import Foundation
import Testing

/// Starts `swinit ARGS -- probe signals HELPERS` and waits until every
/// reporter is ready. Returns the handle and the reporters' pids.
/// `path` runs swinit under another name (a symlink: `docker-init`, …).
func startSignalReporters(
    _ build: InitBuild, _ options: [String], helpers: Int = 0, asPID1: Bool = false, path: String? = nil,
    environment: [String: String]? = nil
) throws -> (Spawned, [pid_t], swinit: pid_t) {
    let command = [path ?? build.path] + options + ["--", probe, "signals", "\(helpers)"]
    let spawned = asPID1
        ? try Spawned("/usr/bin/unshare", ["--pid", "--fork", "--mount-proc", "--kill-child"] + command, environment: environment)
        : try Spawned(command[0], Array(command.dropFirst()), environment: environment)
    var reporters: [pid_t] = []
    for _ in 0...helpers {
        guard let line = spawned.line(containing: "ready pid") else { break }
        reporters.append(pid_t(line.split(separator: " ").last!)!)
    }
    let swinit = asPID1 ? (children(of: spawned.pid).first ?? -1) : spawned.pid
    return (spawned, reporters, swinit)
}

@Suite("signal forwarding", rootOnly, .serialized)
struct SignalForwardingTests {
    /// Signals a user or `docker stop`/`docker kill -s` sends, including
    /// real-time ones and fault signals sent with kill(2).
    static let forwarded: [Int32] = [SIGHUP, SIGINT, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH, SIGALRM, SIGPIPE, SIGURG,
                                     SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS, 35, 40, 64]

    /// Under qemu-user, the ones the emulator passes through unchanged: it
    /// renumbers real-time signals, and takes a fault signal sent to it
    /// (SIGSEGV, SIGILL, …) for a fault of its own and dies of it.
    static var forwardedHere: [Int32] {
        let faults = [SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS]
        return InitBuild.qemu == nil ? forwarded : forwarded.filter { !faults.contains($0) && $0 < 32 }
    }

    @Test("every catchable signal reaches every process of the child's group", arguments: InitBuild.allCases, [false, true])
    func signalsReachTheProcessGroup(build: InitBuild, asPID1: Bool) throws {
        let (spawned, reporters, swinit) = try startSignalReporters(build, [], helpers: 1, asPID1: asPID1)
        try #require(reporters.count == 2)
        for signal in Self.forwardedHere {
            kill(swinit, signal)
            for reporter in reporters {
                #expect(spawned.line(containing: "signal \(signal) pid \(reporter)") != nil, "signal \(signal) to \(reporter)")
            }
        }
        // swinit survived the fault signals a user sent it, and SIGTERM ends the run.
        #expect(isAlive(swinit))
        kill(swinit, SIGTERM)
        #expect(spawned.waitForExit() == 0)
    }

    @Test("-c forwards to the child only, not its group", arguments: InitBuild.allCases)
    func singleChildMode(build: InitBuild) throws {
        let (spawned, reporters, swinit) = try startSignalReporters(build, ["-c"], helpers: 1)
        try #require(reporters.count == 2)
        let main = children(of: swinit).first!
        let helper = reporters.first { $0 != main }!
        kill(swinit, SIGUSR1)
        #expect(spawned.line(containing: "signal \(SIGUSR1) pid \(main)") != nil)
        kill(swinit, SIGTERM)
        #expect(spawned.waitForExit() == 0)
        #expect(!spawned.stdoutSoFar.contains("signal \(SIGUSR1) pid \(helper)"))
        kill(helper, SIGKILL)
    }

    @Test("-r rewrites a forwarded signal; TO = 0 drops it", arguments: InitBuild.allCases)
    func rewritesApply(build: InitBuild) throws {
        let (spawned, reporters, swinit) = try startSignalReporters(build, ["-r", "USR1:USR2", "--rewrite", "SIGHUP:0", "-r", "RTMIN+1:RTMAX"])
        try #require(reporters.count == 1)
        kill(swinit, SIGHUP)  // dropped
        kill(swinit, SIGUSR1)
        let first = spawned.line(containing: "signal ")
        #expect(first?.hasPrefix("signal \(SIGUSR2) ") == true, "got \(first ?? "nothing")")
        if InitBuild.qemu == nil {  // qemu-user renumbers real-time signals
            kill(swinit, 35)
            #expect(spawned.line(containing: "signal 64 ") != nil)
        }
        kill(swinit, SIGTERM)
        #expect(spawned.waitForExit() == 0)
        #expect(!spawned.stdoutSoFar.contains("signal \(SIGHUP) "))
    }

    @Test("swinit blocks every signal, 32 and 33 included, and reads them from a CLOEXEC signalfd", .notUnderQemu(.procStatus), arguments: InitBuild.allCases)
    func everySignalIsBlocked(build: InitBuild) throws {
        let (spawned, _, swinit) = try startSignalReporters(build, [])
        // The kernel never blocks SIGKILL (9) and SIGSTOP (19): all other 62 bits are set.
        #expect(procStatus(swinit, "SigBlk") == allBlocked)
        if build == .staticEmbedded {
            // No handler at all (the host build's Swift runtime installs crash handlers).
            #expect(procStatus(swinit, "SigCgt") == "0000000000000000")
        }
        let descriptors = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(swinit)/fd")
        let signalfds = descriptors.filter {
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(swinit)/fd/\($0)")) == "anon_inode:[signalfd]"
        }
        #expect(signalfds.count == 1)
        if let fd = signalfds.first {
            let info = try String(contentsOfFile: "/proc/\(swinit)/fdinfo/\(fd)", encoding: .utf8)
            #expect(info.contains("sigmask:\tfffffffffffbfeff"))
            #expect(info.contains("flags:\t02000002"))  // O_CLOEXEC | O_RDWR
        }
        kill(swinit, SIGTERM)
        #expect(spawned.waitForExit() == 0)
    }

    @Test("an idle swinit never wakes up", arguments: InitBuild.allCases)
    func idleMeansNoWakeUps(build: InitBuild) throws {
        let spawned = try Spawned(build.path, ["--", probe, "sleep", "60000"])
        defer { spawned.signal(SIGKILL) }
        #expect(eventually { processState(spawned.pid) == "S" && !children(of: spawned.pid).isEmpty })
        usleep(100_000)
        let before = procStatus(spawned.pid, "voluntary_ctxt_switches")
        usleep(1_500_000)  // tini would wake once a second
        #expect(procStatus(spawned.pid, "voluntary_ctxt_switches") == before)
        spawned.signal(SIGTERM)
        #expect(spawned.waitForExit() == 128 + SIGTERM)
    }
}

@Suite("forwarding failures", rootOnly, .serialized)
struct ForwardingFailureTests {
    @Test("EPERM while forwarding is logged at debug level and never ends swinit", arguments: InitBuild.allCases)
    func epermIsNotFatal(build: InitBuild) throws {
        // swinit runs as nobody; its child becomes root through a setuid-root
        // copy of the probe, so swinit may no longer signal it (tini dies here).
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        chmod(directory, 0o755)
        let setuidProbe = directory + "/probe"
        try FileManager.default.copyItem(atPath: probe, toPath: setuidProbe)
        chmod(setuidProbe, 0o4755)
        let spawned = try Spawned("/usr/bin/setpriv", ["--reuid", "65534", "--regid", "65534", "--clear-groups",
                                                      build.path, "-vv", "--", setuidProbe, "become-root", setuidProbe, "signals"])
        let ready = try #require(spawned.line(containing: "ready pid"))
        let child = pid_t(ready.split(separator: " ").last!)!
        kill(spawned.pid, SIGUSR1)
        usleep(300_000)
        #expect(isAlive(spawned.pid) && processState(spawned.pid) != "Z", "swinit survives the EPERM")
        #expect(!spawned.stdoutSoFar.contains("signal \(SIGUSR1)"))
        kill(child, SIGTERM)  // we are root: end the child ourselves
        #expect(spawned.waitForExit() == 0)
        #expect(spawned.remainingOutput().stderr.contains("[swinit] debug: forwarding SIGUSR1 to -\(child): Operation not permitted"))
    }
}

@Suite("closed stderr", rootOnly, .serialized)
struct ClosedStderrTests {
    /// Runs `swinit ARGS` with stderr a pipe whose reader is already gone.
    func runWithClosedStderr(_ build: InitBuild, _ arguments: [String]) throws -> Int32? {
        // timeout -s KILL: a swinit that loops must not outlive a failed test.
        let quoted = (["timeout", "-s", "KILL", "8", build.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        // `exec true` ends the reader at once; swinit's log lines then hit EPIPE.
        let spawned = try Spawned("/bin/bash", ["-c", "set -o pipefail; \(quoted) 2>&1 >/dev/null | (exec true); exit ${PIPESTATUS[0]}"])
        return spawned.waitForExit(within: 10)
    }

    @Test("logging into a closed pipe neither hangs swinit nor sends the child its SIGPIPE", arguments: InitBuild.allCases)
    func sigpipeOfOwnLogIsNotForwarded(build: InitBuild) throws {
        // Debug logging on every signal: each failed write used to raise a
        // SIGPIPE that swinit read, forwarded and logged again, forever.
        let script = "trap : USR2; sleep 0.2; kill -USR2 $PPID; sleep 0.3; exit 3"
        // -c: the USR2 goes to sh alone; sent to the group, it would kill
        // sh's `sleep`, and sh's own report of that into the closed pipe
        // would end sh with SIGPIPE, rightly.
        #expect(try runWithClosedStderr(build, ["-vvv", "-c", "--", "/bin/sh", "-c", script]) == 3)
        // A warning written after the reader left must not kill the child (141).
        #expect(try runWithClosedStderr(build, ["-w", "--", "/bin/sh", "-c", "(sleep 0.1 &); sleep 0.5; exit 4"]) == 4)
    }

    @Test("a SIGPIPE a user sends is still forwarded", arguments: InitBuild.allCases)
    func userSigpipeIsForwarded(build: InitBuild) throws {
        let (spawned, reporters, swinit) = try startSignalReporters(build, [])
        try #require(reporters.count == 1)
        kill(swinit, SIGPIPE)
        #expect(spawned.line(containing: "signal \(SIGPIPE) pid") != nil)
        kill(swinit, SIGTERM)
        #expect(spawned.waitForExit() == 0)
    }
}
