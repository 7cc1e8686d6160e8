// SPDX-License-Identifier: Apache-2.0
// The content-addressed store (default /var/lib/swinit, root-only):
//
//   layers/<chainID hex>/   one unpacked layer, shared read-only by every image
//                           and container that has it; appears by rename only
//   images/<id hex>.json    an ImageRecord
//   names.json              NAME:TAG → image id
//   tmp/                    layers being unpacked; all stale when a writer starts
//   write.lock, run.lock    see FileLock
import FoundationEssentials
import Glibc

/// A store directory. Readers (runs) take no write lock: every file changes
/// by rename(2), so a reader sees the old or the new version, never half.
public struct ImageStore: Sendable {
    public let root: String

    /// `SWINIT_STORE`, else /var/lib/swinit. An empty value is the default too.
    public static var defaultRoot: String {
        if let value = getenv("SWINIT_STORE"), value.pointee != 0 { return String(cString: value) }
        return "/var/lib/swinit"
    }

    /// Opens the store at `root`, creating it (mode 0700) and its
    /// subdirectories when `create` is set.
    /// - Throws: `ImageError` when it is missing (without `create`), cannot be
    ///   made, belongs to another user or is open to others.
    public init(root: String, create: Bool) throws(ImageError) {
        self.root = root.count > 1 && root.hasSuffix("/") ? String(root.dropLast()) : root
        if create {
            var prefix = ""
            for component in self.root.split(separator: "/") {
                prefix += "/" + component
                if mkdir(prefix, 0o700) != 0 && errno != EEXIST { throw ImageError.syscall("image", prefix, "mkdir") }
            }
            for directory in [layersPath, imagesPath, temporaryPath] where mkdir(directory, 0o700) != 0 && errno != EEXIST {
                throw ImageError.syscall("image", directory, "mkdir")
            }
        }
        var info = stat()
        guard stat(self.root, &info) == 0 else {
            throw ImageError("image", self.root, "no image store here (load an image first)")
        }
        // Its layers become containers' roots, setuid files and device nodes
        // and all: a store another user owns (who could swap a layer) or can
        // enter is refused (Docker keeps /var/lib/docker at 0710).
        guard info.st_uid == geteuid() else {
            throw ImageError("image", self.root, "belongs to uid \(info.st_uid), not to this user: refusing a store another user can change")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw ImageError("image", self.root, "mode \(String(info.st_mode & 0o777, radix: 8)) lets other users in "
                + "(its layers hold setuid files and device nodes): chmod 0700 it, or use another store")
        }
    }

    /// `ROOT/layers`: one directory per chain ID.
    public var layersPath: String { root + "/layers" }
    /// `ROOT/images`: one record and one config per image.
    public var imagesPath: String { root + "/images" }
    var temporaryPath: String { root + "/tmp" }
    var namesPath: String { root + "/names.json" }

    /// The lowerdir of the layer with this chain ID.
    public func layerPath(_ chainID: Digest) -> String { layersPath + "/" + chainID.hex }
    func recordPath(_ id: Digest) -> String { imagesPath + "/" + id.hex + ".json" }

    /// Runs `body` holding the lock every writer holds.
    public func whileWriting<T>(_ body: () throws(ImageError) -> T) throws(ImageError) -> T {
        try FileLock.holding(root + "/write.lock", exclusive: true, body)
    }

    /// Runs `body` (a container's whole life) holding the run lock, shared.
    public func whileRunning<T>(_ body: () throws(ImageError) -> T) throws(ImageError) -> T {
        try FileLock.holding(runLockPath, exclusive: false, body)
    }

    var runLockPath: String { root + "/run.lock" }

    /// Device nodes in layers are kept only when no one but root can reach
    /// them: the store's root directory is owned by root and mode 0700 (or
    /// stricter). Containers mount their root nodev either way.
    public var devicesAllowed: Bool {
        var info = stat()
        return stat(root, &info) == 0 && info.st_uid == 0 && info.st_mode & 0o077 == 0
    }

    // MARK: names and records

    /// NAME:TAG → image id.
    public func names() throws(ImageError) -> [String: Digest] {
        guard access(namesPath, F_OK) == 0 else { return [:] }
        let bytes = try ImageFiles.readFile(namesPath, what: namesPath, limit: 64 << 20)
        return try JSONDecoder.decode([String: Digest].self, from: bytes, what: namesPath)
    }

    func saveNames(_ names: [String: Digest]) throws(ImageError) {
        try writeJSON(names, to: namesPath)
    }

    public func record(_ id: Digest) throws(ImageError) -> ImageRecord {
        let path = recordPath(id)
        let bytes = try ImageFiles.readFile(path, what: path, limit: 16 << 20)
        return try JSONDecoder.decode(ImageRecord.self, from: bytes, what: path)
    }

    /// Writes the config blob, then the record (a record always has its config).
    func save(_ record: ImageRecord, config: [UInt8]) throws(ImageError) {
        try writeFile(config, to: configPath(record.id))
        try writeJSON(record, to: recordPath(record.id))
    }

    func configPath(_ id: Digest) -> String { imagesPath + "/" + id.hex + ".config" }

    /// The image's config blob as it was loaded.
    func config(_ id: Digest) throws(ImageError) -> [UInt8] {
        try ImageFiles.readFile(configPath(id), what: configPath(id), limit: 16 << 20)
    }

    /// Removes an image's record and config.
    func removeRecord(_ id: Digest, during operation: String) throws(ImageError) {
        for path in [recordPath(id), configPath(id)] where unlink(path) != 0 && errno != ENOENT {
            throw ImageError.syscall(operation, path, "unlink")
        }
    }

    /// Every image record, by id.
    public func records() throws(ImageError) -> [ImageRecord] {
        var result: [ImageRecord] = []
        for file in try listDirectory(imagesPath) where file.hasSuffix(".json") {
            if let id = Digest(hex: String(file.dropLast(5))) { result.append(try record(id)) }
        }
        return result
    }

    /// Finds the image `reference` names: `NAME[:TAG]`, or an id
    /// (`sha256:HEX`, or 12 or more leading hex digits of it).
    public func resolve(_ reference: String) throws(ImageError) -> ImageRecord {
        if let id = try names()[ImageName.normalize(reference)] { return try record(id) }
        var hex = reference
        if hex.hasPrefix("sha256:") { hex = String(hex.dropFirst(7)) }
        if hex.utf8.count >= 12, Digest.isHex(hex + String(repeating: "0", count: 64 - min(64, hex.utf8.count))) {
            let matches = try listDirectory(imagesPath).filter { $0.hasPrefix(hex) && $0.hasSuffix(".json") }
            if matches.count == 1, let id = Digest(hex: String(matches[0].dropLast(5))) { return try record(id) }
            if matches.count > 1 { throw ImageError("image", reference, "more than one image has this id prefix") }
        }
        // Name the tag looked for: `bb` means `bb:latest`, which may be what is missing.
        throw ImageError("image", ImageName.normalize(reference), "no such image in \(root) (see swinit-run image ls)")
    }

    // MARK: removal

    /// Drops `reference` (NAME[:TAG]); the image record goes with its last name.
    /// - Returns: the id of the image whose record was deleted, if one was.
    public func removeName(_ reference: String) throws(ImageError) -> Digest? {
        try whileWriting { () throws(ImageError) -> Digest? in try removeNameLocked(reference) }
    }

    private func removeNameLocked(_ reference: String) throws(ImageError) -> Digest? {
        var names = try self.names()
        let name = ImageName.normalize(reference)
        guard let id = names.removeValue(forKey: name) else {
            throw ImageError("image rm", reference, "no such name in \(root) (see swinit-run image ls)")
        }
        try saveNames(names)
        guard !names.values.contains(id) else { return nil }
        try removeRecord(id, during: "image rm")
        return id
    }

    /// Removes images without a name, then every layer no image uses. Fails
    /// while a container runs from the store (it holds `run.lock`).
    /// - Returns: how many layers were removed.
    public func prune() throws(ImageError) -> Int {
        try whileWriting { () throws(ImageError) -> Int in
            do throws(ImageError) {
                return try FileLock.holding(runLockPath, exclusive: true, wait: false) { () throws(ImageError) -> Int in
                    try pruneLocked()
                }
            } catch where error.reason.hasPrefix("flock") {
                throw ImageError("image prune", root, "containers are running from this store; prune when they have stopped")
            }
        }
    }

    private func pruneLocked() throws(ImageError) -> Int {
        removeStaleTemporaries()
        let named = Set(try names().values)
        var kept = Set<String>()
        for record in try records() {
            if named.contains(record.id) {
                kept.formUnion(record.layers.map(\.hex))
            } else {
                try removeRecord(record.id, during: "image prune")
            }
        }
        var removed = 0
        for layer in try listDirectory(layersPath) where !kept.contains(layer) {
            // Out of sight first: a half-removed layer must never be used.
            let doomed = temporaryPath + "/prune-" + layer
            guard rename(layersPath + "/" + layer, doomed) == 0 else {
                throw ImageError.syscall("image prune", layersPath + "/" + layer, "rename")
            }
            guard removeTree(doomed) else { throw ImageError.syscall("image prune", doomed, "remove") }
            removed += 1
        }
        return removed
    }

    /// Removes everything in tmp/: only a writer holding the write lock may
    /// call this, and then whatever is there belongs to a writer that died.
    func removeStaleTemporaries() {
        for name in (try? listDirectory(temporaryPath)) ?? [] {
            removeTree(temporaryPath + "/" + name)
        }
    }

    // MARK: files

    func listDirectory(_ path: String) throws(ImageError) -> [String] {
        guard let stream = opendir(path) else {
            if errno == ENOENT { return [] }
            throw ImageError.syscall("image", path, "opendir")
        }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Writes `value` as JSON to `path` through a temporary file and rename(2).
    func writeJSON<T: Encodable>(_ value: T, to path: String) throws(ImageError) {
        try writeFile(try JSONEncoder.canonical(value, what: path), to: path)
    }

    /// Writes `bytes` to `path` through a temporary file and rename(2).
    func writeFile(_ bytes: [UInt8], to path: String) throws(ImageError) {
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ImageError.syscall("image", temporary, "create") }
        let written = bytes.withUnsafeBytes { writeAll(fd, $0, at: 0) }
        close(fd)
        guard written, rename(temporary, path) == 0 else {
            let error = ImageError.syscall("image", path, "write")
            unlink(temporary)
            throw error
        }
    }
}
