// SPDX-License-Identifier: Apache-2.0
// `image commit` (layer directories in overlay form → an image in the store)
// and `image save` (an image of the store → OCI layout and docker-save
// archive). Both pack layers with LayerPacker, whose tars are deterministic,
// so a saved layer has the DiffID it was loaded with.
import FoundationEssentials
import Glibc

/// Makes images from directories and writes images out.
public struct ImageExporter {
    public let store: ImageStore

    public init(store: ImageStore) { self.store = store }

    /// Packs `layers` (overlay-form directories, lowest first: build steps'
    /// upper directories, whiteouts included) into an image with `process`
    /// as its config, named `names`, and loads it into the store; layers the
    /// store has already (same chain ID) are not unpacked again.
    /// - Throws: `ImageError` ("image commit: …"); the store is then unchanged.
    public func commit(layers: [String], process: ProcessDefaults, names: [String]) throws(ImageError) -> LoadedImage {
        for name in names where !ImageName.isValid(name) {
            throw ImageError("image commit", "name '\(name)'", "not a valid NAME[:TAG]")
        }
        do throws(ImageError) {
            return try store.whileWriting { () throws(ImageError) -> LoadedImage in
                store.removeStaleTemporaries()
                defer { store.removeStaleTemporaries() }
                let loader = ImageLoader(store: store)
                let scratch = try loader.makeTemporary("commit")
                let tars = try pack(layers, into: scratch)
                let config = ImageConfiguration(created: Self.now(), architecture: Platform.current.architecture,
                                                os: "linux", config: process, diffIDs: tars.map(\.diffID))
                let bytes = try JSONEncoder.canonical(config, what: "config")
                let layout = scratch + "/layout"
                try ImageBlobs(config: bytes, layers: tars, names: names.map(ImageName.normalize)).writeLayout(layout)
                guard let loaded = try loader.loadLocked(layout).first else {
                    throw ImageError("image commit", nil, "nothing was loaded")
                }
                return loaded
            }
        } catch {
            throw error.during("image commit")
        }
    }

    /// Writes the image `reference` names as an OCI layout directory and/or a
    /// docker-save archive. Each layer is packed again from the store. An
    /// image made here (commit, or saved before) packs to the same DiffIDs and
    /// keeps its id; one from another tool, whose tars were written otherwise,
    /// gets a config with the new DiffIDs (its `history` dropped), so a new id.
    public func save(_ reference: String, layout: String?, dockerArchive: String?) throws(ImageError) {
        do throws(ImageError) {
            try store.whileRunning { () throws(ImageError) in
                let record = try store.resolve(reference)
                let names = try store.names().filter { $0.value == record.id }.keys.sorted()
                // Scratch beside the first output, so layout blobs can be hard links.
                let base = layout ?? dockerArchive!
                let parent = base.contains("/") ? String(base[..<base.lastIndex(of: "/")!]) : "."
                var template = Array(((parent.isEmpty ? "" : parent) + "/.swinit-save-XXXXXX").utf8CString)
                guard mkdtemp(&template) != nil else { throw ImageError.syscall("image save", parent, "mkdtemp") }
                let scratch = String(cString: template)
                defer { removeTree(scratch) }
                let tars = try pack(record.layers.map(store.layerPath), into: scratch)
                var config = try store.config(record.id)
                if tars.map(\.diffID) != record.diffIDs {
                    var parsed = try JSONDecoder.decode(ImageConfiguration.self, from: config, what: "config \(record.id)")
                    parsed.rootfs.diff_ids = tars.map(\.diffID)
                    config = try JSONEncoder.canonical(parsed, what: "config")
                }
                let blobs = ImageBlobs(config: config, layers: tars, names: names)
                if let layout { try blobs.writeLayout(layout) }
                if let dockerArchive { try blobs.writeDockerArchive(dockerArchive) }
            }
        } catch {
            throw error.during("image save")
        }
    }

    /// Packs each directory into `scratch/N.tar`; returns the tars and DiffIDs.
    private func pack(_ directories: [String], into scratch: String) throws(ImageError) -> [(file: String, diffID: Digest)] {
        var result: [(file: String, diffID: Digest)] = []
        for (index, directory) in directories.enumerated() {
            let tar = scratch + "/\(index).tar"
            try LayerPacker.pack(directory, to: tar, what: "layer \(directory)")
            result.append((tar, try ImageLoader.digest(ofFile: tar, what: tar)))
        }
        return result
    }

    /// The current time in RFC 3339, UTC, as image configs write `created`.
    static func now() -> String {
        var seconds = time(nil)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%SZ", &parts)
        return String(cString: buffer)
    }
}
