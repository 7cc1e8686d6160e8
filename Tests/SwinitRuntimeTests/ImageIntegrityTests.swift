// SPDX-License-Identifier: Apache-2.0
// Corrupt images: each is refused with one clear line, exit 125, and the
// store is left without a layer, a record or a name.
import Foundation
import Testing

@Suite(.enabled(if: isRoot, "needs root: the store is root-only"), .timeLimit(.minutes(2)))
struct ImageIntegrityTests {
    enum Corruption: String, CaseIterable {
        case flippedLayerByte, truncatedLayer, truncatedArchive, unknownLayerMediaType, malformedConfig,
             malformedIndex, wrongDiffID, missingBlob, dockerConfigDigest
    }

    @Test(arguments: Corruption.allCases)
    func aCorruptImageIsRefusedAndNothingIsStored(corruption: Corruption) throws {
        let fixture = ImageFixture()
        let layers: [Any] = [ImageFixture.busybox, [file("marker", "x")]]
        var extra: [String] = []
        var format = "oci-dir"
        switch corruption {
        case .unknownLayerMediaType: extra = ["--layer-media-type", "application/vnd.example.layer.v1.tar+lz4"]
        case .malformedConfig: extra = ["--raw-config", "{\"rootfs\": [not json"]
        case .wrongDiffID: extra = ["--bad-diff-id"]
        case .truncatedArchive: format = "oci-archive"
        case .dockerConfigDigest: format = "docker-archive"
        default: break
        }
        let path = try fixture.make("bad", format: format, compression: "gzip", reference: "bad:1", layers: layers,
                                    extra: extra)
        let blobs = path + "/blobs/sha256/"
        let largest = try FileManager.default.contentsOfDirectory(atPath: (format == "oci-dir" ? blobs : fixture.directory))
            .map { (format == "oci-dir" ? blobs : fixture.directory + "/") + $0 }
            .max { size($0) < size($1) }!
        let expected: String
        switch corruption {
        case .flippedLayerByte:
            try flipByte(in: largest, at: size(largest) / 2)
            expected = "image load: layer sha256:\(largest.split(separator: "/").last!): digest mismatch"
        case .truncatedLayer:
            truncate(largest, off_t(size(largest) - 100))
            expected = "image load: layer sha256:\(largest.split(separator: "/").last!): truncated"
        case .truncatedArchive:
            truncate(path, off_t(size(path) / 2))
            expected = "truncated"
        case .unknownLayerMediaType:
            expected = "unknown media type application/vnd.example.layer.v1.tar+lz4"
        case .malformedConfig:
            expected = "malformed JSON"
        case .malformedIndex:
            try Data("{\"manifests\": [".utf8).write(to: URL(fileURLWithPath: path + "/index.json"))
            expected = "image load: index.json: malformed JSON"
        case .wrongDiffID:
            expected = "DiffID mismatch"
        case .missingBlob:
            try FileManager.default.removeItem(atPath: largest)
            expected = "missing from"
        case .dockerConfigDigest:
            // Rewrite the config inside the archive: its name no longer matches its digest.
            let unpacked = fixture.directory + "/unpacked"
            try FileManager.default.createDirectory(atPath: unpacked, withIntermediateDirectories: true)
            #expect(Harness.shell(["tar", "-xf", path, "-C", unpacked]) == 0)
            let config = try FileManager.default.contentsOfDirectory(atPath: unpacked).first { $0.hasSuffix(".json") && $0 != "manifest.json" }!
            let text = try String(contentsOfFile: unpacked + "/" + config, encoding: .utf8)
            try Data(text.replacingOccurrences(of: "\"linux\"", with: "\"linux\" ").utf8)
                .write(to: URL(fileURLWithPath: unpacked + "/" + config))
            expected = "config sha256:\(config.dropLast(5)): digest mismatch"
            let load = try fixture.image(["load", unpacked])
            check(load, expected, fixture)
            return
        }
        check(try fixture.image(["load", path]), expected, fixture)
    }

    func check(_ load: RunResult, _ expected: String, _ fixture: ImageFixture) {
        #expect(load.status == 125, "\(load.stderr)")
        #expect(load.stderr.hasPrefix("swinit-run: image load: ") && load.stderr.contains(expected), "\(load.stderr)")
        #expect(load.stderr.split(separator: "\n").count == 1, "not one line: \(load.stderr)")
        #expect(fixture.layers.isEmpty && fixture.records.isEmpty, "the store changed: \(fixture.layers) \(fixture.records)")
        #expect(fixture.temporaries.isEmpty, "left in tmp/: \(fixture.temporaries)")
        #expect(!FileManager.default.fileExists(atPath: fixture.store + "/names.json"))
    }

    func size(_ path: String) -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int) ?? 0
    }

    func flipByte(in path: String, at offset: Int) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.seek(toOffset: UInt64(offset))
        let byte = try handle.read(upToCount: 1)![0]
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: [byte ^ 0xff])
        try handle.close()
    }
}
