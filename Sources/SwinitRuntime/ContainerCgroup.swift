// SPDX-License-Identifier: Apache-2.0
// The container's own cgroup, `swinit/NAME` (cgroups(7)): made and limited
// by the host side before stage 2 starts; stage 2 is born into its cgroup2
// directory (clone3 CLONE_INTO_CGROUP) and moved by the host into the v1
// ones; it then unshares the cgroup namespace. Read for OOM kills and
// removed by the host side when the container ends. A cgroup left by a kill -9 of swinit-run is removed by the
// next run: the state directory of the same name is no longer locked.
import CSwinit
import Glibc

/// A container's cgroup across the hierarchies of `CgroupLayout`.
public struct ContainerCgroup {
    /// One cgroup directory: its path, the v1 controllers of its hierarchy
    /// (empty for cgroup2).
    struct Directory {
        var path: String
        var controllers: [String]
        var isV2: Bool { controllers.isEmpty }
    }

    let directories: [Directory]
    let limits: ResourceLimits
    let isPureV2: Bool

    /// The parents the container's cgroup is made in: `swinit` below
    /// swinit-run's own cgroup on v1 and the hybrid cgroup2 tree (so the
    /// caller's limits still hold), at the root on a pure v2 host (v2 lets no
    /// cgroup that holds processes, as swinit-run's own does, enable
    /// controllers below it). With a cgroup2 tree, the v1 hierarchies are
    /// used only for the limits asked for: a move into a v1 cgroup costs an
    /// RCU grace period, being born into the cgroup2 one costs nothing.
    static func parents(_ layout: CgroupLayout, limits: ResourceLimits) -> [Directory] {
        func join(_ mount: String, _ own: String) -> String {
            (own == "/" ? mount : mount + own) + "/swinit"
        }
        if layout.isPureV2, let v2 = layout.v2 { return [Directory(path: v2.mountPoint + "/swinit", controllers: [])] }
        let needed = limits.controllers
        let v1 = layout.v1.filter { layout.v2 == nil || $0.controllers.contains(where: needed.contains) }
        var parents = v1.map { Directory(path: join($0.mountPoint, $0.ownPath), controllers: $0.controllers) }
        if let v2 = layout.v2 { parents.append(Directory(path: join(v2.mountPoint, v2.ownPath), controllers: [])) }
        return parents
    }

    /// Creates `swinit/NAME` in every hierarchy and writes `limits`.
    /// - Throws: `RuntimeError` (exit 125) naming the cgroup file that could
    ///   not be made or written, or a limit whose controller this host lacks;
    ///   whatever was made is removed again.
    /// - Parameter layout: the hierarchies mounted here (`CgroupLayout.current()`).
    init(name: String, limits: ResourceLimits, layout: CgroupLayout) throws(RuntimeError) {
        let parents = Self.parents(layout, limits: limits)
        guard !parents.isEmpty else {
            throw RuntimeError("create cgroup", reason: "no cgroup hierarchy is mounted under /sys/fs/cgroup")
        }
        var made: [Directory] = []
        do throws(RuntimeError) {
            for parent in parents {
                if mkdir(parent.path, 0o755) != 0 && errno != EEXIST { throw RuntimeError.syscall("create cgroup", parent.path) }
                if parent.isV2 && layout.isPureV2 { try Self.enableControllers(below: parent.path, for: limits) }
                let path = parent.path + "/" + name
                // EEXIST: a stale cgroup of this name that still held a dying process.
                if mkdir(path, 0o755) != 0 && errno != EEXIST { throw RuntimeError.syscall("create cgroup", path) }
                made.append(Directory(path: path, controllers: parent.controllers))
            }
            self.directories = made
            self.limits = limits
            self.isPureV2 = layout.isPureV2
            try writeLimits()
        } catch {
            for directory in made { rmdir(directory.path) }
            throw error
        }
    }

    /// The cgroup2 directory stage 2 can be born into, if there is one.
    public var v2Directory: String? { directories.first(where: \.isV2)?.path }

    /// v2: a child can use a controller only when its parent lists it in
    /// cgroup.subtree_control; enable the ones the limits need (and that
    /// cgroup.controllers offers) from the root down to `parent`.
    static func enableControllers(below parent: String, for limits: ResourceLimits) throws(RuntimeError) {
        let wanted = limits.controllers
        guard !wanted.isEmpty else { return }
        let root = String(parent.dropLast("/swinit".count))
        let available = (readText(root + "/cgroup.controllers") ?? "").split(whereSeparator: \.isWhitespace).map(String.init)
        for controller in wanted where !available.contains(controller) {
            throw RuntimeError("cgroup", path: root, reason: "the \(controller) controller is not available in this cgroup2 tree")
        }
        let line = wanted.map { "+" + $0 }.joined(separator: " ")
        for directory in [root, parent] {
            try write(line, to: directory + "/cgroup.subtree_control")
        }
    }

    /// memory.limit_in_bytes (+ memory.memsw.limit_in_bytes at twice the
    /// limit, Docker's default swap), pids.max, cpu.cfs_quota_us with
    /// cpu.cfs_period_us on v1; memory.max (+ memory.swap.max), pids.max and
    /// cpu.max on v2.
    func writeLimits() throws(RuntimeError) {
        guard !limits.isEmpty else { return }
        let pureV2 = isPureV2
        func directory(_ controller: String) throws(RuntimeError) -> String {
            if pureV2, let v2 = v2Directory { return v2 }
            guard let directory = directories.first(where: { $0.controllers.contains(controller) }) else {
                throw RuntimeError("cgroup", reason: "no \(controller) controller is mounted (cgroup v1)")
            }
            return directory.path
        }
        if let bytes = limits.memoryBytes {
            let path = try directory("memory")
            if pureV2 {
                try Self.write(String(bytes), to: path + "/memory.max")
                if access(path + "/memory.swap.max", F_OK) == 0 { try Self.write(String(bytes), to: path + "/memory.swap.max") }
            } else {
                try Self.write(String(bytes), to: path + "/memory.limit_in_bytes")
                if access(path + "/memory.memsw.limit_in_bytes", F_OK) == 0 {
                    try Self.write(String(bytes * 2), to: path + "/memory.memsw.limit_in_bytes")
                }
            }
        }
        if let pids = limits.pids { try Self.write(String(pids), to: try directory("pids") + "/pids.max") }
        if let quota = limits.cpuQuota {
            let path = try directory("cpu")
            if pureV2 {
                try Self.write("\(quota) \(ResourceLimits.cpuPeriod)", to: path + "/cpu.max")
            } else {
                try Self.write(String(ResourceLimits.cpuPeriod), to: path + "/cpu.cfs_period_us")
                try Self.write(String(quota), to: path + "/cpu.cfs_quota_us")
            }
        }
    }

    /// How many processes the kernel's OOM killer killed in the container's
    /// memory cgroup: `oom_kill` of memory.oom_control (v1) or memory.events (v2).
    public var outOfMemoryKills: UInt64 {
        for directory in directories {
            let file = directory.isV2 ? "/memory.events" : "/memory.oom_control"
            guard let text = readText(directory.path + file) else { continue }
            for line in text.split(separator: "\n") where line.hasPrefix("oom_kill ") {
                return UInt64(line.dropFirst(9)) ?? 0
            }
        }
        return 0
    }

    /// Removes every directory (rmdir(2)); a cgroup whose last process has
    /// just been reaped can report EBUSY for a moment, so retry briefly.
    public func remove() {
        for directory in directories { Self.removeDirectory(directory.path) }
    }

    static func removeDirectory(_ path: String) {
        for _ in 0..<200 {
            if rmdir(path) == 0 || errno == ENOENT { return }
            guard errno == EBUSY else { return }
            usleep(1000)
        }
    }

    /// Removes the container cgroups whose owner is gone: the state directory
    /// of that name in `stateRoot` exists but nobody holds its lock, or it is
    /// missing and the cgroup is older than a minute (a run with another
    /// state root, or one that crashed). A cgroup with processes stays
    /// (rmdir fails with EBUSY: a killed container still being torn down).
    /// - Returns: the names whose owner is gone but whose cgroup stays: their
    ///   state directories must stay too (`StateDirectory(name:keeping:)`),
    ///   so a later run still sees the owner gone and retries.
    @discardableResult
    static func removeStale(stateRoot: String, layout: CgroupLayout) -> Set<String> {
        var remaining = Set<String>()
        // Every hierarchy a container may have used, whatever its limits were.
        for parent in parents(layout, limits: ResourceLimits(memoryBytes: 1, pids: 1, nanoCPUs: 1)) {
            guard let directory = opendir(parent.path) else { continue }
            defer { closedir(directory) }
            while let entry = readdir(directory) {
                guard entry.pointee.d_type == UInt8(DT_DIR) else { continue }
                let name = withUnsafeBytes(of: entry.pointee.d_name) {
                    String(cString: $0.bindMemory(to: CChar.self).baseAddress!)
                }
                if name == "." || name == ".." { continue }
                let path = parent.path + "/" + name
                if ownerIsGone(lock: stateRoot + "/" + name + "/lock", cgroup: path) && rmdir(path) != 0
                    && errno != ENOENT {
                    remaining.insert(name)
                }
            }
        }
        return remaining
    }

    static func ownerIsGone(lock path: String, cgroup: String) -> Bool {
        let lock = open(path, O_RDONLY | O_CLOEXEC)
        if lock >= 0 {
            defer { close(lock) }
            return flock(lock, LOCK_EX | LOCK_NB) == 0
        }
        var info = stat()
        return errno == ENOENT && stat(cgroup, &info) == 0 && time(nil) - info.st_ctim.tv_sec > 60
    }

    static func write(_ value: String, to path: String) throws(RuntimeError) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        if fd < 0 { throw RuntimeError.syscall("cgroup: open", path) }
        defer { close(fd) }
        let count = value.withCString { text in retryingOnInterrupt { Glibc.write(fd, text, strlen(text)) } }
        if count < 0 { throw RuntimeError.syscall("cgroup: write \(value) to", path) }
    }

    /// Stage 2's end of the pipe on which the host says "joined": it closes
    /// its end once stage 2 is in every cgroup (posix_spawn dup2s it here).
    static let joinDescriptor: Int32 = 5

    /// Host side: moves stage 2 (`pid`) into the cgroups it was not born
    /// into (writes cgroup.procs). A move takes the kernel's
    /// cgroup_threadgroup_rwsem for writing, which waits out an RCU grace
    /// period (5-15 ms here) unless another move happened just before; the
    /// host does it while stage 2 builds the root.
    /// - Throws: `RuntimeError` naming the cgroup.procs file that refused.
    func add(_ pid: pid_t, bornInV2: Bool) throws(RuntimeError) {
        for directory in directories where !(bornInV2 && directory.isV2) {
            try Self.write(String(pid), to: directory.path + "/cgroup.procs")
        }
    }

    /// Stage 2: waits until the host has moved it into the container's
    /// cgroup (end of file on `joinDescriptor`), then unshares the cgroup
    /// namespace (unshare(CLONE_NEWCGROUP)) so it is rooted there and
    /// /proc/self/cgroup shows `/`. Needs CAP_SYS_ADMIN: before the drop.
    static func awaitJoin() throws(RuntimeError) {
        var byte: UInt8 = 0
        let count = retryingOnInterrupt { read(joinDescriptor, &byte, 1) }
        close(joinDescriptor)
        guard count == 0 else { throw RuntimeError("join cgroup", reason: "the host did not move stage 2") }
        if swinit_unshare(0x0200_0000) != 0 { throw RuntimeError.syscall("unshare", "cgroup") }  // CLONE_NEWCGROUP
    }
}
