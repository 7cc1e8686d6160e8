// SPDX-License-Identifier: Apache-2.0
// Tells an OOM kill apart from any other SIGKILL, as `docker inspect`'s
// OOMKilled does: the memory cgroup counted an oom_kill.
import Glibc

enum OutOfMemoryReport {
    /// Throws "container killed: out of memory (limit 64 MiB)" with exit 137
    /// when the container ended by SIGKILL (status 137) and the kernel's OOM
    /// killer ran in its cgroup; when the OOM killer took a process but the
    /// container went on, writes one warning line to stderr.
    static func check(status: Int32, cgroup: ContainerCgroup, limits: ResourceLimits) throws(RuntimeError) {
        let kills = cgroup.outOfMemoryKills
        guard kills > 0 else { return }
        let limit = limits.memoryBytes.map { " (limit \(ResourceLimits.describe(bytes: $0)))" } ?? ""
        if status == 128 + SIGKILL {
            throw RuntimeError("container killed", reason: "out of memory" + limit, exitCode: 128 + SIGKILL)
        }
        let line = "swinit-run: warning: out of memory\(limit): the kernel killed \(kills) process(es) in the container\n"
        _ = line.withCString { write(2, $0, strlen($0)) }
    }
}
