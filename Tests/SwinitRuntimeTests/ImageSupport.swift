// SPDX-License-Identifier: Apache-2.0
// Images for the tests, written by Tests/fixtures/make-image.py (Python's
// tarfile, not swinit-run's code), and a private store per test.
import Foundation
import Testing

/// One tar entry of a crafted layer (see make-image.py for the fields).
typealias LayerEntry = [String: Any]

/// A private image store and the images made for one test.
struct ImageFixture {
    let directory: String
    let store: String

    init() {
        directory = Harness.shared.temporaryDirectory("image")
        // Not there yet: `image load` creates it root-only (mode 0700).
        store = directory + "/store"
    }

    /// Writes an image with make-image.py; layers are `[LayerEntry]` lists or
    /// host directories (String), lowest first. Returns its path.
    @discardableResult
    func make(_ name: String, format: String = "oci-dir", compression: String = "none", reference: String? = nil,
              tag: String? = nil, config: [String: Any] = [:], layers: [Any], extra: [String] = []) throws -> String {
        let out = directory + "/" + name
        var arguments = ["python3", Harness.shared.packageRoot + "/Tests/fixtures/make-image.py", out,
                         "--format", format, "--compression", compression,
                         "--config", String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)]
        if let reference { arguments += ["--name", reference] }
        if let tag { arguments += ["--tag", tag] }
        for (index, layer) in layers.enumerated() {
            if let path = layer as? String {
                arguments += ["--layer-dir", path]
            } else {
                let file = directory + "/\(name)-layer\(index).json"
                try JSONSerialization.data(withJSONObject: layer).write(to: URL(fileURLWithPath: file))
                arguments += ["--layer", file]
            }
        }
        let status = Harness.shell(arguments + extra)
        #expect(status == 0, "make-image.py \(name) failed")
        return out
    }

    /// `swinit-run image ARGS --store STORE`.
    func image(_ arguments: [String]) throws -> RunResult {
        try SwinitRuntimeTests.run(["image"] + arguments + ["--store", store], timeout: 60)
    }

    /// `swinit-run --store STORE ARGS` (a run).
    func run(_ arguments: [String], timeout: Double = 20) throws -> RunResult {
        try SwinitRuntimeTests.run(["--store", store] + arguments, timeout: timeout)
    }

    /// Names in the store's layers/ and images/ (both empty for "nothing added").
    var layers: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: store + "/layers")) ?? []).sorted() }
    var records: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: store + "/images")) ?? []).filter { $0.hasSuffix(".json") }.sorted()
    }
    var temporaries: [String] { (try? FileManager.default.contentsOfDirectory(atPath: store + "/tmp")) ?? [] }

    /// The directory of the top layer of the store's first image, from its record.
    func topLayer() throws -> String {
        let record = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: store + "/images/" + records[0]))) as? [String: Any]
        let layers = try #require(record?["layers"] as? [String])
        return store + "/layers/" + String(try #require(layers.last).dropFirst(7))
    }

    /// The busybox base layer of the harness.
    static var busybox: String { Harness.shared.base }
}

/// A regular file entry.
func file(_ name: String, _ data: String = "", mode: Int = 0o644, uid: Int = 0, gid: Int = 0) -> LayerEntry {
    ["name": name, "type": "file", "data": data, "mode": mode, "uid": uid, "gid": gid]
}

/// Any other entry: `entry("a", "symlink", ["target": "/x"])`.
func entry(_ name: String, _ type: String, _ fields: [String: Any] = [:]) -> LayerEntry {
    fields.merging(["name": name, "type": type]) { _, new in new }
}
