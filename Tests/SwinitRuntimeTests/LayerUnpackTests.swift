// SPDX-License-Identifier: Apache-2.0
// Layers unpacked as the engines' overlay drivers do: OCI whiteouts become
// overlay whiteouts, metadata is kept exactly.
import Foundation
import Testing

@Suite(.enabled(if: isRoot, "needs root: the store is root-only, containers need namespaces"), .timeLimit(.minutes(2)))
struct LayerUnpackTests {
    @Test func whiteoutsAndOpaqueDirectoriesHideLowerFiles() throws {
        let fixture = ImageFixture()
        let path = try fixture.make("wh", reference: "wh:1", layers: [
            ImageFixture.busybox,
            [file("a/keep", "k"), file("a/gone", "g"), file("d/old", "o"), file("top-gone", "t")],
            [entry("a", "dir"), file("a/.wh.gone"), entry("d", "dir"), file("d/.wh..wh..opq"), file("d/new", "n"),
             file(".wh.top-gone")],
        ])
        let load = try fixture.image(["load", path])
        #expect(load.status == 0, "\(load.stderr)")
        let top = try fixture.topLayer()
        var info = stat()
        #expect(lstat(top + "/a/gone", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0)
        #expect(lstat(top + "/top-gone", &info) == 0 && info.st_mode & S_IFMT == S_IFCHR && info.st_rdev == 0)
        #expect(xattr(top + "/d", "trusted.overlay.opaque") == "y")
        #expect(!FileManager.default.fileExists(atPath: top + "/d/.wh..wh..opq"))
        let result = try fixture.run(["--image", "wh:1", "--", "sh", "-c", "ls /a /d; ls /top-gone 2>&1"])
        #expect(result.stdout == "/a:\nkeep\n\n/d:\nnew\nls: /top-gone: No such file or directory\n", "\(result.stdout)")
    }

    @Test func ownershipModesTimesLinksAndXattrsAreKept() throws {
        let fixture = ImageFixture()
        var setuid = file("bin/tool", "#!/bin/sh\n", mode: 0o4755, uid: 7, gid: 8)
        setuid["mtime"] = 1_600_000_000
        var directory = entry("srv", "dir", ["mode": 0o750, "uid": 33, "gid": 34])
        directory["mtime"] = 1_500_000_000
        var attributed = file("srv/data", "d")
        attributed["xattrs"] = ["user.origin": "layer"]
        let path = try fixture.make("meta", reference: "meta:1", layers: [[
            entry("bin", "dir"), setuid, entry("bin/tool-link", "hardlink", ["target": "bin/tool"]),
            entry("bin/tool-sym", "symlink", ["target": "tool"]), directory, attributed,
            entry("srv/fifo", "fifo", ["mode": 0o600]),
        ]])
        #expect(try fixture.image(["load", path]).status == 0)
        let root = fixture.store + "/layers/" + fixture.layers[0]
        var tool = stat(), link = stat(), sym = stat(), srv = stat(), fifo = stat()
        #expect(lstat(root + "/bin/tool", &tool) == 0 && lstat(root + "/bin/tool-link", &link) == 0)
        #expect(tool.st_mode & 0o7777 == 0o4755 && tool.st_uid == 7 && tool.st_gid == 8)
        #expect(tool.st_mtim.tv_sec == 1_600_000_000)
        #expect(tool.st_ino == link.st_ino && tool.st_nlink == 2)
        #expect(lstat(root + "/bin/tool-sym", &sym) == 0 && sym.st_mode & S_IFMT == S_IFLNK)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: root + "/bin/tool-sym") == "tool")
        #expect(lstat(root + "/srv", &srv) == 0 && srv.st_mode & 0o7777 == 0o750 && srv.st_uid == 33 && srv.st_gid == 34)
        #expect(srv.st_mtim.tv_sec == 1_500_000_000, "a directory's mtime changed by its children")
        #expect(xattr(root + "/srv/data", "user.origin") == "layer")
        #expect(lstat(root + "/srv/fifo", &fifo) == 0 && fifo.st_mode & S_IFMT == S_IFIFO && fifo.st_mode & 0o777 == 0o600)
    }

    /// An extended attribute's value, read by Python (os.getxattr), nil when absent.
    func xattr(_ path: String, _ name: String) -> String? {
        let out = Harness.shared.temporaryDirectory("xattr") + "/value"
        let status = Harness.shell(["python3", "-c", "import os,sys; open(sys.argv[3],'wb').write(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False))",
                                    path, name, out])
        return status == 0 ? try? String(contentsOfFile: out, encoding: .utf8) : nil
    }
}
