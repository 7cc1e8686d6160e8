// SPDX-License-Identifier: Apache-2.0
// Crafted layers that try to write outside their directory or plant device
// nodes: each is refused (exit 125, one line naming the entry), the store
// stays empty and nothing appears outside it.
import Foundation
import Testing

@Suite(.enabled(if: isRoot, "needs root: the store is root-only"), .timeLimit(.minutes(2)))
struct HostileLayerTests {
    enum Attack: String, CaseIterable {
        case dotDotPath, absolutePath, writeThroughSymlinkOfThisLayer, writeThroughSymlinkOfALowerLayer,
             hardlinkUpAndOut, hardlinkToAnAbsolutePath, hardlinkToAFileNotInTheLayer, hardlinkThroughASymlink,
             whiteoutOfDotDot, opaqueMarkerThroughASymlink
    }

    @Test(arguments: Attack.allCases)
    func aHostileLayerIsRefused(attack: Attack) throws {
        let fixture = ImageFixture()
        let victim = fixture.directory + "/victim"
        try FileManager.default.createDirectory(atPath: victim, withIntermediateDirectories: true)
        let layers: [[LayerEntry]]
        let reason: String
        switch attack {
        case .dotDotPath:
            layers = [[file("../../../../../../\(victim)/pwned")]]
            reason = "path with .."
        case .absolutePath:
            layers = [[file("\(victim)/pwned")]]
            reason = "absolute path"
        case .writeThroughSymlinkOfThisLayer:
            layers = [[entry("a", "symlink", ["target": victim]), file("a/pwned")]]
            reason = "entry a/pwned: refused: goes through a symlink in this layer"
        case .writeThroughSymlinkOfALowerLayer:
            layers = [[entry("a", "symlink", ["target": victim])], [file("a/pwned")]]
            reason = "entry a/pwned: refused: goes through a, a symlink in a lower layer"
        case .hardlinkUpAndOut:
            layers = [[entry("h", "hardlink", ["target": "../../../../../../etc/passwd"])]]
            reason = "outside the layer"
        case .hardlinkToAnAbsolutePath:
            layers = [[entry("h", "hardlink", ["target": "/etc/passwd"])]]
            reason = "outside the layer"
        case .hardlinkToAFileNotInTheLayer:
            layers = [[file("etc/passwd", "root:x:0:0::/:/bin/sh\n")], [entry("h", "hardlink", ["target": "etc/passwd"])]]
            reason = "not in this layer"
        case .hardlinkThroughASymlink:
            layers = [[entry("d", "symlink", ["target": "/etc"]), entry("h", "hardlink", ["target": "d/passwd"])]]
            reason = "goes through a symlink in this layer"
        case .whiteoutOfDotDot:
            layers = [[file("a/.wh..")]]
            reason = "whiteout of nothing"
        case .opaqueMarkerThroughASymlink:
            layers = [[entry("a", "symlink", ["target": victim]), file("a/.wh..wh..opq")]]
            reason = "goes through a symlink in this layer"
        }
        let path = try fixture.make("evil", reference: "evil:1", layers: layers)
        let load = try fixture.image(["load", path])
        #expect(load.status == 125, "\(load.stderr)")
        #expect(load.stderr.hasPrefix("swinit-run: image load: layer sha256:") && load.stderr.contains(reason),
                "\(load.stderr)")
        #expect(fixture.layers.isEmpty && fixture.records.isEmpty, "the store changed: \(fixture.layers)")
        #expect(fixture.temporaries.isEmpty)
        #expect((try FileManager.default.contentsOfDirectory(atPath: victim)).isEmpty, "written outside the layer")
    }

    /// Device nodes (and setuid files) in layers are only safe where no
    /// other user can reach them: a store open to others is refused before
    /// anything is unpacked.
    @Test func aStoreOthersCanReachIsRefused() throws {
        let fixture = ImageFixture()
        try FileManager.default.createDirectory(atPath: fixture.store, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o755])
        let path = try fixture.make("dev", reference: "dev:1",
                                    layers: [[entry("dev/sda", "block", ["major": 8, "minor": 0])]])
        let load = try fixture.image(["load", path])
        #expect(load.status == 125)
        #expect(load.stderr.contains("mode 755 lets other users in"), "\(load.stderr)")
        #expect(fixture.layers.isEmpty)
    }

    @Test func deviceNodesAreKeptInARootOnlyStoreAndContainersCannotOpenThem() throws {
        let fixture = ImageFixture()
        let path = try fixture.make("dev", reference: "dev:1", layers: [
            ImageFixture.busybox, [entry("dev-copy/null", "char", ["major": 1, "minor": 3, "mode": 0o666])],
        ])
        #expect(try fixture.image(["load", path]).status == 0)
        var info = stat()
        #expect(stat(try fixture.topLayer() + "/dev-copy/null", &info) == 0)
        #expect(info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == (1 << 8 | 3))
        // The root is nodev: the node is there but cannot be opened.
        let result = try fixture.run(["--image", "dev:1", "--", "sh", "-c", "ls -l /dev-copy/null && echo x > /dev-copy/null"])
        #expect(result.stdout.contains("1,   3"), "\(result.stdout)")
        #expect(result.status != 0 && result.stderr.contains("Permission denied"), "\(result.stderr)")
    }
}
