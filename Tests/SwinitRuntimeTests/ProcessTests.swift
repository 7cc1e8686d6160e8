// SPDX-License-Identifier: Apache-2.0
// PID 1, reaping, exit statuses and signals, end to end.
import Foundation
import Testing

@Suite(.enabled(if: isRoot, "needs root: namespaces and mounts"), .timeLimit(.minutes(1)))
struct ProcessTests {
    @Test func swinitIsPID1() throws {
        let result = try run(rootfs + ["--", "sh", "-c", "cat /proc/1/comm; echo $$"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "swinit\n2\n")
    }

    @Test func noInitMakesTheCommandPID1() throws {
        let result = try run(rootfs + ["--no-init", "--", "sh", "-c", "echo $$"])
        #expect(result.stdout == "1\n")
    }

    /// The orphan `sleep 0.1` is reparented to PID 1; the command execs a
    /// `sleep` that never waits, so only a real init reaps it.
    @Test(arguments: [false, true])
    func orphansAreReapedOnlyByAnInit(noInit: Bool) throws {
        let container = try Container(rootfs + (noInit ? ["--no-init"] : []) + ["--", "sh", "-c", "(sleep 0.1 &); exec sleep 1.5"])
        usleep(700_000)
        let states = descendants(of: container.pid).compactMap(processState)
        let result = container.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(states.contains("Z") == noInit, "states: \(states)")
    }

    @Test(arguments: [0, 1, 42, 255])
    func exitStatusPassesThrough(code: Int) throws {
        let result = try run(rootfs + ["--", "sh", "-c", "exit \(code)"])
        #expect(result.status == Int32(code), "\(result.stderr)")
    }

    @Test(arguments: [(SIGKILL, "KILL"), (SIGTERM, "TERM"), (SIGSEGV, "SEGV")])
    func signalDeathBecomes128PlusN(signal: Int32, name: String) throws {
        let result = try run(rootfs + ["--", "sh", "-c", "kill -\(name) $$"])
        #expect(result.status == 128 + signal, "\(result.stderr)")
    }

    @Test(arguments: [(SIGTERM, "TERM", 7), (SIGUSR1, "USR1", 8), (SIGHUP, "HUP", 9), (SIGINT, "INT", 10)])
    func signalsToSwinitRunReachAShellTrap(signal: Int32, name: String, code: Int32) throws {
        let container = try Container(rootfs + ["--", "sh", "-c",
            "trap 'echo caught; exit \(code)' \(name); echo ready; while :; do sleep 0.05; done"])
        #expect(container.waitForOutput("ready"))
        kill(container.pid, signal)
        let result = container.finish()
        #expect(result.status == code, "\(result.stderr)")
        #expect(result.stdout.contains("caught"))
    }

    /// SIGTERM to swinit-run is `docker stop`: a container still there when
    /// the grace period (`--stop-timeout`) is over gets SIGKILL, whole.
    @Test func aStopTheContainerIgnoresEndsInSIGKILLAfterTheStopTimeout() throws {
        let container = try Container(rootfs + ["--stop-timeout", "1", "--", "sh", "-c",
            "trap '' TERM; echo ready; sleep 30"])
        #expect(container.waitForOutput("ready"))
        let stopped = Date()
        kill(container.pid, SIGTERM)
        let result = container.finish(timeout: 10)
        let waited = Date().timeIntervalSince(stopped)
        #expect(result.status == 128 + SIGKILL, "\(result.stderr)")
        #expect(waited >= 1 && waited < 5, "\(waited) s")
        #expect(result.stderr == "swinit-run: the container did not stop within 1 s of SIGTERM: sending SIGKILL\n")
    }

    /// `--stop-timeout -1` waits for the container however long it takes
    /// (`0` would kill it at once).
    @Test(arguments: [("-1", 0), ("0", 128 + SIGKILL)])
    func stopTimeoutMinusOneWaitsAndZeroKillsAtOnce(timeout: String, status: Int32) throws {
        let container = try Container(rootfs + ["--stop-timeout", timeout, "--", "sh", "-c",
            "trap '' TERM; echo ready; sleep 1.5; echo done"])
        #expect(container.waitForOutput("ready"))
        kill(container.pid, SIGTERM)
        let result = container.finish(timeout: 10)
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stdout.hasSuffix("done\n") == (status == 0), "\(result.stdout)")
    }

    /// A signal that arrives while the container is still being set up is
    /// held and delivered once the init receives signals; sent straight away,
    /// the kernel would drop it (a PID namespace's init without a handler).
    @Test(arguments: [0, 2, 5, 10, 20])
    func signalDuringSetupStillReachesTheCommand(milliseconds: Int) throws {
        let started = Date()
        let container = try Container(rootfs + ["--", "sleep", "5"])
        usleep(useconds_t(milliseconds * 1000))
        kill(container.pid, SIGTERM)
        let result = container.finish()
        #expect(result.status == 128 + SIGTERM, "\(result.stderr)")
        #expect(Date().timeIntervalSince(started) < 3)
    }

    /// Stage 2 starts as a fork of the single-threaded host; a host with
    /// threads re-executes itself instead (SWINIT_RUN_REEXEC=1 asks for
    /// that path). Both build the same container: descriptors, signal state,
    /// capabilities, no_new_privs, cgroup namespace, status.
    @Test func stage2ByForkOrByReexecBuildsTheSameContainer() throws {
        let command = rootfs + ["--memory", "64m", "--", "sh", "-c", """
            ls /proc/self/fd | tr '\\n' ' '; echo
            grep -E '^(SigBlk|SigIgn|CapInh|CapBnd|CapEff|NoNewPrivs|Seccomp)' /proc/self/status
            cat /proc/self/cgroup | grep -v ':/$' ; exit 3
            """]
        var outputs: [String] = []
        for reexec in ["0", "1"] {
            let environment = ProcessInfo.processInfo.environment.merging(["SWINIT_RUN_REEXEC": reexec]) { $1 }
            let result = try Container(command, environment: environment).finish()
            #expect(result.status == 3, "SWINIT_RUN_REEXEC=\(reexec): \(result.stderr)")
            outputs.append(result.stdout)
        }
        #expect(outputs[0] == outputs[1], "fork:\n\(outputs[0])\nre-exec:\n\(outputs[1])")
        #expect(outputs[0].hasPrefix("0 1 2 3 \n"), "\(outputs[0])")  // 3: ls's own directory
        #expect(outputs[0].contains("SigIgn:\t0000000000000000\n") && outputs[0].contains("NoNewPrivs:\t1\n"))
    }

    /// No Foundation, Dispatch or runtime threads on the host side: a
    /// multi-threaded parent would make PR_SET_PDEATHSIG fire on a thread's exit.
    @Test func hostSideIsSingleThreaded() throws {
        let container = try Container(rootfs + ["--", "sh", "-c", "echo ready; sleep 0.3"])
        #expect(container.waitForOutput("ready"))
        let status = (try? String(contentsOfFile: "/proc/\(container.pid)/status", encoding: .utf8)) ?? ""
        #expect(status.contains("Threads:\t1\n"), "\(status)")
        #expect(container.finish().status == 0)
    }

    /// The caller's terminal closing (SIGHUP to swinit-run) ends a job that
    /// Ctrl-Z had stopped: SIGCONT follows the SIGHUP, as the kernel sends
    /// both to an orphaned stopped process group. Without it the container
    /// waited, stopped, until someone sent SIGCONT.
    @Test func aHangupEndsAStoppedJob() throws {
        let container = try Container(rootfs + ["--", "sh", "-c", "echo ready; kill -STOP $$; echo continued"])
        #expect(container.waitForOutput("ready"))
        usleep(200_000)
        kill(container.pid, SIGHUP)
        let result = container.finish(timeout: 5)
        #expect(!result.timedOut, "the stopped job never saw the hangup")
        #expect(result.status == 128 + SIGHUP, "\(result.stdout) \(result.stderr)")
    }

    @Test func harmlessSignalsNeverKillTheContainer() throws {
        let container = try Container(rootfs + ["--", "sh", "-c", "echo ready; sleep 1; echo alive"])
        #expect(container.waitForOutput("ready"))
        for signal in [SIGWINCH, SIGURG, SIGPIPE] { kill(container.pid, signal) }
        let result = container.finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("alive"))
    }

    /// A SIGSYS a user sends is forwarded, not fatal to swinit-run (the Swift
    /// runtime's crash handler does not catch it, so it must be blocked).
    @Test func userSentSigsysIsForwardedNotFatal() throws {
        let container = try Container(rootfs + ["--", "sh", "-c",
            "trap 'echo caught SYS; exit 12' SYS; echo ready; while :; do sleep 0.05; done"])
        #expect(container.waitForOutput("ready"))
        kill(container.pid, SIGSYS)
        let result = container.finish()
        #expect(result.status == 12, "\(result.stderr)")
        #expect(result.stdout.contains("caught SYS"))
    }
}
