// SPDX-License-Identifier: Apache-2.0
// The main job on real input: Dockerfile.example's nginx image, built layer by
// layer by scripts/build-image.sh (cached in its cache directory across runs;
// the first run builds it with debootstrap), run with swinit as PID 1. Each
// test checks one of scripts/demo.sh's claims.
import Foundation
import Testing

/// The image, built (or found in the cache) once per test process.
struct NginxImage: Sendable {
    static let shared = NginxImage()

    /// Layer directories, lowest first; empty when the build failed.
    let layers: [String]
    /// build-image.sh's status and progress lines (reused/built per layer).
    let status: Int32
    let log: String

    private init() {
        let harness = Harness.shared
        guard isRoot else { layers = []; status = -1; log = "not root"; return }
        let result = shell(["bash", harness.packageRoot + "/scripts/build-image.sh"],
                           environment: ["SWINIT_RUN": harness.swinitRun])
        status = result.status
        log = result.stderr
        layers = result.status == 0 ? result.stdout.split(separator: "\n").map(String.init) : []
    }

    var layerArguments: [String] { layers.flatMap { ["--layer", $0] } }

    /// Fails the test when the image could not be built.
    func require() throws {
        try #require(status == 0 && !layers.isEmpty, "build-image.sh failed (\(status)):\n\(log)")
    }
}

/// Runs a command to completion; stdout and stderr through files.
func shell(_ arguments: [String], environment: [String: String] = [:]) -> (status: Int32, stdout: String, stderr: String) {
    let directory = Harness.shared.temporaryDirectory("shell")
    let out = directory + "/stdout", err = directory + "/stderr"
    _ = FileManager.default.createFile(atPath: out, contents: nil)
    _ = FileManager.default.createFile(atPath: err, contents: nil)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle(forWritingAtPath: out)
    process.standardError = FileHandle(forWritingAtPath: err)
    do { try process.run() } catch { return (127, "", "\(error)") }
    process.waitUntilExit()
    defer { try? FileManager.default.removeItem(atPath: directory) }
    return (process.terminationStatus, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
}

/// `curl -k https://127.0.0.1:8443/`: the HTTP code and the body.
func fetchPage() -> (code: String, body: String) {
    let directory = Harness.shared.temporaryDirectory("curl")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let result = shell(["curl", "-sk", "--max-time", "5", "-o", directory + "/body", "-w", "%{http_code}",
                        "https://127.0.0.1:8443/"])
    return (result.stdout, (try? String(contentsOfFile: directory + "/body", encoding: .utf8)) ?? "")
}

/// One line that changes when any path, type, mode, owner, size, link
/// target or file content of `layers` changes.
func checksumListing(_ layers: [String]) -> String {
    let script = """
        for layer; do (cd "$layer" && find . -printf '%P %y %m %U:%G %s %l\\n' | LC_ALL=C sort \
            && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum); done | sha256sum
        """
    return shell(["bash", "-c", script, "checksum"] + layers).stdout
}

/// A field of /proc/PID/status ("NSpid", "Uid"), its values split on tabs.
func statusField(_ pid: pid_t, _ name: String) -> [String] {
    let text = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(name + ":") }) else { return [] }
    return line.dropFirst(name.count + 1).split(whereSeparator: { $0 == "\t" || $0 == " " }).map(String.init)
}

func commandLine(_ pid: pid_t) -> String {
    let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
    return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\0", with: " ")
}

func parent(_ pid: pid_t) -> pid_t { pid_t(statusField(pid, "PPid").first ?? "") ?? 0 }

/// nginx on the image, logging to a fresh host directory; waits until it answers.
final class NginxContainer {
    let container: Container
    let logs: String
    let name = "nginx-test-\(getpid())-\(UUID().uuidString.prefix(6))"

    init(_ image: NginxImage) throws {
        logs = Harness.shared.temporaryDirectory("nginx-logs")
        container = try Container(image.layerArguments + ["--name", name, "--network", "host",
                                  "-v", "\(logs):/var/log/nginx", "--", "nginx", "-g", "daemon off;"])
        let deadline = Date().addingTimeInterval(20)
        while fetchPage().code != "200" && container.process.isRunning && Date() < deadline { usleep(50_000) }
    }

    /// The container's PID 1 on the host (the child of swinit-run).
    var initPID: pid_t? {
        let text = (try? String(contentsOfFile: "/proc/\(container.pid)/task/\(container.pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").first.flatMap { pid_t($0) }
    }

    /// Stops it with `signal` and waits.
    func stop(_ signal: Int32) -> RunResult {
        kill(container.pid, signal)
        return container.finish(timeout: 20)
    }
}

@Suite(.enabled(if: isRoot, "needs root: debootstrap, namespaces and mounts"), .serialized,
       .timeLimit(.minutes(20)))
struct NginxImageTests {
    let image = NginxImage.shared
    let page = (try? String(contentsOfFile: Harness.shared.packageRoot + "/examples/nginx/site/index.html",
                            encoding: .utf8)) ?? "missing"

    @Test func imageHasALayerPerRunAndCopyOfDockerfileExample() throws {
        try image.require()
        // base + RUN install + RUN certificate + COPY config + COPY page + COPY swinit
        #expect(image.layers.count == 6, "\(image.log)")
        #expect(FileManager.default.isExecutableFile(atPath: image.layers[5] + "/swinit"))
        #expect(FileManager.default.fileExists(atPath: image.layers[1] + "/usr/sbin/nginx"))
        #expect(FileManager.default.fileExists(atPath: image.layers[2] + "/etc/ssl/certs/swinit-example.crt"))
        // The step-only files are mounted, never stored.
        for layer in image.layers.dropFirst() {
            #expect(!FileManager.default.fileExists(atPath: layer + "/etc/resolv.conf"), "\(layer)")
            #expect(!FileManager.default.fileExists(atPath: layer + "/etc/hosts"), "\(layer)")
        }
    }

    /// The layer cache is root only, as Docker keeps its store (0700/0710):
    /// a setuid-root file a step left in a layer (su, mount…) is out of reach
    /// of every other host user.
    @Test func layerCacheIsRootOnly() throws {
        try image.require()
        let cache = URL(fileURLWithPath: image.layers[0]).deletingLastPathComponent().deletingLastPathComponent().path
        let mode = (try? FileManager.default.attributesOfItem(atPath: cache)[.posixPermissions]) as? Int
        #expect(mode == 0o700, "\(cache)")
        let found = shell(["find", image.layers[0] + "/usr/bin", "-perm", "-4000", "-type", "f"]).stdout
        let setuid = try #require(found.split(separator: "\n").first.map(String.init), "no setuid file in the base layer")
        let reach = shell(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "test", "-e", setuid])
        #expect(reach.status != 0, "nobody reaches \(setuid)")
    }

    @Test func pageIsServedOverTLSWithSwinitAsPID1AndNginxWorkersBelowIt() throws {
        try image.require()
        let nginx = try NginxContainer(image)
        defer { _ = nginx.stop(SIGTERM) }
        let fetched = fetchPage()
        #expect(fetched.code == "200", "\(nginx.container.stderr)")
        #expect(fetched.body == page)

        let initPID = try #require(nginx.initPID)
        #expect(statusField(initPID, "NSpid").last == "1")
        #expect(commandLine(initPID).hasPrefix("/sbin/swinit -- nginx"), "\(commandLine(initPID))")
        let inside = descendants(of: initPID)
        let master = inside.filter { commandLine($0).hasPrefix("nginx: master") }
        let workers = inside.filter { commandLine($0).hasPrefix("nginx: worker") }
        #expect(master.count == 1 && master.allSatisfy { parent($0) == initPID }, "\(inside.map(commandLine))")
        #expect(!workers.isEmpty && workers.allSatisfy { master.contains(parent($0)) })
        // Workers run as www-data (33 in Debian's base-passwd), the master as root.
        #expect(workers.allSatisfy { statusField($0, "Uid").first == "33" })
    }

    @Test(arguments: [SIGQUIT, SIGTERM])
    func stopExitsZeroKeepsTheLogAndLeavesLayersAndMountsAsTheyWere(signal: Int32) throws {
        try image.require()
        let mounts = hostMountTable()
        let checksum = checksumListing(image.layers)
        let nginx = try NginxContainer(image)
        #expect(fetchPage().code == "200", "\(nginx.container.stderr)")
        // nginx writes its pid file into the thin layer.
        let initPID = try #require(nginx.initPID)
        #expect(FileManager.default.fileExists(atPath: "/proc/\(initPID)/root/run/nginx.pid"))
        #expect(FileManager.default.fileExists(atPath: "/run/swinit-run/\(nginx.name)"))

        let result = nginx.stop(signal)
        #expect(!result.timedOut)
        #expect(result.status == 0, "\(result.stderr)")
        let log = (try? String(contentsOfFile: nginx.logs + "/access.log", encoding: .utf8)) ?? ""
        #expect(log.contains("\"GET / HTTP/1.1\" 200"), "\(log)")

        #expect(!FileManager.default.fileExists(atPath: "/run/swinit-run/\(nginx.name)"))
        #expect(checksumListing(image.layers) == checksum)
        #expect(hostMountTable() == mounts)
        // A new container on the same layers sees none of the last one's writes.
        let fresh = try run(image.layerArguments + ["--", "sh", "-c", "test ! -e /run/nginx.pid"])
        #expect(fresh.status == 0, "\(fresh.stderr)")
    }

    /// 100 orphans exit after 0.3 s, then PID 1 execs a sleep that never waits.
    @Test(arguments: [false, true])
    func orphansInASecondContainerOnTheLayersAreReapedOnlyBySwinit(noInit: Bool) throws {
        try image.require()
        let container = try Container(image.layerArguments + (noInit ? ["--no-init"] : [])
            + ["--", "sh", "-c", "for i in $(seq 100); do (sleep 0.3 &); done; exec sleep 2.5"])
        usleep(1_500_000)
        let zombies = descendants(of: container.pid).compactMap(processState).filter { $0 == "Z" }.count
        #expect(container.finish().status == 0)
        if noInit { #expect(zombies > 0) } else { #expect(zombies == 0) }
    }

    /// The step's shell status decides: a RUN that fails leaves no layer in
    /// the cache, and names the step.
    @Test func failingRunStepFailsTheBuildAndCachesNothing() throws {
        try image.require()
        let harness = Harness.shared
        let context = harness.temporaryDirectory("failing")
        defer { try? FileManager.default.removeItem(atPath: context) }
        let marker = UUID().uuidString
        try "FROM debian:bookworm-slim\nRUN touch /\(marker) && false\n"
            .write(toFile: context + "/Dockerfile", atomically: true, encoding: .utf8)
        let cache = URL(fileURLWithPath: image.layers[0]).deletingLastPathComponent().path
        let before = Set((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? [])
        let build = shell(["bash", harness.packageRoot + "/scripts/build-image.sh", context + "/Dockerfile"],
                          environment: ["SWINIT_RUN": harness.swinitRun, "SWINIT_IMAGE_CONTEXT": context])
        #expect(build.status == 1)
        #expect(build.stderr.contains("layer 2 failed (status 1): RUN touch /\(marker) && false"), "\(build.stderr)")
        #expect(build.stdout.isEmpty)
        let after = Set((try? FileManager.default.contentsOfDirectory(atPath: cache)) ?? [])
        #expect(after.subtracting(before).isEmpty, "\(after.subtracting(before))")
        for log in (try? FileManager.default.contentsOfDirectory(atPath: cache + "/../logs")) ?? [] {
            let path = cache + "/../logs/" + log
            if (try? String(contentsOfFile: path, encoding: .utf8))?.isEmpty ?? false,
               !after.contains(String(log.dropLast(4))) {
                try? FileManager.default.removeItem(atPath: path)
            }
        }
    }

    /// COPY as Docker does it: a file into a directory keeps its name (also
    /// into one that exists, without a slash), several sources go into the
    /// destination directory, a directory source copies its contents, and a
    /// file destination renames.
    @Test func copyPutsFilesWhereDockerWould() throws {
        try image.require()
        let harness = Harness.shared
        let context = harness.temporaryDirectory("copy")
        defer { try? FileManager.default.removeItem(atPath: context) }
        let marker = UUID().uuidString
        let setup = shell(["sh", "-c", """
            set -e; cd "$1"; echo "$2" > hello.txt; mkdir sub; echo s1 > sub/s1
            printf '%s\\n' 'FROM debian:bookworm-slim' 'COPY hello.txt /app/' 'COPY hello.txt /etc' \
                'COPY hello.txt sub /multi/' 'COPY hello.txt /renamed.txt' 'COPY sub /subcopy' > Dockerfile
            """, "setup", context, marker])
        try #require(setup.status == 0, "\(setup.stderr)")
        let testImage = "swinit-copy-test:\(getpid())"
        defer { _ = shell([harness.swinitRun, "image", "rm", testImage]) }
        let build = shell(["bash", harness.packageRoot + "/scripts/build-image.sh", context + "/Dockerfile"],
                          environment: ["SWINIT_RUN": harness.swinitRun, "SWINIT_IMAGE_CONTEXT": context,
                                        "SWINIT_IMAGE_NAME": testImage, "SWINIT_IMAGE_OUTPUT": context + "/image"])
        try #require(build.status == 0, "\(build.stderr)")
        let layers = build.stdout.split(separator: "\n").map(String.init)
        defer {
            for layer in layers.dropFirst() {
                try? FileManager.default.removeItem(atPath: layer)
                try? FileManager.default.removeItem(atPath: layer + ".instruction")
            }
        }
        let result = try run(["--image", testImage, "--", "sh", "-c",
                              "cat /app/hello.txt /etc/hello.txt /multi/hello.txt /multi/s1 /renamed.txt /subcopy/s1"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "\(marker)\n\(marker)\n\(marker)\ns1\n\(marker)\ns1\n", "\(result.stderr)")
    }

    /// A changed site config rebuilds its layer and those above it, nothing
    /// below. A unique comment gives the changed layers keys of their own,
    /// removed afterwards; the image's own layers are only reused.
    @Test func changedSiteConfigRebuildsOnlyFromItsStepOn() throws {
        try image.require()
        let harness = Harness.shared
        let context = harness.temporaryDirectory("context")
        defer { try? FileManager.default.removeItem(atPath: context) }
        let copy = shell(["bash", "-c", """
            set -e; cd "$1"; mkdir -p "$2/.build/static"
            cp -R Dockerfile.example examples "$2/"; cp .build/static/swinit "$2/.build/static/"
            echo "# changed by the cache test $3" >> "$2/examples/nginx/default"
            """, "copy", harness.packageRoot, context, UUID().uuidString])
        try #require(copy.status == 0, "\(copy.stderr)")

        // Its own image name and output, so the shared image stays as it is.
        let testImage = "swinit-nginx-cache-test:\(getpid())"
        let environment = ["SWINIT_RUN": harness.swinitRun, "SWINIT_IMAGE_CONTEXT": context,
                           "SWINIT_IMAGE_NAME": testImage, "SWINIT_IMAGE_OUTPUT": context + "/image"]
        defer { _ = shell([harness.swinitRun, "image", "rm", testImage]) }
        let build = shell(["bash", harness.packageRoot + "/scripts/build-image.sh"], environment: environment)
        try #require(build.status == 0, "\(build.stderr)")
        let layers = build.stdout.split(separator: "\n").map(String.init)
        defer {
            for layer in layers where !image.layers.contains(layer) {
                try? FileManager.default.removeItem(atPath: layer)
                try? FileManager.default.removeItem(atPath: layer + ".instruction")
                let url = URL(fileURLWithPath: layer)
                let logs = url.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("logs")
                try? FileManager.default.removeItem(at: logs.appendingPathComponent(url.lastPathComponent + ".log"))
            }
        }
        // One line per layer ends "reused …" or "built …" (after a "building…" line).
        let lines = build.stderr.split(separator: "\n").filter { $0.hasPrefix("layer ") && !$0.hasSuffix("building…") }
        #expect(lines.count == 6, "\(build.stderr)")
        #expect(lines.prefix(3).allSatisfy { $0.contains(" reused ") }, "\(build.stderr)")
        #expect(lines.dropFirst(3).allSatisfy { $0.contains(" built ") }, "\(build.stderr)")
        #expect(Array(layers.prefix(3)) == Array(image.layers.prefix(3)))
        #expect(Set(layers.dropFirst(3)).isDisjoint(with: image.layers))
        let config = (try? String(contentsOfFile: layers[3] + "/etc/nginx/sites-available/default", encoding: .utf8)) ?? ""
        #expect(config.contains("# changed by the cache test"))
        // A built layer's cache entry is a symlink to its copy in the image store.
        for layer in layers.dropFirst(3) {
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: layer)) ?? ""
            #expect(target.hasPrefix(BuiltImage.store + "/layers/"), "\(layer) -> \(target)")
        }

        // Unchanged now: everything is reused.
        let again = shell(["bash", harness.packageRoot + "/scripts/build-image.sh"], environment: environment)
        #expect(again.stdout == build.stdout)
        #expect(!again.stderr.contains(" built "), "\(again.stderr)")
    }
}
