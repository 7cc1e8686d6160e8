// SPDX-License-Identifier: Apache-2.0
// Switching the container's mount namespace to its new root.
import CSwinit
import Glibc

enum PivotRoot {
    /// Makes the root at `root` the process's `/` and detaches the old root.
    /// Follows pivot_root(2)'s `pivot_root(".", ".")` idiom (runc, bwrap): the
    /// old root ends up stacked on the new one, and umount2(".", MNT_DETACH)
    /// takes it away without needing a directory to park it in.
    static func pivot(to root: borrowing ContainerRoot) throws(RuntimeError) {
        try check("fchdir", root.hostPath) { fchdir(root.fd) }
        try check("pivot_root", root.hostPath) { swinit_pivot_root(".", ".") }
        try check("detach old root (umount2)", "/") { umount2(".", Int32(MNT_DETACH)) }
        try check("chdir", "/") { chdir("/") }
    }
}
