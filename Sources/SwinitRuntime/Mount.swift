// SPDX-License-Identifier: Apache-2.0
// mount(2) and umount2(2) with errors that name what was mounted where.
import Glibc

/// Thin wrappers over mount(2); `name` is the path shown in error messages.
enum Mount {
    static let nosuid = UInt(MS_NOSUID)
    static let nodev = UInt(MS_NODEV)
    static let noexec = UInt(MS_NOEXEC)
    static let readOnly = UInt(MS_RDONLY)
    static let bind = UInt(MS_BIND)
    static let recursive = UInt(MS_REC)
    static let remount = UInt(MS_REMOUNT)
    static let privateMount = UInt(MS_PRIVATE)

    /// mount(2) of a filesystem `type` (nil for binds and remounts).
    /// - Throws: `RuntimeError` "mount TYPE on NAME: strerror".
    static func mount(_ source: String?, on target: String, type: String?, flags: UInt, data: String? = nil,
                      what: String, name: String) throws(RuntimeError) {
        let result = Glibc.mount(source, target, type, flags, data)
        if result != 0 { throw RuntimeError.syscall("mount \(what) on", name) }
    }

    /// Makes every mount below `/` private (`mount --make-rprivate /`), so no
    /// later mount propagates back to the host. Must precede every other mount.
    static func makeRootPrivate() throws(RuntimeError) {
        try mount(nil, on: "/", type: nil, flags: recursive | privateMount, what: "rprivate", name: "/")
    }
}
