// SPDX-License-Identifier: Apache-2.0
// `image load`: every format and compression, names, sharing, integrity.
import Foundation
import Testing

@Suite(.enabled(if: isRoot, "needs root: the store is root-only, containers need namespaces"), .timeLimit(.minutes(2)))
struct ImageLoadTests {
    static let formats: [(String, String)] = [
        ("oci-dir", "none"), ("oci-dir", "gzip"), ("oci-dir", "zstd"),
        ("oci-archive", "none"), ("oci-archive", "gzip"), ("oci-archive", "zstd"), ("docker-archive", "none"),
    ]

    @Test(arguments: formats)
    func eachFormatAndCompressionLoadsAndRuns(format: String, compression: String) throws {
        let fixture = ImageFixture()
        let path = try fixture.make("img", format: format, compression: compression, reference: "fmt/test:v1",
                                    config: ["Cmd": ["cat", "/marker"]],
                                    layers: [ImageFixture.busybox, [file("marker", "\(format)+\(compression)\n")]])
        let load = try fixture.image(["load", path])
        #expect(load.status == 0, "\(load.stderr)")
        #expect(load.stdout == "Loaded image: fmt/test:v1\n")
        let list = try fixture.image(["ls"])
        #expect(list.stdout.contains("fmt/test:v1"))
        let result = try fixture.run(["--image", "fmt/test:v1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "\(format)+\(compression)\n")
    }

    /// A store's layers become containers' roots: one another user owns
    /// (who could swap a layer under root's next run) is refused, with
    /// nothing written to it.
    @Test func aStoreOfAnotherUserIsRefused() throws {
        let fixture = ImageFixture()
        let image = try fixture.make("bb", reference: "bb:1", layers: [ImageFixture.busybox])
        mkdir(fixture.store, 0o700)
        chown(fixture.store, 65534, 65534)
        let refused = try fixture.image(["load", image])
        #expect(refused.status == 125)
        #expect(refused.stderr.contains("belongs to uid 65534, not to this user"), "\(refused.stderr)")
        #expect(fixture.layers.isEmpty && fixture.records.isEmpty)
        chown(fixture.store, 0, 0)
        #expect(try fixture.image(["load", image]).status == 0)
    }

    @Test func aBareTagIsNamedAfterTheFile() throws {
        let fixture = ImageFixture()
        let path = try fixture.make("bb.oci", tag: "1", layers: [[file("a")]])
        let load = try fixture.image(["load", path])
        #expect(load.stdout == "Loaded image: bb:1\n", "\(load.stderr)")
    }

    @Test func loadingTwiceOrASharedBaseAddsNothingForTheSharedPart() throws {
        let fixture = ImageFixture()
        let first = try fixture.make("a", reference: "a:1", layers: [ImageFixture.busybox, [file("a")]])
        let second = try fixture.make("b", format: "oci-archive", compression: "gzip", reference: "b:1",
                                      layers: [ImageFixture.busybox, [file("b")]])
        let load = try fixture.image(["load", first])
        #expect(load.status == 0, "\(load.stderr)")
        let layers = fixture.layers
        try #require(layers.count == 2)
        let base = try FileManager.default.attributesOfItem(atPath: fixture.store + "/layers/" + layers[0])
        #expect(try fixture.image(["load", first]).status == 0)
        #expect(fixture.layers == layers, "loading the same image again added layers")
        #expect(try fixture.image(["load", second]).status == 0)
        #expect(fixture.layers.count == 3, "the shared base was unpacked twice: \(fixture.layers)")
        for layer in layers {
            let again = try FileManager.default.attributesOfItem(atPath: fixture.store + "/layers/" + layer)
            if layer == layers[0] { #expect(again[.systemFileNumber] as? Int == base[.systemFileNumber] as? Int) }
        }
        #expect(fixture.records.count == 2)
        #expect(fixture.temporaries.isEmpty)
    }

    @Test func concurrentLoadsOfImagesSharingABaseBothLand() throws {
        let fixture = ImageFixture()
        let paths = try ["c1", "c2", "c3"].map {
            try fixture.make($0, reference: "\($0):1", layers: [ImageFixture.busybox, [file($0)]])
        }
        let loads = try paths.map { try Container(["image", "load", $0, "--store", fixture.store]) }
        for load in loads { #expect(load.finish(timeout: 60).status == 0) }
        #expect(fixture.layers.count == 4)
        for name in ["c1", "c2", "c3"] {
            #expect(try fixture.run(["--image", "\(name):1", "--", "cat", "/\(name)"]).status == 0)
        }
    }

    @Test func rmDropsTheNameAndPruneTheUnusedLayers() throws {
        let fixture = ImageFixture()
        let a = try fixture.make("a", reference: "a:1", layers: [ImageFixture.busybox, [file("a")]])
        let b = try fixture.make("b", reference: "b:1", layers: [ImageFixture.busybox, [file("b")]])
        for path in [a, b] { #expect(try fixture.image(["load", path]).status == 0) }
        #expect(fixture.layers.count == 3)
        let removed = try fixture.image(["rm", "a:1"])
        #expect(removed.status == 0 && removed.stdout.contains("Deleted: sha256:"), "\(removed.stderr)")
        #expect(!(try fixture.image(["ls"]).stdout.contains("a:1")))
        #expect(fixture.layers.count == 3, "rm removed layers; only prune does")
        let pruned = try fixture.image(["prune"])
        #expect(pruned.stdout == "Removed 1 layer\n", "\(pruned.stdout) \(pruned.stderr)")
        #expect(fixture.layers.count == 2)
        #expect(try fixture.run(["--image", "b:1", "--", "cat", "/b"]).status == 0)
        let missing = try fixture.image(["rm", "a:1"])
        #expect(missing.status == 125 && missing.stderr.hasPrefix("swinit-run: image rm: a:1: no such name"))
    }

    @Test func pruneIsRefusedWhileAContainerRunsFromTheStore() throws {
        let fixture = ImageFixture()
        let a = try fixture.make("a", reference: "a:1", layers: [ImageFixture.busybox])
        #expect(try fixture.image(["load", a]).status == 0)
        let container = try Container(["--store", fixture.store, "--image", "a:1", "--", "sh", "-c", "echo up; sleep 3"])
        #expect(container.waitForOutput("up"))
        #expect(try fixture.image(["rm", "a:1"]).status == 0)
        let pruned = try fixture.image(["prune"])
        #expect(pruned.status == 125 && pruned.stderr.contains("containers are running"), "\(pruned.stderr)")
        #expect(container.finish().status == 0)
        #expect(try fixture.image(["prune"]).stdout == "Removed 1 layer\n")
    }

    @Test func aLoadKilledWithSigkillLeavesNoHalfLayer() throws {
        let fixture = ImageFixture()
        let many = (0..<20000).map { file("f/\($0)", "x") }
        let path = try fixture.make("big", reference: "big:1", layers: [ImageFixture.busybox, many])
        let load = try Container(["image", "load", path, "--store", fixture.store])
        var sawUnpacking = false
        for _ in 0..<2000 where !sawUnpacking {
            // Two layer directories in tmp/: the base is done, the big one is being unpacked.
            sawUnpacking = fixture.temporaries.filter { $0.hasPrefix("layer-") }.count == 2
            if !sawUnpacking { usleep(2_000) }
        }
        kill(load.pid, SIGKILL)
        _ = load.finish()
        #expect(sawUnpacking, "the load finished before it could be killed")
        #expect(fixture.layers.isEmpty, "a layer appeared although its load was killed: \(fixture.layers)")
        #expect(fixture.records.isEmpty)
        #expect(try fixture.image(["load", path]).status == 0)
        #expect(fixture.temporaries.isEmpty, "stale temporaries stayed: \(fixture.temporaries)")
        #expect(try fixture.run(["--image", "big:1", "--", "sh", "-c", "ls /f | wc -l"]).stdout == "20000\n")
    }
}
