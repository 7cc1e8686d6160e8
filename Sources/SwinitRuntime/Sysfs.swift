// SPDX-License-Identifier: Apache-2.0
// /sys for the container: read-only, with /sys/firmware masked like Docker.
import Glibc

enum Sysfs {
    /// Mounts sysfs read-only at /sys. A sysfs mount shows the network
    /// devices of the mounting process's network namespace; where the kernel
    /// refuses a new instance (EPERM), the host's /sys is bound read-only.
    static func mount(in root: borrowing ContainerRoot) throws(RuntimeError) {
        let flags = Mount.readOnly | Mount.nosuid | Mount.nodev | Mount.noexec
        do {
            try root.mount("sysfs", at: "/sys", type: "sysfs", flags: flags, what: "sysfs")
        } catch let error where error.errno == EPERM {
            try root.bind("/sys", at: "/sys", as: .directory, recursive: true, flags: flags)
        }
        try ProcFS.mask("/sys/firmware", in: root)
    }
}
