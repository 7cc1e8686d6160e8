// SPDX-License-Identifier: Apache-2.0
// Which cgroup hierarchies this host has, read at run time from
// /proc/self/mountinfo (proc(5)) and where swinit-run itself sits in them
// (/proc/self/cgroup, cgroups(7)).
import Glibc

/// The cgroup hierarchies a container's cgroup is made in.
struct CgroupLayout: Equatable {
    /// One hierarchy: where it is mounted and swinit-run's own cgroup in it.
    struct Hierarchy: Equatable {
        /// v1 controllers of this hierarchy (`["cpu", "cpuacct"]`); empty for cgroup2.
        var controllers: [String]
        var mountPoint: String
        /// swinit-run's cgroup relative to the mount (`/` or `/process_api/x`).
        var ownPath: String

        var isV2: Bool { controllers.isEmpty }
    }

    /// The v1 controllers a container's cgroup is made in (the ones its
    /// limits use).
    static let v1Controllers = ["memory", "pids", "cpu"]

    /// v1 hierarchies holding `v1Controllers`, and the cgroup2 mount if any.
    var v1: [Hierarchy] = []
    var v2: Hierarchy?

    /// A pure cgroup v2 host: no v1 controller mounted (the limits go to the
    /// cgroup2 tree). Otherwise v1 holds the limits and a cgroup2 mount (the
    /// hybrid `unified` tree) only membership.
    var isPureV2: Bool { v1.isEmpty && v2 != nil }

    /// Reads this process's view.
    static func current() -> CgroupLayout {
        parse(mountinfo: readText("/proc/self/mountinfo") ?? "", cgroups: readText("/proc/self/cgroup") ?? "")
    }

    /// Builds the layout from the text of /proc/self/mountinfo and /proc/self/cgroup.
    static func parse(mountinfo: String, cgroups: String) -> CgroupLayout {
        // /proc/self/cgroup: `ID:CONTROLLERS:PATH`, `0::PATH` for cgroup2.
        var ownPaths: [String: String] = [:]
        for line in cgroups.split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            ownPaths[String(fields[1])] = String(fields[2])
        }
        var layout = CgroupLayout()
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTIONS
        let mounts = mountinfo.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
            .filter { fields in fields.firstIndex(of: "-").map { $0 >= 5 && $0 + 3 < fields.count } ?? false }
        let mountPoints = mounts.map { unescape($0[4]) }
        for (index, fields) in mounts.enumerated() {
            let dash = fields.firstIndex(of: "-")!
            let root = unescape(fields[3]), mountPoint = mountPoints[index]
            // A later mount on or above this one hides it (cgroup2 mounted over
            // /sys/fs/cgroup in a private mount namespace hides the v1 trees).
            if mountPoints[(index + 1)...].contains(where: { mountPoint == $0 || mountPoint.hasPrefix($0 == "/" ? "/" : $0 + "/") }) {
                continue
            }
            switch fields[dash + 1] {
            case "cgroup2":
                guard layout.v2 == nil, let own = ownPaths[""] else { continue }
                layout.v2 = Hierarchy(controllers: [], mountPoint: mountPoint, ownPath: relative(own, to: root))
            case "cgroup":
                let controllers = fields[dash + 3].split(separator: ",").map(String.init)
                    .filter { $0 != "rw" && $0 != "ro" && !$0.hasPrefix("name=") && !$0.contains("=") }
                guard controllers.contains(where: v1Controllers.contains),
                      !layout.v1.contains(where: { $0.controllers == controllers }),
                      let own = ownPaths[controllers.joined(separator: ",")] else { continue }
                layout.v1.append(Hierarchy(controllers: controllers, mountPoint: mountPoint,
                                           ownPath: relative(own, to: root)))
            default:
                continue
            }
        }
        return layout
    }

    /// The v1 hierarchy holding `controller`.
    func hierarchy(for controller: String) -> Hierarchy? {
        v1.first { $0.controllers.contains(controller) }
    }

    /// `path` as seen below a mount whose root is `root`.
    static func relative(_ path: String, to root: String) -> String {
        guard root != "/", path.hasPrefix(root) else { return path }
        let rest = String(path.dropFirst(root.count))
        return rest.isEmpty ? "/" : rest
    }

    /// mountinfo escapes space, tab, newline and backslash as \ooo.
    static func unescape(_ field: String) -> String {
        guard field.contains("\\") else { return field }
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3, let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The whole text of a (small) file such as a /proc or cgroup file; nil if unreadable.
func readText(_ path: String) -> String? {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    if fd < 0 { return nil }
    defer { close(fd) }
    var result: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = retryingOnInterrupt { read(fd, &buffer, buffer.count) }
        if count < 0 { return nil }
        if count == 0 { break }
        result += buffer[0..<count]
    }
    return String(decoding: result, as: UTF8.self)
}
