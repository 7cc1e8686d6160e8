// SPDX-License-Identifier: Apache-2.0
// What the container cannot see or do: hostname, capabilities, /proc, fds,
// mounts, device nodes, network.
import Foundation
import Testing

@Suite(.enabled(if: isRoot, "needs root: namespaces and mounts"), .timeLimit(.minutes(1)))
struct IsolationTests {
    @Test func everyNamespaceIsNewExceptTheNetworkWithHost() throws {
        let kinds = ["pid", "mnt", "uts", "ipc", "net"]
        let script = kinds.map { "readlink /proc/self/ns/\($0)" }.joined(separator: "; ")
        let host = kinds.map { (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/\($0)")) ?? "" }
        let own = try run(rootfs + ["--", "sh", "-c", script]).stdout.split(separator: "\n").map(String.init)
        #expect(own.count == kinds.count)
        for (mine, theirs) in zip(own, host) { #expect(mine != theirs) }
        let shared = try run(rootfs + ["--network", "host", "--", "sh", "-c", script]).stdout.split(separator: "\n").map(String.init)
        #expect(shared.last == host.last)
    }

    @Test func devHasTheStandardNodesAndAPrivatePtyInstance() throws {
        let result = try run(rootfs + ["--", "sh", "-c", """
            ls /dev/pts; exec 3<>/dev/ptmx && ls /dev/pts
            echo x > /dev/null && head -c 3 /dev/zero | wc -c && head -c 3 /dev/urandom | wc -c
            echo x > /dev/full 2>/dev/null || echo full
            echo shm > /dev/shm/x && cat /dev/shm/x
            readlink /dev/fd; readlink /dev/stdin; readlink /dev/ptmx
            """])
        #expect(result.stdout == "ptmx\n0\nptmx\n3\n3\nfull\nshm\n/proc/self/fd\n/proc/self/fd/0\npts/ptmx\n", "\(result.stdout) \(result.stderr)")
    }

    @Test func hostnameIsTheContainers() throws {
        let result = try run(rootfs + ["--hostname", "box", "--", "hostname"])
        #expect(result.stdout == "box\n", "\(result.stderr)")
        #expect(ProcessInfo.processInfo.hostName != "box")
    }

    @Test func defaultCapabilitiesAndNoNewPrivs() throws {
        let result = try run(rootfs + ["--", "grep", "-E", "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)", "/proc/self/status"])
        #expect(result.stdout == """
            CapInh:\t0000000000000000
            CapPrm:\t00000000a80425fb
            CapEff:\t00000000a80425fb
            CapBnd:\t00000000a80425fb
            CapAmb:\t0000000000000000
            NoNewPrivs:\t1

            """, "\(result.stderr)")
    }

    @Test func capDropAndAddChangeTheSets() throws {
        let result = try run(rootfs + ["--cap-drop", "ALL", "--cap-add", "KILL", "--", "grep", "-E", "^Cap(Eff|Bnd)", "/proc/self/status"])
        #expect(result.stdout == "CapEff:\t0000000000000020\nCapBnd:\t0000000000000020\n", "\(result.stderr)")
    }

    @Test func capAddAllGrantsTheHostsBoundingSet() throws {
        let host = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("CapBnd:") }.map(String.init)
        let result = try run(rootfs + ["--cap-add", "ALL", "--", "grep", "^CapBnd", "/proc/self/status"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == (host ?? "?") + "\n")
    }

    @Test func nonRootUserHasNoEffectiveCapabilities() throws {
        let result = try run(rootfs + ["-u", "1000", "--", "grep", "-E", "^Cap(Eff|Bnd)", "/proc/self/status"])
        #expect(result.stdout == "CapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\n", "\(result.stderr)")
    }

    @Test func maskedProcPathsReadEmptyAndProcSysIsReadOnly() throws {
        let result = try run(rootfs + ["--", "sh", "-c", """
            for p in /proc/kcore /proc/keys /proc/timer_list /proc/interrupts /proc/sched_debug /proc/latency_stats; do
              [ -e $p ] && echo "$p $(cat $p | wc -c)"; done
            for d in /proc/acpi /proc/scsi /proc/asound; do [ -d $d ] && echo "$d $(ls -A $d | wc -l)"; done
            echo x > /proc/sys/kernel/hostname 2>/dev/null && echo writable || echo read-only
            echo x > /proc/sysrq-trigger 2>/dev/null && echo writable || echo read-only
            """])
        let lines = result.stdout.split(separator: "\n")
        #expect(lines.count >= 3, "\(result.stdout) \(result.stderr)")
        for line in lines.dropLast(2) { #expect(line.hasSuffix(" 0"), "\(line)") }
        #expect(lines.suffix(2) == ["read-only", "read-only"])
    }

    @Test func onlyStandardDescriptorsReachTheCommand() throws {
        // Looked at from the host: a busybox shell inside holds extra fds of
        // its own while it runs a pipeline, a redirection or a glob.
        let container = try Container(rootfs + ["--", "sh", "-c", "echo ready; exec sleep 2"])
        #expect(container.waitForOutput("ready"))
        usleep(100_000)
        let command = descendants(of: container.pid).last ?? 0
        let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(command)/fd")) ?? []
        #expect(fds.sorted() == ["0", "1", "2"])
        kill(container.pid, SIGTERM)
        _ = container.finish()
    }

    @Test func mountIsRefusedInside() throws {
        let result = try run(rootfs + ["--", "sh", "-c", "mkdir -p /mnt; mount -t tmpfs none /mnt 2>&1; echo status=$?"])
        #expect(result.stdout.lowercased().contains("permission denied") || result.stdout.contains("not permitted"),
                "\(result.stdout)")
        #expect(!result.stdout.contains("status=0"))
    }

    /// CAP_MKNOD is a default capability, so mknod works; the root, /dev and
    /// tmpfs are nodev, so the node made from the host's disk cannot be opened.
    @Test func madeBlockDeviceCannotBeOpened() throws {
        var info = stat()
        stat("/", &info)
        let major = (info.st_dev >> 8) & 0xfff, minor = (info.st_dev & 0xff) | ((info.st_dev >> 12) & 0xfff00)
        let result = try run(rootfs + ["--", "sh", "-c", """
            for d in /disk /dev/disk /tmp/disk; do
              mknod $d b \(major) \(minor) && echo made; head -c 1 $d >/dev/null 2>&1 && echo OPENED || echo refused
            done
            """])
        #expect(result.stdout == String(repeating: "made\nrefused\n", count: 3), "\(result.stdout) \(result.stderr)")
    }

    @Test func networkNoneHasOnlyLoopbackUp() throws {
        let result = try run(rootfs + ["--", "sh", "-c", "ls /sys/class/net; cat /sys/class/net/lo/flags"])
        #expect(result.stdout.hasPrefix("lo\n"), "\(result.stdout) \(result.stderr)")
        let flags = Int(result.stdout.split(separator: "\n").last?.dropFirst(2) ?? "", radix: 16) ?? 0
        #expect(flags & 1 == 1, "lo is not up: \(result.stdout)")
    }

    @Test func networkHostSharesTheHostsInterfaces() throws {
        let result = try run(rootfs + ["--network", "host", "--", "ls", "/sys/class/net"])
        let host = try FileManager.default.contentsOfDirectory(atPath: "/sys/class/net").sorted()
        #expect(result.stdout.split(separator: "\n").map(String.init).sorted() == host, "\(result.stderr)")
    }
}
