// SPDX-License-Identifier: Apache-2.0
// /dev for the container: a nodev tmpfs holding bind mounts of the host's
// harmless nodes, a private devpts instance, /dev/shm and /dev/mqueue.
import Glibc

enum Devices {
    /// Character devices every program expects; bind-mounted from the host,
    /// each bind its own mount, so they work although /dev itself is nodev.
    static let standardNodes = ["null", "zero", "full", "random", "urandom", "tty"]
    static let links = [
        ("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"), ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"), ("ptmx", "pts/ptmx"), ("core", "/proc/kcore"),
    ]

    /// Builds /dev in the container's root. Runs after /proc (the links point into it).
    static func mount(in root: borrowing ContainerRoot) throws(RuntimeError) {
        let hidden = Mount.nosuid | Mount.nodev | Mount.noexec
        try root.mount("tmpfs", at: "/dev", type: "tmpfs", flags: Mount.nosuid | Mount.nodev,
                       data: "mode=755,size=65536k", what: "tmpfs")
        for node in standardNodes {
            try root.bind("/dev/" + node, at: "/dev/" + node, as: .file, flags: 0)
        }
        let dev = root.open("/dev", extraFlags: O_DIRECTORY)
        if dev < 0 { throw RuntimeError.syscall("open", root.name("/dev")) }
        defer { close(dev) }
        for (name, target) in links where symlinkat(target, dev, name) != 0 {
            throw RuntimeError.syscall("symlink", root.name("/dev/" + name))
        }
        // newinstance: the container's ptys are its own, not the host's.
        try root.mount("devpts", at: "/dev/pts", type: "devpts", flags: Mount.nosuid | Mount.noexec,
                       data: "newinstance,ptmxmode=0666,mode=0620,gid=5", what: "devpts")
        try root.mount("shm", at: "/dev/shm", type: "tmpfs", flags: hidden, data: "mode=1777,size=65536k",
                       what: "tmpfs")
        try root.mount("mqueue", at: "/dev/mqueue", type: "mqueue", flags: hidden, what: "mqueue")
    }
}
