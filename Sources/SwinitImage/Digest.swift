// SPDX-License-Identifier: Apache-2.0
// Content digests (OCI image-spec descriptor.md, "Digests"): `sha256:<64 hex>`,
// computed with libcrypto's EVP API.
import CCrypto
import Glibc

/// A validated `sha256:` digest. Other algorithms are refused: every image
/// tool in use writes sha256, and a digest we cannot check cannot be trusted.
public struct Digest: Hashable, Codable, Sendable, CustomStringConvertible, Comparable {
    /// The 64 lower-case hex digits.
    public let hex: String

    /// Parses `sha256:HEX`; nil for anything else.
    public init?(_ text: String) {
        guard text.hasPrefix("sha256:") else { return nil }
        let hex = String(text.dropFirst(7))
        guard Self.isHex(hex) else { return nil }
        self.hex = hex
    }

    /// A digest from its 64 hex digits; nil when they are not that.
    public init?(hex: String) {
        guard Self.isHex(hex) else { return nil }
        self.hex = hex
    }

    static func isHex(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }
    }

    public var description: String { "sha256:" + hex }
    /// The 12-digit form `image ls` shows, as Docker does.
    public var short: String { String(hex.prefix(12)) }

    public static func < (a: Digest, b: Digest) -> Bool { a.hex < b.hex }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let digest = Digest(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "not a sha256 digest: \(text.prefix(80))"))
        }
        self = digest
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    /// The digest of `bytes`.
    public static func of(_ bytes: some Collection<UInt8>) -> Digest {
        var hasher = SHA256()
        hasher.update(Array(bytes))
        return hasher.finish()
    }

    /// The chain ID of a layer stack (OCI image-spec config.md, "Layer ChainID"):
    /// ChainID(L0) = DiffID(L0); ChainID(L0…Ln) = sha256(ChainID(L0…Ln-1) + " " + DiffID(Ln)).
    public static func chainIDs(_ diffIDs: [Digest]) -> [Digest] {
        var result: [Digest] = []
        for diffID in diffIDs {
            guard let previous = result.last else { result.append(diffID); continue }
            result.append(.of(Array("\(previous) \(diffID)".utf8)))
        }
        return result
    }
}

/// Incremental SHA-256 over EVP_DigestUpdate(3).
public struct SHA256: ~Copyable {
    private let context: OpaquePointer

    public init() {
        // EVP_MD_CTX_new only fails when malloc does; that is not recoverable here.
        guard let context = EVP_MD_CTX_new(), EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            fatalError("libcrypto: cannot set up SHA-256")
        }
        self.context = context
    }

    deinit { EVP_MD_CTX_free(context) }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything given so far; the hasher is spent.
    public consuming func finish() -> Digest {
        var output = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &output, &length)
        let digits = Array("0123456789abcdef".utf8)
        var hex: [UInt8] = []
        for byte in output.prefix(Int(length)) {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0xf)])
        }
        return Digest(hex: String(decoding: hex, as: UTF8.self))!
    }
}
