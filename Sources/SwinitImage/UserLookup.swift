// SPDX-License-Identifier: Apache-2.0
// `User` of an image (or `-u` with --image) → numeric ids, read from the
// image's own /etc/passwd and /etc/group (passwd(5), group(5)), as runc's
// user lookup does: a numeric user not in passwd gets group 0.
import Glibc

/// Resolves user specs against the files of a layer stack.
public struct UserLookup {
    /// Layer directories, lowest first (as `--layer` takes them).
    public let layers: [String]

    public init(layers: [String]) { self.layers = layers }

    /// `USER[:GROUP]`, each a name or a number → (uid, gid, and the user's
    /// home directory when passwd has one).
    /// - Throws: `ImageError` naming the user or group not found.
    public func resolve(_ spec: String) throws(ImageError) -> (uid: UInt32, gid: UInt32, home: String?) {
        let parts = spec.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let passwd = entries("etc/passwd")
        var uid: UInt32
        var gid: UInt32 = 0
        if let number = UInt32(parts[0]) {
            uid = number
            if let line = passwd.first(where: { $0.count > 3 && UInt32($0[2]) == number }), let group = UInt32(line[3]) {
                gid = group
            }
        } else {
            guard let line = passwd.first(where: { $0.count > 3 && $0[0] == parts[0] }),
                  let number = UInt32(line[2]), let group = UInt32(line[3]) else {
                throw ImageError("image", "user \(parts[0])", "not found in the image's /etc/passwd")
            }
            uid = number
            gid = group
        }
        if parts.count == 2 {
            if let number = UInt32(parts[1]) {
                gid = number
            } else {
                guard let line = entries("etc/group").first(where: { $0.count > 2 && $0[0] == parts[1] }),
                      let number = UInt32(line[2]) else {
                    throw ImageError("image", "group \(parts[1])", "not found in the image's /etc/group")
                }
                gid = number
            }
        }
        guard uid != UInt32.max, gid != UInt32.max else { throw ImageError("image", "user \(spec)", "invalid id") }
        return (uid, gid, Self.home(of: uid, in: passwd))
    }

    /// The home directory /etc/passwd gives `uid` (its first entry), as
    /// runc sets HOME; nil when there is no entry or it is empty.
    public func home(of uid: UInt32) -> String? { Self.home(of: uid, in: entries("etc/passwd")) }

    private static func home(of uid: UInt32, in passwd: [[String]]) -> String? {
        guard let line = passwd.first(where: { $0.count > 5 && UInt32($0[2]) == uid }), !line[5].isEmpty else { return nil }
        return line[5]
    }

    /// The colon-separated fields of each line of `path` in the top-most
    /// layer that has it; none when a whiteout or nothing is found.
    func entries(_ path: String) -> [[String]] {
        guard let entry = EntryPath(path) else { return [] }
        for layer in layers.reversed() {
            let root = open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard root >= 0 else { continue }
            defer { close(root) }
            let fd = openBeneath(root, entry, flags: O_RDONLY | O_NOFOLLOW | O_NONBLOCK)
            if fd < 0 {
                var info = stat()
                // A whiteout (or anything else there) hides the lower layers' file.
                if errno == ENOENT && fstatat(root, path, &info, AT_SYMLINK_NOFOLLOW) != 0 { continue }
                return []
            }
            defer { close(fd) }
            var info = stat()
            guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
                  let bytes = try? ImageFiles.readFile("/proc/self/fd/\(fd)", what: path, limit: 4 << 20) else {
                return []
            }
            return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map {
                $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            }
        }
        return []
    }
}
