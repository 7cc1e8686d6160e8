// SPDX-License-Identifier: Apache-2.0
// What the store keeps of one image: `images/<id>.json`. Everything a run
// needs is in it, parsed once at load, so `--image` reads one small file.

/// One loaded image. Its id is its config's digest, as in Docker.
public struct ImageRecord: Codable, Equatable, Sendable {
    public var id: Digest
    /// Chain IDs of its layers, lowest first: `layers/<hex>` in the store.
    public var layers: [Digest]
    public var diffIDs: [Digest]
    /// Bytes of file data in each layer.
    public var layerSizes: [Int64]
    /// Bytes of file data in all its layers.
    public var size: Int64 { layerSizes.reduce(0, +) }
    /// RFC 3339 time from the config, if it has one.
    public var created: String?
    public var architecture: String?
    public var os: String?
    /// The config's `config`: entrypoint, command, environment, user, …
    public var process: ProcessDefaults

    public init(id: Digest, layers: [Digest], diffIDs: [Digest], layerSizes: [Int64], created: String?,
                architecture: String?, os: String?, process: ProcessDefaults) {
        self.id = id
        self.layers = layers
        self.diffIDs = diffIDs
        self.layerSizes = layerSizes
        self.created = created
        self.architecture = architecture
        self.os = os
        self.process = process
    }
}

/// Image names: `NAME[:TAG]` → image id, in `names.json`.
public enum ImageName {
    /// `NAME:TAG` with `:latest` added when there is no tag (after the last `/`).
    public static func normalize(_ text: String) -> String {
        var name = text
        for prefix in ["docker.io/library/", "docker.io/", "localhost/"] where name.hasPrefix(prefix) {
            name = String(name.dropFirst(prefix.count))
            break
        }
        let lastPart = name.split(separator: "/", omittingEmptySubsequences: false).last ?? ""
        return lastPart.contains(":") ? name : name + ":latest"
    }

    /// Docker's reference grammar, loosely: lower-case path components of
    /// `a-z 0-9 . _ -` (a `host:port/` prefix allowed), then `:TAG` of
    /// `A-Z a-z 0-9 _ . -`, at most 128 characters.
    public static func isValid(_ text: String) -> Bool {
        let name = normalize(text)
        guard let colon = name.lastIndex(of: ":"), !name.contains("@") else { return false }
        let repository = name[..<colon], tag = name[name.index(after: colon)...]
        let tagOK = !tag.isEmpty && tag.utf8.count <= 128 && tag.utf8.allSatisfy {
            isAlphanumeric($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-")
        } && tag.first != "." && tag.first != "-"
        let parts = repository.split(separator: "/", omittingEmptySubsequences: false)
        let repositoryOK = !repository.isEmpty && repository.utf8.count <= 255 && parts.enumerated().allSatisfy { index, part in
            // A component starts and ends with a letter or digit (Docker's
            // grammar), so `.` and `..` are never one.
            !part.isEmpty && isAlphanumeric(part.utf8.first!) && isAlphanumeric(part.utf8.last!)
                && part.utf8.allSatisfy { byte in
                    (isAlphanumeric(byte) && !(0x41...0x5a).contains(byte)) || byte == UInt8(ascii: "_")
                        || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
                        || (index == 0 && parts.count > 1 && byte == UInt8(ascii: ":"))
                }
        }
        return tagOK && repositoryOK
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x5a).contains(byte) || (0x61...0x7a).contains(byte)
    }
}
