// SPDX-License-Identifier: Apache-2.0
// The JSON documents of an image, as the OCI image spec (descriptor.md,
// image-index.md, manifest.md) and Docker's `docker save` (manifest.json) write them.
import FoundationEssentials

/// Media types swinit-run reads. Docker's v2 schema 2 names are accepted as
/// their OCI equivalents, as containerd does; anything else is refused.
enum MediaType {
    static let index = "application/vnd.oci.image.index.v1+json"
    static let manifest = "application/vnd.oci.image.manifest.v1+json"
    static let config = "application/vnd.oci.image.config.v1+json"
    static let layer = "application/vnd.oci.image.layer.v1.tar"
    static let layerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    static let layerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    static let dockerLayer = "application/vnd.docker.image.rootfs.diff.tar"
    static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"

    static let indexes: Set<String> = [index, dockerManifestList]
    static let manifests: Set<String> = [manifest, dockerManifest]
    static let configs: Set<String> = [config, dockerConfig]
    /// Layer types; libarchive detects which compression a blob really has.
    static let layers: Set<String> = [layer, layerGzip, layerZstd, dockerLayer, dockerLayerGzip]
}

/// A content descriptor: what a blob is, its digest and its size in bytes.
struct Descriptor: Codable, Equatable, Sendable {
    var mediaType: String
    var digest: Digest
    var size: Int64
    var annotations: [String: String]?
    var platform: Platform?

    init(mediaType: String, digest: Digest, size: Int64, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.annotations = annotations
    }
}

/// The platform of an index entry.
struct Platform: Codable, Equatable, Sendable {
    var architecture: String
    var os: String
    var variant: String?

    /// This machine's, in GOARCH terms as images name them.
    static var current: Platform {
        #if arch(x86_64)
        Platform(architecture: "amd64", os: "linux")
        #elseif arch(arm64)
        Platform(architecture: "arm64", os: "linux")
        #else
        Platform(architecture: "unknown", os: "linux")
        #endif
    }

    init(architecture: String, os: String, variant: String? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
    }
}

/// `index.json` of a layout, or a blob of media type `index`.
struct ImageIndex: Codable, Sendable {
    var schemaVersion: Int
    var mediaType: String?
    var manifests: [Descriptor]

    init(manifests: [Descriptor]) {
        schemaVersion = 2
        mediaType = MediaType.index
        self.manifests = manifests
    }
}

/// An image manifest: its config and its layers, lowest first.
struct ImageManifest: Codable, Sendable {
    var schemaVersion: Int
    var mediaType: String?
    var config: Descriptor
    var layers: [Descriptor]

    init(config: Descriptor, layers: [Descriptor]) {
        schemaVersion = 2
        mediaType = MediaType.manifest
        self.config = config
        self.layers = layers
    }
}

/// One entry of `docker save`'s manifest.json.
struct DockerSaveEntry: Codable, Sendable {
    var Config: String
    var RepoTags: [String]?
    var Layers: [String]

    init(config: String, repoTags: [String], layers: [String]) {
        Config = config
        RepoTags = repoTags
        Layers = layers
    }
}

/// Annotation keys that carry an image's name in a layout's index.
enum Annotation {
    /// OCI: a tag (`latest`) or, as skopeo and buildah write it, a full reference.
    static let refName = "org.opencontainers.image.ref.name"
    /// containerd and Docker: the full name `docker.io/library/x:tag`.
    static let containerdName = "io.containerd.image.name"
}

extension JSONDecoder {
    /// Decodes `T` from `bytes`; malformed JSON is an `ImageError` naming `what`.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String) throws(ImageError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch let DecodingError.dataCorrupted(context) {
            throw ImageError("image", what, "malformed JSON" + Self.detail(context))
        } catch let DecodingError.keyNotFound(key, context) {
            throw ImageError("image", what, "malformed JSON: no \"\(key.stringValue)\"" + Self.path(context))
        } catch let DecodingError.typeMismatch(_, context) {
            throw ImageError("image", what, "malformed JSON: wrong type" + Self.path(context))
        } catch let DecodingError.valueNotFound(_, context) {
            throw ImageError("image", what, "malformed JSON: null" + Self.path(context))
        } catch {
            throw ImageError("image", what, "malformed JSON")
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
        return keys.isEmpty ? "" : " at " + keys.joined(separator: ".")
    }

    private static func detail(_ context: DecodingError.Context) -> String {
        path(context) + (context.debugDescription.hasPrefix("not a sha256") ? ": " + context.debugDescription : "")
    }
}

extension JSONEncoder {
    /// `value` as JSON with sorted keys and plain slashes: the same value is
    /// always the same bytes, so a config's digest (the image id), a
    /// manifest's and a record's are stable. A failure names `what`.
    static func canonical<T: Encodable>(_ value: T, what: String) throws(ImageError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(value)) } catch { throw ImageError("image", what, "cannot encode JSON: \(error)") }
    }
}
