// SPDX-License-Identifier: Apache-2.0
// /proc for the container: a new procfs instance (it shows the new PID
// namespace) with Docker's masked and read-only paths.
import Glibc

enum ProcFS {
    /// Paths hidden behind /dev/null (files) or an empty read-only tmpfs (directories).
    static let maskedPaths = [
        "/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/sched_debug", "/proc/scsi", "/proc/timer_list", "/proc/timer_stats",
    ]
    /// Paths bind-mounted read-only over themselves.
    static let readOnlyPaths = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]

    /// Mounts procfs at `/proc` (nosuid, nodev, noexec), then masks and
    /// protects the paths above. Paths this kernel lacks are skipped.
    static func mount(in root: borrowing ContainerRoot) throws(RuntimeError) {
        try root.mount("proc", at: "/proc", type: "proc", flags: Mount.nosuid | Mount.nodev | Mount.noexec,
                       what: "proc")
        for path in maskedPaths { try mask(path, in: root) }
        for path in readOnlyPaths {
            let fd = root.open(path)
            if fd < 0 { continue }
            defer { close(fd) }
            // Bind the resolved fd, never a host path string that could follow a symlink out.
            try root.bind("/proc/self/fd/\(fd)", at: path, as: .directory, recursive: true,
                          flags: Mount.readOnly | Mount.nosuid | Mount.nodev | Mount.noexec)
        }
    }

    /// Hides `path`: a directory gets an empty read-only tmpfs, anything
    /// else the host's /dev/null, so reads return nothing.
    static func mask(_ path: String, in root: borrowing ContainerRoot) throws(RuntimeError) {
        let fd = root.open(path)
        if fd < 0 { return }
        var info = stat()
        let isDirectory = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
        close(fd)
        if isDirectory {
            try root.mount("tmpfs", at: path, type: "tmpfs", flags: Mount.readOnly | Mount.nosuid | Mount.nodev
                           | Mount.noexec, what: "tmpfs")
        } else {
            try root.mount("/dev/null", at: path, as: .file, type: nil, flags: Mount.bind, what: "bind /dev/null")
        }
    }
}
