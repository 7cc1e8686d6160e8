// SPDX-License-Identifier: Apache-2.0
// Nothing outlives a run: mounts, processes, state directories; kill -9 and
// parallel runs included.
import Foundation
import Testing

@Suite(.enabled(if: isRoot, "needs root: namespaces and mounts"), .timeLimit(.minutes(2)))
struct LeakTests {
    let harness = Harness.shared

    @Test func hostMountTableIsUnchangedAfterRunsIncludingFailedOnes() throws {
        let before = hostMountTable()
        let volume = harness.temporaryDirectory("volume")
        let runs: [([String], Int32)] = [
            (layers + ["-v", "\(volume):/data", "--tmpfs", "/scratch", "--", "true"], 0),
            (layers + ["--", "false"], 1),
            (layers + ["-v", "/nonexistent/source:/data", "--", "true"], 125),
            (layers + ["--tmpfs", "/etc/passwd", "--", "true"], 125),
            (layers + ["--", "/no/such/command"], 127),
            (layers + ["--no-init", "--", "/no/such/command"], 127),
        ]
        for (arguments, expected) in runs {
            let result = try run(arguments)
            #expect(result.status == expected, "\(arguments): \(result.stderr)")
        }
        #expect(hostMountTable() == before)
    }

    @Test func setupFailureIsOneLineNamingStepPathAndReason() throws {
        let result = try run(layers + ["--tmpfs", "/etc/passwd", "--", "true"])
        #expect(result.status == 125)
        #expect(result.stderr.hasPrefix("swinit-run: mount tmpfs on /"), "\(result.stderr)")
        #expect(result.stderr.hasSuffix("/etc/passwd: Not a directory\n"), "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    /// setuid(2) clears the parent-death signal; stage 2 sets it again after the switch.
    @Test(arguments: [[], ["-u", "1000"]])
    func killNineOfSwinitRunLeavesNothing(user: [String]) throws {
        let before = hostMountTable()
        let name = "kill9-\(getpid())-\(user.count)"
        let container = try Container(layers + user + ["--name", name, "--", "sh", "-c", "sleep 100 & echo ready; wait"])
        #expect(container.waitForOutput("ready"))
        let inside = descendants(of: container.pid)
        #expect(inside.count >= 3, "swinit, sh, sleep: \(inside)")
        kill(container.pid, SIGKILL)
        _ = container.finish()
        // A zombie is dead; reaping the orphaned PID 1 is the host init's job.
        let alive = { (pid: pid_t) -> Bool in processState(pid).map { $0 != "Z" } ?? false }
        let deadline = Date().addingTimeInterval(1.0)
        while inside.contains(where: alive) && Date() < deadline { usleep(10_000) }
        #expect(!inside.contains(where: alive), "survivors: \(inside.filter(alive))")
        #expect(hostMountTable() == before)
        // The stale state directory does not block the same name.
        let again = try run(layers + ["--name", name, "--", "true"])
        #expect(again.status == 0, "\(again.stderr)")
    }

    /// kill -9 at different moments of the setup: before stage 2 runs, while it
    /// mounts, just after the exec. A unique sleep duration marks the command.
    @Test(arguments: [0, 1, 3, 6, 12, 25])
    func killNineDuringSetupLeavesNothing(milliseconds: Int) throws {
        let before = hostMountTable()
        let name = "kill9-setup-\(getpid())-\(milliseconds)"
        let marker = "31.\(getpid())\(milliseconds)"
        let container = try Container(layers + ["--name", name, "-v", "\(harness.scratch):/data", "--", "sleep", marker])
        usleep(useconds_t(milliseconds * 1000))
        kill(container.pid, SIGKILL)
        _ = container.finish()
        let deadline = Date().addingTimeInterval(1.0)
        while !processes(running: marker).isEmpty && Date() < deadline { usleep(10_000) }
        #expect(processes(running: marker).isEmpty)
        #expect(hostMountTable() == before)
        let again = try run(layers + ["--name", name, "--", "true"])
        #expect(again.status == 0, "\(again.stderr)")
    }

    /// Live (non-zombie) host processes whose command line contains `text`.
    func processes(running text: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { entry in
            guard let pid = pid_t(entry), pid != getpid(), let state = processState(pid), state != "Z",
                  let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { return false }
            return String(decoding: data, as: UTF8.self).contains(text)
        }
    }

    @Test func stateDirectoryIsRemovedAndANameInUseIsRefused() throws {
        let name = "busy-\(getpid())"
        let first = try Container(rootfs + ["--name", name, "--", "sh", "-c", "echo ready; sleep 2"])
        #expect(first.waitForOutput("ready"))
        #expect(FileManager.default.fileExists(atPath: "/run/swinit-run/\(name)"))
        let second = try run(rootfs + ["--name", name, "--", "true"])
        #expect(second.status == 125)
        #expect(second.stderr.contains("name in use"), "\(second.stderr)")
        #expect(first.finish().status == 0)
        #expect(!FileManager.default.fileExists(atPath: "/run/swinit-run/\(name)"))
    }

    @Test func twentyContainersInParallelOnTheSameLayers() throws {
        let containers = try (0..<20).map { index in
            try Container(layers + ["--", "sh", "-c", "echo \(index) > /mine; sleep 0.2; cat /mine /etc/layer"])
        }
        for (index, container) in containers.enumerated() {
            let result = container.finish(timeout: 60)
            #expect(result.status == 0, "container \(index): \(result.stderr)")
            #expect(result.stdout == "\(index)\ntop\n")
        }
    }
}
