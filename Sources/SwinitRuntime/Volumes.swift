// SPDX-License-Identifier: Apache-2.0
// Bind volumes (persist beyond the container) and scratch tmpfs mounts.
import Glibc

enum Volumes {
    /// Bind-mounts `volume.source` (recursively) at its target, resolved
    /// inside the root, then remounts it nosuid, nodev (and read-only). Flags
    /// the source mount already has (noexec, …) are kept (statvfs(3)).
    static func bind(_ volume: Volume, in root: borrowing ContainerRoot) throws(RuntimeError) {
        var info = stat()
        if stat(volume.source, &info) != 0 { throw RuntimeError.syscall("volume source", volume.source) }
        let kind: ContainerRoot.Kind = (info.st_mode & S_IFMT) == S_IFDIR ? .directory : .file
        var flags = Mount.nosuid | Mount.nodev | (volume.readOnly ? Mount.readOnly : 0)
        var fs = statvfs()
        if statvfs(volume.source, &fs) == 0 {
            // ST_NOEXEC is 8 (statvfs(3)); glibc exposes the name only with _GNU_SOURCE.
            if fs.f_flag & 8 != 0 { flags |= Mount.noexec }
            if fs.f_flag & UInt(ST_RDONLY) != 0 { flags |= Mount.readOnly }
        }
        try root.bind(volume.source, at: volume.target, as: kind, recursive: true, flags: flags)
    }

    /// Mounts an empty tmpfs (mode 1777, nosuid, nodev) at `path`.
    static func tmpfs(at path: String, in root: borrowing ContainerRoot) throws(RuntimeError) {
        try root.mount("tmpfs", at: path, type: "tmpfs", flags: Mount.nosuid | Mount.nodev, data: "mode=1777",
                       what: "tmpfs")
    }
}
