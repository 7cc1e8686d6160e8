// SPDX-License-Identifier: Apache-2.0
// Writes an image as an OCI image layout directory (image-spec
// image-layout.md) and as a `docker save` archive (manifest.json + config +
// layer tars), from layer tars already on disk.
import CArchive
import FoundationEssentials
import Glibc

/// An image ready to be written: its config bytes and its layer tars.
struct ImageBlobs {
    /// The config blob, exactly as it will be digested.
    var config: [UInt8]
    /// Uncompressed layer tars, lowest first, with their DiffIDs (= their digests).
    var layers: [(file: String, diffID: Digest)]
    /// `NAME:TAG` names.
    var names: [String]

    var configDigest: Digest { .of(config) }

    /// Writes `directory` as an OCI layout; layer blobs are hard-linked from
    /// their tars when on the same filesystem, else copied.
    func writeLayout(_ directory: String) throws(ImageError) {
        let blobs = directory + "/blobs/sha256"
        for path in [directory, directory + "/blobs", blobs] where mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw ImageError.syscall("image save", path, "mkdir")
        }
        var layerDescriptors: [Descriptor] = []
        for layer in layers {
            let target = blobs + "/" + layer.diffID.hex
            if access(target, F_OK) != 0 && link(layer.file, target) != 0 { try copyFile(layer.file, to: target) }
            layerDescriptors.append(Descriptor(mediaType: MediaType.layer, digest: layer.diffID, size: fileSize(layer.file)))
        }
        try writeBlob(config, in: blobs)
        let manifest = try encode(ImageManifest(
            config: Descriptor(mediaType: MediaType.config, digest: configDigest, size: Int64(config.count)),
            layers: layerDescriptors))
        try writeBlob(manifest, in: blobs)
        let entries = (names.isEmpty ? [nil] : names.map { Optional($0) }).map { name in
            Descriptor(mediaType: MediaType.manifest, digest: .of(manifest), size: Int64(manifest.count),
                       annotations: name.map { [Annotation.refName: $0] })
        }
        try write(try encode(ImageIndex(manifests: entries)), to: directory + "/index.json")
        try write(Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8), to: directory + "/oci-layout")
    }

    /// Writes `file` as a `docker save` archive: `HEX.json` (the config),
    /// `HEX.tar` per layer, and manifest.json naming them with RepoTags.
    func writeDockerArchive(_ file: String) throws(ImageError) {
        let archive = archive_write_new()!
        defer { archive_write_free(archive) }
        archive_write_set_format_pax_restricted(archive)
        guard archive_write_open_filename(archive, file) == ARCHIVE_OK else { throw failure(archive, "open \(file)") }
        let manifest = [DockerSaveEntry(config: configDigest.hex + ".json", repoTags: names,
                                        layers: layers.map { $0.diffID.hex + ".tar" })]
        try addBytes(config, as: configDigest.hex + ".json", to: archive)
        var written = Set<Digest>()
        for layer in layers where written.insert(layer.diffID).inserted {
            try addFile(layer.file, as: layer.diffID.hex + ".tar", to: archive)
        }
        try addBytes(try encode(manifest), as: "manifest.json", to: archive)
        guard archive_write_close(archive) == ARCHIVE_OK else { throw failure(archive, "close \(file)") }
    }

    // MARK: helpers

    private func encode<T: Encodable>(_ value: T) throws(ImageError) -> [UInt8] {
        try JSONEncoder.canonical(value, what: String(describing: T.self))
    }

    private func writeBlob(_ bytes: [UInt8], in blobs: String) throws(ImageError) {
        try write(bytes, to: blobs + "/" + Digest.of(bytes).hex)
    }

    private func write(_ bytes: [UInt8], to path: String) throws(ImageError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ImageError.syscall("image save", path, "create") }
        defer { close(fd) }
        guard bytes.withUnsafeBytes({ writeAll(fd, $0, at: 0) }) else { throw ImageError.syscall("image save", path, "write") }
    }

    private func fileSize(_ path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }

    private func copyFile(_ source: String, to target: String) throws(ImageError) {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw ImageError.syscall("image save", source, "open") }
        defer { close(input) }
        let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else { throw ImageError.syscall("image save", target, "create") }
        defer { close(output) }
        try forEachChunk(of: input, source) { (chunk, offset) throws(ImageError) in
            guard writeAll(output, chunk, at: offset) else { throw ImageError.syscall("image save", target, "write") }
        }
    }

    private func addBytes(_ bytes: [UInt8], as name: String, to archive: OpaquePointer) throws(ImageError) {
        try header(name, size: Int64(bytes.count), archive)
        let count = bytes.withUnsafeBytes { archive_write_data(archive, $0.baseAddress, $0.count) }
        guard count == bytes.count else { throw failure(archive, "write \(name)") }
    }

    private func addFile(_ path: String, as name: String, to archive: OpaquePointer) throws(ImageError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ImageError.syscall("image save", path, "open") }
        defer { close(fd) }
        try header(name, size: fileSize(path), archive)
        try forEachChunk(of: fd, path) { (chunk, _) throws(ImageError) in
            guard archive_write_data(archive, chunk.baseAddress, chunk.count) == chunk.count else {
                throw failure(archive, "write \(name)")
            }
        }
    }

    private func header(_ name: String, size: Int64, _ archive: OpaquePointer) throws(ImageError) {
        let entry = archive_entry_new()!
        defer { archive_entry_free(entry) }
        archive_entry_set_pathname(entry, name)
        archive_entry_set_mode(entry, FileType.regular | 0o644)
        archive_entry_set_size(entry, size)
        guard archive_write_header(archive, entry) == ARCHIVE_OK else { throw failure(archive, "write \(name)") }
    }

    private func failure(_ archive: OpaquePointer, _ step: String) -> ImageError {
        ImageError("image save", nil, "\(step): " + (archive_error_string(archive).map { String(cString: $0) } ?? "unknown error"))
    }
}

/// Reads `fd` to its end in 1 MiB chunks; `body` gets each with its offset.
func forEachChunk(of fd: Int32, _ what: String, _ body: (UnsafeRawBufferPointer, Int64) throws(ImageError) -> Void)
    throws(ImageError)
{
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
    defer { buffer.deallocate() }
    var offset: Int64 = 0
    while true {
        let count = retryingOnInterrupt { read(fd, buffer.baseAddress, buffer.count) }
        if count < 0 { throw ImageError.syscall("image", what, "read") }
        if count == 0 { return }
        try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]), offset)
        offset += Int64(count)
    }
}
