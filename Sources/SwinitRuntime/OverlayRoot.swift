// SPDX-License-Identifier: Apache-2.0
// The container's root: an overlayfs of read-only image layers and one thin
// writable layer (see the kernel's Documentation/filesystems/overlayfs.rst).
import Glibc

/// The directories of one overlay mount.
public struct OverlayLayers: Equatable, Sendable {
    /// Read-only layers, top-most first, as overlayfs wants them.
    public var lowerdirs: [String]
    /// The writable layer.
    public var upperdir: String
    /// overlayfs' scratch directory; must be on the same filesystem as `upperdir`.
    public var workdir: String

    public init(lowerdirs: [String], upperdir: String, workdir: String) {
        self.lowerdirs = lowerdirs
        self.upperdir = upperdir
        self.workdir = workdir
    }

    /// Escapes `\`, `,` and `:` with a backslash, the characters overlayfs'
    /// option parser splits on; a ':' left in a path would change the stack.
    public static func escape(_ path: String) -> String {
        var out = ""
        for character in path {
            if character == "\\" || character == "," || character == ":" { out.append("\\") }
            out.append(character)
        }
        return out
    }

    /// mount(2) takes at most one page of data, NUL included.
    static let maximumOptionsLength = 4096

    /// The mount(2) data string: `lowerdir=a:b,upperdir=u,workdir=w`.
    public var mountOptions: String {
        "lowerdir=" + lowerdirs.map(Self.escape).joined(separator: ":")
            + ",upperdir=" + Self.escape(upperdir) + ",workdir=" + Self.escape(workdir)
    }

    /// Mounts the overlay on `merged`, `nodev` so a device node made in the
    /// container (CAP_MKNOD is a default capability) cannot be opened.
    /// - Throws: `RuntimeError` "mount overlay on MERGED: strerror".
    func mount(on merged: String) throws(RuntimeError) {
        // The kernel copies mount data into one page and cuts the rest off,
        // which shows up as a confusing ENOENT for a truncated path.
        let length = mountOptions.utf8.count
        guard length < Self.maximumOptionsLength else {
            throw RuntimeError("mount overlay on", path: merged, reason:
                "the overlay options are \(length) bytes, over the kernel's \(Self.maximumOptionsLength - 1): use fewer or shorter layer paths")
        }
        try Mount.mount("overlay", on: merged, type: "overlay", flags: Mount.nodev, data: mountOptions,
                        what: "overlay", name: merged)
    }
}

/// Sets up the scratch tmpfs in the state directory and the overlay on it.
enum OverlayRoot {
    /// Mounts a tmpfs on `stateDirectory` (in this mount namespace only),
    /// makes `upper`, `work` and `merged` in it (or uses `persistentUpper`'s
    /// `upper` and `work`) and mounts the overlay on `merged`.
    /// - Returns: the path of `merged`.
    static func mount(layers: [String], persistentUpper: String?, stateDirectory: String) throws(RuntimeError)
        -> String
    {
        try Mount.mount("tmpfs", on: stateDirectory, type: "tmpfs", flags: Mount.nosuid | Mount.nodev,
                        data: "mode=0755", what: "tmpfs", name: stateDirectory)
        let base = persistentUpper ?? stateDirectory
        let upper = base + "/upper", work = base + "/work", merged = stateDirectory + "/merged"
        for directory in [upper, work, merged] where mkdir(directory, 0o755) != 0 && errno != EEXIST {
            throw RuntimeError.syscall("mkdir", directory)
        }
        try OverlayLayers(lowerdirs: layers.reversed(), upperdir: upper, workdir: work).mount(on: merged)
        return merged
    }
}
