// SPDX-License-Identifier: Apache-2.0
// Cgroups through the real binary: every container gets `swinit/NAME` in
// each hierarchy (this host: v1 memory, pids, cpu and the hybrid cgroup2
// `unified` tree) and a cgroup namespace; limits land in the cgroup files;
// an OOM kill is reported with 137; a fork bomb stops at --pids-limit; the
// cgroup is gone after the run and after a kill -9 and the next run.
import Foundation
import Testing

/// The host directories container `name`'s cgroup may have, by hierarchy
/// (`memory`, `pids`, `cpu`, `unified`), from this process's own cgroups
/// (swinit-run nests below its caller's cgroup on v1 and the hybrid tree).
/// With a cgroup2 tree, the v1 ones exist only for the limits asked for.
func containerCgroups(_ name: String) -> [String: String] {
    if FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") {
        return ["unified": "/sys/fs/cgroup/swinit/\(name)"]
    }
    let own = ((try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8)) ?? "").split(separator: "\n")
    var paths: [String: String] = [:]
    for line in own {
        let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
        guard fields.count == 3 else { continue }
        let key = fields[1].isEmpty ? "unified" : fields[1]
        guard ["memory", "pids", "cpu", "unified"].contains(key) else { continue }
        let mount = "/sys/fs/cgroup/" + key
        guard FileManager.default.fileExists(atPath: mount) else { continue }
        paths[key] = mount + (fields[2] == "/" ? "" : fields[2]) + "/swinit/\(name)"
    }
    return paths
}

func readFile(_ path: String) -> String {
    ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
}

@Suite(.enabled(if: isRoot, "needs root: namespaces, mounts and cgroups"), .timeLimit(.minutes(2)))
struct CgroupTests {
    let harness = Harness.shared
    var probe: [String] { ["-v", harness.packageRoot + "/.build/static:/probe:ro"] }

    @Test func everyContainerHasItsOwnCgroupAndNamespaceAndItIsRemoved() throws {
        let name = "cgroup-own-\(getpid())"
        let container = try Container(rootfs + ["--name", name, "--", "sh", "-c", "cat /proc/self/cgroup; echo ready; sleep 0.5"])
        #expect(container.waitForOutput("ready"))
        let all = containerCgroups(name)
        // Without limits: the cgroup2 tree only (born there), if the host has one.
        let paths = all["unified"] != nil ? all.filter { $0.key == "unified" } : all
        #expect(!paths.isEmpty)
        for (kind, path) in all where paths[kind] == nil {
            #expect(!FileManager.default.fileExists(atPath: path), "\(kind): made without a limit")
        }
        let inside = descendants(of: container.pid).map(String.init)
        for (kind, path) in paths {
            let members = readFile(path + "/cgroup.procs").split(separator: "\n").map(String.init)
            #expect(!members.isEmpty && members.allSatisfy(inside.contains), "\(kind) \(path): \(members) vs \(inside)")
        }
        let result = container.finish()
        #expect(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: "\n").dropLast()
        #expect(!lines.isEmpty)
        for line in lines { #expect(line.hasSuffix(":/"), "/proc/self/cgroup inside: \(line)") }
        for (kind, path) in paths { #expect(!FileManager.default.fileExists(atPath: path), "\(kind) \(path) left behind") }
    }

    @Test func limitsAreWrittenToTheCgroupFiles() throws {
        let name = "cgroup-limits-\(getpid())"
        let container = try Container(rootfs + ["--name", name, "--memory", "64m", "--pids-limit", "50", "--cpus", "1.5",
                                                "--", "sh", "-c", "echo ready; sleep 0.5"])
        #expect(container.waitForOutput("ready"))
        let paths = containerCgroups(name)
        if let memory = paths["memory"], let pids = paths["pids"], let cpu = paths["cpu"] {
            #expect(readFile(memory + "/memory.limit_in_bytes") == "67108864")
            #expect(readFile(pids + "/pids.max") == "50")
            #expect(readFile(cpu + "/cpu.cfs_quota_us") == "150000")
            #expect(readFile(cpu + "/cpu.cfs_period_us") == "100000")
        } else if let v2 = paths["unified"] {
            #expect(readFile(v2 + "/memory.max") == "67108864")
            #expect(readFile(v2 + "/pids.max") == "50")
            #expect(readFile(v2 + "/cpu.max") == "150000 100000")
        }
        #expect(container.finish().status == 0)
    }

    @Test(arguments: [[], ["--no-init"]])
    func anOutOfMemoryKillIsReportedWith137(initOption: [String]) throws {
        let result = try run(rootfs + probe + initOption + ["--memory", "64m", "--", "/probe/swinit-probe", "allocate", "512"])
        #expect(result.status == 137)
        #expect(result.stderr.hasSuffix("swinit-run: container killed: out of memory (limit 64 MiB)\n"), "\(result.stderr)")
        #expect(!result.stdout.contains("allocated"))
        // The same allocation without a limit succeeds: the limit made the difference.
        let free = try run(rootfs + probe + initOption + ["--", "/probe/swinit-probe", "allocate", "128"])
        #expect(free.status == 0 && free.stdout == "allocated: 128 MiB\n", "\(free.stderr)")
    }

    /// 50 tasks in all: swinit, the probe and 48 forks.
    @Test func aForkBombStopsAtThePidsLimit() throws {
        let bomb = try run(rootfs + probe + ["--pids-limit", "50", "--", "/probe/swinit-probe", "fork-bomb", "400"], timeout: 30)
        #expect(bomb.status == 0, "\(bomb.stderr)")
        #expect(bomb.stdout == "forks: 48 of 400 (Resource temporarily unavailable)\n")
        let free = try run(rootfs + probe + ["--", "/probe/swinit-probe", "fork-bomb", "100"], timeout: 30)
        #expect(free.stdout == "forks: 100 of 100 (no error)\n", "\(free.stderr)")
    }

    @Test func aCgroupLeftByKillNineIsRemovedByTheNextRun() throws {
        let name = "cgroup-kill9-\(getpid())"
        // A state root of its own: a run of another test, with the default
        // root, would otherwise be the "next run" that sweeps this cgroup
        // (between the kill and the check below) — it leaves a cgroup
        // without a state directory in its root alone for a minute.
        let stateRoot = Harness.shared.temporaryDirectory("kill9-state")
        let environment = ProcessInfo.processInfo.environment.merging(["SWINIT_RUN_STATE": stateRoot]) { $1 }
        let container = try Container(rootfs + ["--name", name, "--memory", "64m", "--", "sh", "-c", "echo ready; sleep 30"],
                                      environment: environment)
        #expect(container.waitForOutput("ready"))
        let inside = descendants(of: container.pid)
        kill(container.pid, SIGKILL)
        _ = container.finish()
        let deadline = Date().addingTimeInterval(2)
        while inside.contains(where: { processState($0).map { $0 != "Z" } ?? false }) && Date() < deadline { usleep(10_000) }
        let paths = containerCgroups(name).filter { $0.key == "memory" || $0.key == "unified" }
        #expect(!paths.isEmpty)
        for (kind, path) in paths { #expect(FileManager.default.fileExists(atPath: path), "\(kind): kill -9 left nothing to clean?") }
        let next = try Container(rootfs + ["--", "true"], environment: environment).finish()
        #expect(next.status == 0, "\(next.stderr)")
        for (kind, path) in paths { #expect(!FileManager.default.fileExists(atPath: path), "\(kind) \(path) still there") }
    }

    /// A run that starts while a killed container is still being torn down
    /// cannot remove its cgroup yet (EBUSY); it then keeps that container's
    /// state directory too, so a later run still sees the owner gone and
    /// removes both. (It used to remove the state directory alone, and the
    /// empty cgroup stayed.) A process of the test's own, moved into the
    /// killed container's cgroup, stands for the one still dying.
    @Test func aCgroupStillBusyAfterKillNineIsRemovedByALaterRun() throws {
        let stateRoot = Harness.shared.temporaryDirectory("busy-state")
        let environment = ProcessInfo.processInfo.environment.merging(["SWINIT_RUN_STATE": stateRoot]) { $1 }
        let name = "cgroup-busy-\(getpid())"
        let container = try Container(rootfs + ["--name", name, "--", "sh", "-c", "echo ready; sleep 30"],
                                      environment: environment)
        #expect(container.waitForOutput("ready"))
        kill(container.pid, SIGKILL)
        _ = container.finish()
        // The hierarchies this container had a cgroup in (without limits, not all of them).
        let paths = containerCgroups(name).filter { FileManager.default.fileExists(atPath: $0.value) }
        try #require(!paths.isEmpty)
        let straggler = Process()
        straggler.executableURL = URL(fileURLWithPath: "/bin/sleep")
        straggler.arguments = ["30"]
        try straggler.run()
        defer { if straggler.isRunning { kill(straggler.processIdentifier, SIGKILL); straggler.waitUntilExit() } }
        for (_, path) in paths { try String(straggler.processIdentifier).write(toFile: path + "/cgroup.procs", atomically: false, encoding: .utf8) }

        #expect(try Container(rootfs + ["--", "true"], environment: environment).finish().status == 0)
        #expect(FileManager.default.fileExists(atPath: stateRoot + "/" + name), "state directory removed while its cgroup is busy")
        kill(straggler.processIdentifier, SIGKILL)
        straggler.waitUntilExit()
        #expect(try Container(rootfs + ["--", "true"], environment: environment).finish().status == 0)
        for (kind, path) in paths { #expect(!FileManager.default.fileExists(atPath: path), "\(kind) \(path) still there") }
        #expect(!FileManager.default.fileExists(atPath: stateRoot + "/" + name))
    }

    /// The pure cgroup v2 code path, as far as this host allows: in a private
    /// mount namespace with cgroup2 mounted over /sys/fs/cgroup (the v1
    /// trees hidden), swinit-run makes /sys/fs/cgroup/swinit/NAME, moves the
    /// container there, roots its cgroup namespace there and removes it; a
    /// limit whose controller the v2 tree lacks is one clear error.
    @Test func thePureV2PathCreatesMovesNamespacesAndRemoves() throws {
        guard FileManager.default.fileExists(atPath: "/sys/fs/cgroup/unified") else { return }
        let name = "cgroup-v2-\(getpid())"
        let script = """
            mount -t cgroup2 none /sys/fs/cgroup || exit 99
            "$0" --init "$1" --rootfs "$2" --name "$3" -- sh -c 'cat /proc/self/cgroup; echo ready; sleep 0.3' &
            for i in $(seq 100); do [ -e /sys/fs/cgroup/swinit/$3/cgroup.procs ] && break; sleep 0.02; done
            sleep 0.1; echo "members $(wc -l < /sys/fs/cgroup/swinit/$3/cgroup.procs)"
            wait $!; echo "status $?"; [ -e /sys/fs/cgroup/swinit/$3 ] && echo left || echo removed
            "$0" --init "$1" --rootfs "$2" --memory 64m -- true; echo "memory status $?"
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        process.arguments = ["--mount", "--propagation", "private", "sh", "-c", script,
                             harness.swinitRun, harness.swinit, harness.base, name]
        let output = Pipe(), errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let cgroupLines = text.components(separatedBy: "ready\n")[0].split(separator: "\n")
        #expect(cgroupLines.contains("0::/") && cgroupLines.allSatisfy { $0.hasSuffix(":/") }, "\(text) \(stderr)")
        #expect(text.contains("members 2\n"), "swinit and sh: \(text)")
        #expect(text.contains("status 0\nremoved\nmemory status 125\n"), "\(text)")
        #expect(stderr.contains("swinit-run: cgroup /sys/fs/cgroup: the memory controller is not available"), "\(stderr)")
    }

    /// docker run's spellings of "no limit": `-m 0`, `--pids-limit -1` (a
    /// value, not an unknown option) and `--cpus 0`.
    @Test func dockerSpellingsOfNoLimitAreAccepted() throws {
        let result = try run(rootfs + ["--memory", "0", "--pids-limit", "-1", "--cpus", "0", "--", "echo", "ok"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "ok\n", "\(result.stderr)")
    }

    @Test(arguments: [
        ["--memory", "1k"], ["--memory", "lots"], ["--memory", "-5m"], ["--cpus", "0.001"], ["--cpus", "1000"],
        ["--cpus", "x"], ["--cpus", "1.0000000001"],
    ])
    func badLimitsAreUsageErrors(option: [String]) throws {
        let result = try run(rootfs + option + ["--", "true"])
        #expect(result.status == 64, "\(option): \(result.stderr)")
        #expect(result.stderr.contains(option[0]), "\(result.stderr)")
    }
}
