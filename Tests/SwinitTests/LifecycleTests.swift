// SPDX-License-Identifier: Apache-2.0
// Around the main child's life: the grace period after it exits (-t), the
// pause mode (-P), and the parent-death signal (-p).
import Foundation
import Testing

@Suite("teardown, pause, parent death", rootOnly, .serialized)
struct LifecycleTests {
    /// A group member that ignores SIGTERM; its pid is printed once it runs.
    static let stubborn = "\"$0\" ignore 15 \"$0\" sleep 60000 & member=$!; sleep 0.3; echo $member; exit 3"

    @Test("by default the rest of the group gets SIGTERM and swinit exits at once", arguments: InitBuild.allCases)
    func defaultTeardownIsImmediate(build: InitBuild) throws {
        let started = Date()
        let result = try run(build.path, ["--", "/bin/sh", "-c", "\"$0\" sleep 60000 & echo $!; exit 3", probe])
        #expect(result.status == 3)
        let member = try #require(pid_t(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(eventually(within: 2) { !isAlive(member) }, "the sleeping group member got SIGTERM")
        #expect(Date().timeIntervalSince(started) < 5)

        let ignoring = try run(build.path, ["--", "/bin/sh", "-c", Self.stubborn, probe])
        let survivor = try #require(pid_t(ignoring.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(isAlive(survivor), "without -t nobody waits for, or kills, a TERM-ignoring member")
        kill(survivor, SIGKILL)
    }

    @Test("-t SECS waits for the group, then SIGKILLs what ignores SIGTERM", arguments: InitBuild.allCases)
    func gracePeriodEndsInSigkill(build: InitBuild) throws {
        for (options, environment) in [(["-t", "1"], [String: String]()), ([], ["SWINIT_GRACE_PERIOD": "1"])] {
            let started = Date()
            let result = try run(build.path, options + ["--", "/bin/sh", "-c", Self.stubborn, probe], environment: environment)
            let elapsed = Date().timeIntervalSince(started)
            #expect(result.status == 3)
            let member = try #require(pid_t(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            #expect(!isAlive(member), "killed and reaped before swinit exited")
            #expect(elapsed >= 1 && elapsed < 6, "waited the grace period: \(elapsed) s")
        }
    }

    @Test("-t returns as soon as the group is gone", .notUnderQemu(.subreaper), arguments: InitBuild.allCases)
    func gracePeriodEndsEarly(build: InitBuild) throws {
        let started = Date()
        let result = try run(build.path, ["-t", "20", "--", "/bin/sh", "-c", "\"$0\" sleep 60000 & exit 4", probe])
        #expect(result.status == 4)
        #expect(Date().timeIntervalSince(started) < 10)
    }

    @Test("as PID 1, -t gives every process of the namespace time to finish", arguments: InitBuild.allCases)
    func gracePeriodAsPID1(build: InitBuild) throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        // A process in another group, cleaning up for 300 ms on SIGTERM.
        let script = """
            setsid /bin/sh -c 'trap "sleep 0.3; echo clean > $0/finished; exit 0" TERM; while :; do sleep 0.05; done' "$0" &
            sleep 0.2; exit 0
            """
        let patient = try runAsPID1(build, ["-t", "5", "--", "/bin/sh", "-c", script, directory])
        #expect(patient.status == 0)
        #expect(FileManager.default.fileExists(atPath: directory + "/finished"))
        try? FileManager.default.removeItem(atPath: directory + "/finished")
        let hasty = try runAsPID1(build, ["--", "/bin/sh", "-c", script, directory])
        #expect(hasty.status == 0)
        #expect(!FileManager.default.fileExists(atPath: directory + "/finished"), "without -t the namespace dies at once")
    }

    @Test("-P stays as PID 1 reaping orphans until SIGTERM, then exits 0", arguments: InitBuild.allCases)
    func pauseMode(build: InitBuild) throws {
        let spawned = try Spawned("/usr/bin/unshare", ["--pid", "--fork", "--mount-proc", "--kill-child", build.path, "-P"])
        #expect(eventually { children(of: spawned.pid).count == 1 })
        let swinit = children(of: spawned.pid)[0]
        #expect(eventually { waitsForSignals(swinit) })
        // An orphan inside its namespace is adopted and reaped by it.
        let entered = try run("/usr/bin/nsenter", ["-t", "\(swinit)", "-p", "--", "/bin/sh", "-c", "(\"$0\" sleep 100 &)", probe])
        #expect(entered.status == 0)
        usleep(300_000)
        #expect(children(of: swinit).isEmpty, "the orphan was reaped")
        kill(swinit, SIGUSR1)  // not an exit signal in pause mode
        usleep(100_000)
        #expect(isAlive(swinit))
        kill(swinit, SIGTERM)
        #expect(spawned.waitForExit() == 0)

        let interrupted = try Spawned("/usr/bin/unshare", ["--pid", "--fork", "--mount-proc", "--kill-child", build.path, "--pause"])
        #expect(eventually { children(of: interrupted.pid).count == 1 })
        let pausing = children(of: interrupted.pid)[0]
        // A namespace's init only receives signals it blocks or handles: wait for the block.
        #expect(eventually { waitsForSignals(pausing) })
        kill(pausing, SIGINT)
        #expect(interrupted.waitForExit() == 0)
    }

    @Test("-p SIG: when swinit's parent dies, SIG arrives and is forwarded", arguments: InitBuild.allCases)
    func parentDeathSignal(build: InitBuild) throws {
        // sh is swinit's parent; it exits after 0.3 s.
        let spawned = try Spawned("/bin/sh", ["-c", "\"$0\" -p SIGUSR1 -- \"$1\" signals & sleep 0.3; exit 0", build.path, probe])
        let ready = try #require(spawned.line(containing: "ready pid"))
        let child = pid_t(ready.split(separator: " ").last!)!
        #expect(spawned.line(containing: "signal \(SIGUSR1) pid \(child)") != nil)
        kill(child, SIGTERM)
        #expect(eventually { !isAlive(child) })
        _ = spawned.waitForExit()
    }
}
