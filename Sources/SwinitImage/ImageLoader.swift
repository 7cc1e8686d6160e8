// SPDX-License-Identifier: Apache-2.0
// `image load`: find the images in an OCI layout, an OCI archive or a
// `docker save` archive, check every blob's digest, unpack the layers the
// store lacks, then publish everything by rename. Either the whole load
// lands in the store or nothing does.
import CSwinit
import FoundationEssentials
import Glibc

/// One image found in the source, checked but not yet stored.
struct FoundImage {
    var names: [String]
    var configDigest: Digest
    /// The config blob as it came, kept so `image save` gives the same image id.
    var configBytes: [UInt8]
    var config: ImageConfiguration
    /// The layer files, lowest first, with the digest each must have
    /// (compressed blob digest for OCI; nil for docker save, whose layers
    /// are checked by their DiffID while unpacking).
    var layers: [(file: String, digest: Digest?, what: String)]
}

/// What one load put in the store.
public struct LoadedImage: Equatable, Sendable {
    /// The image id: its config's digest.
    public var id: Digest
    /// Its names, `NAME:TAG`; empty for an image known by id only.
    public var names: [String]
    /// Layers this load unpacked (the others were already there).
    public var newLayers: Int
}

/// Loads images into a store.
public struct ImageLoader {
    /// The store images are loaded into.
    public let store: ImageStore

    public init(store: ImageStore) { self.store = store }

    /// Loads every image in `path` (directory or archive). An image whose
    /// layout gives only a tag is named after the file (`bb:1` from bb.tar).
    /// - Throws: `ImageError` ("image load: …"); the store is then unchanged.
    public func load(_ path: String) throws(ImageError) -> [LoadedImage] {
        do throws(ImageError) {
            return try store.whileWriting { () throws(ImageError) -> [LoadedImage] in
                store.removeStaleTemporaries()
                // Whatever a failed load unpacked goes with it.
                defer { store.removeStaleTemporaries() }
                return try loadLocked(path)
            }
        } catch {
            throw error.during("image load")
        }
    }

    /// `load` for a caller that holds the write lock.
    func loadLocked(_ path: String) throws(ImageError) -> [LoadedImage] {
        let scratch = try makeTemporary("source")
        let files = try ImageFiles(path, scratch: scratch)
        let images = try findImages(in: files, defaultName: Self.defaultName(for: path))
        return try store(images)
    }

    /// `bb` for `/x/bb.tar`, `/x/bb.oci.tar.gz` or the directory `/x/bb/` (or `.` in it).
    static func defaultName(for path: String) -> String {
        var resolved = path
        if let real = realpath(path, nil) {
            resolved = String(cString: real)
            free(real)
        }
        var base = resolved.split(separator: "/").last.map(String.init) ?? "image"
        for suffix in [".gz", ".zst", ".tgz", ".tar", ".oci", ".docker"] where base.hasSuffix(suffix) && base.count > suffix.count {
            base = String(base.dropLast(suffix.count))
        }
        let cleaned = String(base.lowercased().unicodeScalars.map {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "_" || $0 == "-" ? Character($0) : "-"
        })
        return cleaned.isEmpty ? "image" : cleaned
    }

    // MARK: finding the images

    func findImages(in files: ImageFiles, defaultName: String) throws(ImageError) -> [FoundImage] {
        if files.exists("index.json") {
            let index = try JSONDecoder.decode(ImageIndex.self, from: try files.read("index.json"), what: "index.json")
            var images: [FoundImage] = []
            for entry in index.manifests {
                let names = Self.names(of: entry, defaultName: defaultName)
                images.append(try ociImage(entry, names: names, files: files, depth: 0))
            }
            if images.isEmpty { throw ImageError("image load", "index.json", "no manifests") }
            return images
        }
        if files.exists("manifest.json") {
            let entries = try JSONDecoder.decode([DockerSaveEntry].self, from: try files.read("manifest.json"),
                                                 what: "manifest.json")
            if entries.isEmpty { throw ImageError("image load", "manifest.json", "no images") }
            return try entries.map { (entry) throws(ImageError) in try dockerImage(entry, files: files) }
        }
        throw ImageError("image load", files.source,
                         "not an image: no index.json (OCI layout) or manifest.json (docker save)")
    }

    /// The names an index entry gives (see README "Names").
    static func names(of entry: Descriptor, defaultName: String) -> [String] {
        if let full = entry.annotations?[Annotation.containerdName] { return [ImageName.normalize(full)] }
        guard let reference = entry.annotations?[Annotation.refName], !reference.isEmpty else { return [] }
        // A bare tag (`latest`, `1.0`) names nothing by itself: the file names the repository.
        if !reference.contains(":") && !reference.contains("/") { return ["\(defaultName):\(reference)"] }
        return [ImageName.normalize(reference)]
    }

    /// A manifest, or an index from which this platform's manifest is taken.
    func ociImage(_ descriptor: Descriptor, names: [String], files: ImageFiles, depth: Int) throws(ImageError)
        -> FoundImage
    {
        let what = "manifest \(descriptor.digest)"
        guard depth < 4 else { throw ImageError("image load", what, "indexes nested too deep") }
        let bytes = try verifiedBlob(descriptor, files: files, what: what)
        if MediaType.indexes.contains(descriptor.mediaType) {
            let index = try JSONDecoder.decode(ImageIndex.self, from: bytes, what: "index \(descriptor.digest)")
            let current = Platform.current
            let candidates = index.manifests.filter { entry in
                guard let platform = entry.platform else { return true }
                return platform.os == current.os && platform.architecture == current.architecture
            }
            guard let chosen = candidates.first else {
                throw ImageError("image load", "index \(descriptor.digest)",
                                 "no manifest for \(current.os)/\(current.architecture)")
            }
            return try ociImage(chosen, names: names, files: files, depth: depth + 1)
        }
        guard MediaType.manifests.contains(descriptor.mediaType) else {
            throw ImageError("image load", what, "unknown media type \(descriptor.mediaType)")
        }
        let manifest = try JSONDecoder.decode(ImageManifest.self, from: bytes, what: what)
        guard MediaType.configs.contains(manifest.config.mediaType) else {
            throw ImageError("image load", "config \(manifest.config.digest)",
                             "unknown media type \(manifest.config.mediaType)")
        }
        let configWhat = "config \(manifest.config.digest)"
        let configBytes = try verifiedBlob(manifest.config, files: files, what: configWhat)
        let config = try JSONDecoder.decode(ImageConfiguration.self, from: configBytes, what: configWhat)
        var layers: [(file: String, digest: Digest?, what: String)] = []
        for layer in manifest.layers {
            let layerWhat = "layer \(layer.digest)"
            guard MediaType.layers.contains(layer.mediaType) else {
                throw ImageError("image load", layerWhat, "unknown media type \(layer.mediaType)")
            }
            let file = try files.path("blobs/sha256/" + layer.digest.hex)
            try checkSize(file, layer.size, what: layerWhat)
            layers.append((file, layer.digest, layerWhat))
        }
        return try checked(FoundImage(names: names, configDigest: manifest.config.digest, configBytes: configBytes,
                                      config: config, layers: layers))
    }

    func dockerImage(_ entry: DockerSaveEntry, files: ImageFiles) throws(ImageError) -> FoundImage {
        let configBytes = try files.read(entry.Config)
        // Docker names the config by its digest: `HEX.json` or `blobs/sha256/HEX`.
        let configName = entry.Config.split(separator: "/").last.map(String.init) ?? ""
        let digest = Digest.of(configBytes)
        let named = Digest(hex: configName.hasSuffix(".json") ? String(configName.dropLast(5)) : configName)
        if let named, named != digest { throw ImageError("image load", "config \(named)", "digest mismatch") }
        let what = "config \(digest)"
        let config = try JSONDecoder.decode(ImageConfiguration.self, from: configBytes, what: what)
        let layers = try entry.Layers.enumerated().map { (index, name) throws(ImageError) in
            let diffID = index < config.rootfs.diff_ids.count ? "\(config.rootfs.diff_ids[index])" : name
            return (file: try files.path(name), digest: nil as Digest?, what: "layer \(diffID)")
        }
        let names = (entry.RepoTags ?? []).map(ImageName.normalize)
        return try checked(FoundImage(names: names, configDigest: digest, configBytes: configBytes, config: config,
                                      layers: layers))
    }

    /// Layers and DiffIDs agree, the names are valid, the platform is ours.
    func checked(_ image: FoundImage) throws(ImageError) -> FoundImage {
        let what = "config \(image.configDigest)"
        guard image.layers.count == image.config.rootfs.diff_ids.count else {
            throw ImageError("image load", what,
                             "\(image.layers.count) layers but \(image.config.rootfs.diff_ids.count) DiffIDs")
        }
        if let os = image.config.os, os != "linux" { throw ImageError("image load", what, "a \(os) image") }
        let current = Platform.current.architecture
        if let architecture = image.config.architecture, architecture != current {
            throw ImageError("image load", what, "a \(architecture) image; this machine is \(current)")
        }
        for name in image.names where !ImageName.isValid(name) {
            throw ImageError("image load", "name '\(name)'", "not a valid NAME[:TAG]")
        }
        return image
    }

    // MARK: blobs

    /// A small blob (manifest, index, config), its size and digest checked.
    func verifiedBlob(_ descriptor: Descriptor, files: ImageFiles, what: String) throws(ImageError) -> [UInt8] {
        let bytes = try files.read("blobs/sha256/" + descriptor.digest.hex)
        guard bytes.count == descriptor.size else {
            throw ImageError("image load", what, bytes.count < descriptor.size ? "truncated" : "size mismatch")
        }
        guard Digest.of(bytes) == descriptor.digest else { throw ImageError("image load", what, "digest mismatch") }
        return bytes
    }

    func checkSize(_ file: String, _ size: Int64, what: String) throws(ImageError) {
        var info = stat()
        guard stat(file, &info) == 0 else { throw ImageError.syscall("image load", what, "stat") }
        if info.st_size < size { throw ImageError("image load", what, "truncated") }
        if info.st_size > size { throw ImageError("image load", what, "size mismatch") }
    }

    /// The sha256 of a whole file, read in 1 MiB chunks.
    static func digest(ofFile file: String, what: String) throws(ImageError) -> Digest {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError.syscall("image load", what, "open") }
        defer { close(fd) }
        var hasher = SHA256()
        try forEachChunk(of: fd, what) { (chunk, _) throws(ImageError) in hasher.update(chunk) }
        return hasher.finish()
    }

    // MARK: storing

    /// Checks every layer blob, unpacks the missing layers into tmp/, then
    /// renames them into layers/ and writes the records and names.
    func store(_ images: [FoundImage]) throws(ImageError) -> [LoadedImage] {
        // Every blob is checked before any is unpacked.
        for image in images {
            for layer in image.layers {
                guard let expected = layer.digest else { continue }
                guard try Self.digest(ofFile: layer.file, what: layer.what) == expected else {
                    throw ImageError("image load", layer.what, "digest mismatch")
                }
            }
        }
        var unpacked: [String: (temporary: String, size: Int64)] = [:]
        var sizes: [String: Int64] = [:]
        var loaded: [LoadedImage] = []
        var names = try store.names()
        for image in images {
            let diffIDs = image.config.rootfs.diff_ids
            let chainIDs = Digest.chainIDs(diffIDs)
            var lowerPaths: [String] = []
            var newLayers = 0
            for (index, layer) in image.layers.enumerated() {
                let chainID = chainIDs[index]
                let final = store.layerPath(chainID)
                if let done = unpacked[chainID.hex] {
                    lowerPaths.insert(done.temporary, at: 0)
                    continue
                }
                if access(final, F_OK) == 0 {
                    lowerPaths.insert(final, at: 0)
                    continue
                }
                let temporary = try makeTemporary("layer-" + chainID.short)
                let size = try unpack(layer.file, what: layer.what, into: temporary, lowers: lowerPaths,
                                      diffID: diffIDs[index])
                unpacked[chainID.hex] = (temporary, size)
                sizes[chainID.hex] = size
                newLayers += 1
                lowerPaths.insert(temporary, at: 0)
            }
            loaded.append(LoadedImage(id: image.configDigest, names: image.names, newLayers: newLayers))
        }
        // Publish: layers first (a record must never name a missing layer), then records, then names.
        for (hex, layer) in unpacked {
            let final = store.layersPath + "/" + hex
            guard rename(layer.temporary, final) == 0 else { throw ImageError.syscall("image load", final, "rename") }
        }
        for (image, result) in zip(images, loaded) {
            let chainIDs = Digest.chainIDs(image.config.rootfs.diff_ids)
            let layerSizes = chainIDs.map { sizes[$0.hex] ?? storedLayerSize($0) }
            let record = ImageRecord(id: image.configDigest, layers: chainIDs, diffIDs: image.config.rootfs.diff_ids,
                                     layerSizes: layerSizes, created: image.config.created,
                                     architecture: image.config.architecture, os: image.config.os,
                                     process: image.config.config ?? ProcessDefaults())
            try store.save(record, config: image.configBytes)
            for name in result.names { names[name] = result.id }
        }
        try store.saveNames(names)
        return loaded
    }

    /// Size of a stored layer's file data, from a record that has it, else counted.
    private func storedLayerSize(_ chainID: Digest) -> Int64 {
        for record in (try? store.records()) ?? [] {
            if let index = record.layers.firstIndex(of: chainID), index < record.layerSizes.count {
                return record.layerSizes[index]
            }
        }
        return treeSize(in: AT_FDCWD, store.layerPath(chainID))
    }

    /// Unpacks one layer into `directory`; checks its DiffID; returns its size.
    func unpack(_ file: String, what: String, into directory: String, lowers: [String], diffID: Digest)
        throws(ImageError) -> Int64
    {
        let root = open(directory, SWINIT_O_PATH | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw ImageError.syscall("image load", directory, "open") }
        defer { close(root) }
        var lowerDescriptors: [Int32] = []
        defer { for fd in lowerDescriptors { close(fd) } }
        for lower in lowers {
            let fd = open(lower, SWINIT_O_PATH | O_DIRECTORY | O_CLOEXEC)
            guard fd >= 0 else { throw ImageError.syscall("image load", lower, "open") }
            lowerDescriptors.append(fd)
        }
        let stream = try ArchiveReader(decompressing: file, what: what)
        guard ["none", "gzip", "zstd"].contains(stream.compression) else {
            throw ImageError("image load", what, "compressed with \(stream.compression), not gzip or zstd")
        }
        let tar = try ArchiveReader(tarFrom: stream)
        var unpacker = LayerUnpacker(what: what, root: root, lowers: lowerDescriptors,
                                     devicesAllowed: store.devicesAllowed)
        do throws(ImageError) {
            try unpacker.unpack(tar)
        } catch {
            throw error.during("image load")
        }
        guard try tar.finishDiffID() == diffID else { throw ImageError("image load", what, "DiffID mismatch") }
        return unpacker.size
    }

    /// A new directory in the store's tmp/ (same filesystem as layers/, so rename works).
    func makeTemporary(_ label: String) throws(ImageError) -> String {
        let path = store.root + "/tmp/\(label)-\(getpid())-" + String(UInt32.random(in: 0...UInt32.max), radix: 16)
        guard mkdir(path, 0o755) == 0 else { throw ImageError.syscall("image load", path, "mkdir") }
        return path
    }
}
