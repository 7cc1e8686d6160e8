// SPDX-License-Identifier: Apache-2.0
// The nginx image scripts/build-image.sh builds is a real image: in the store
// with Dockerfile.example's ENTRYPOINT, CMD, EXPOSE and STOPSIGNAL, run with
// --image (its own /swinit as PID 1), written as an OCI layout and a
// docker-save archive that podman loads and serves the same page from, with
// swinit as PID 1 and the same clean stop.
import Foundation
import Testing

/// Where the shared nginx build (NginxImage) puts its image.
enum BuiltImage {
    static var store: String { ProcessInfo.processInfo.environment["SWINIT_STORE"] ?? "/var/lib/swinit" }
    static var output: String {
        let environment = ProcessInfo.processInfo.environment
        return environment["SWINIT_IMAGE_OUTPUT"] ?? (environment["SWINIT_IMAGE_CACHE"] ?? "/var/cache/swinit/nginx") + "/image"
    }
    static let name = "swinit-nginx:latest"
}

/// `curl -k https://127.0.0.1:8443/` inside the network namespace of `pid`.
func fetchPage(inNetworkOf pid: pid_t) -> (code: String, body: String) {
    let result = tool(["nsenter", "-t", "\(pid)", "-n", "curl", "-sk", "--max-time", "5", "-w", "\n%{http_code}",
                       "https://127.0.0.1:8443/"])
    guard let split = result.stdout.lastIndex(of: "\n") else { return ("", "") }
    return (String(result.stdout[result.stdout.index(after: split)...]), String(result.stdout[..<split]))
}

/// In NginxImageTests' suite, which is serialized: podman's overlay mounts
/// show in the host's mount table, which its other tests compare.
extension NginxImageTests {
    @Test func theImageCarriesTheDockerfilesConfigInEveryForm() throws {
        try image.require()
        let layout = BuiltImage.output + "/oci"
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: layout + "/index.json"))) as! [String: Any]
        let entry = (index["manifests"] as! [[String: Any]])[0]
        #expect((entry["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == BuiltImage.name)
        let manifest = try blob(layout, entry["digest"] as! String)
        let config = try blob(layout, (manifest["config"] as! [String: Any])["digest"] as! String)
        let process = config["config"] as! [String: Any]
        #expect(process["Entrypoint"] as? [String] == ["/swinit", "--"])
        #expect(process["Cmd"] as? [String] == ["nginx", "-g", "daemon off;"])
        #expect((process["ExposedPorts"] as? [String: Any])?.keys.sorted() == ["8443/tcp"])
        #expect(process["StopSignal"] as? String == "SIGQUIT")
        #expect((manifest["layers"] as! [Any]).count == image.layers.count)
        // The docker-save archive names the same config.
        let listing = tool(["tar", "-xOf", BuiltImage.output + "/docker-archive.tar", "manifest.json"]).stdout
        let saved = try JSONSerialization.jsonObject(with: Data(listing.utf8)) as! [[String: Any]]
        #expect(saved[0]["RepoTags"] as? [String] == [BuiltImage.name])
        #expect(saved[0]["Config"] as? String == String(((manifest["config"] as! [String: Any])["digest"] as! String).dropFirst(7)) + ".json")
        // And the store has it, on layers of its own.
        let layers = tool([Harness.shared.swinitRun, "image", "layers", "--store", BuiltImage.store, BuiltImage.name])
        #expect(layers.status == 0 && layers.stdout.split(separator: "\n").count == image.layers.count)
    }

    /// Every cgroup directory below the v1 hierarchies' libpod_parent (podman's cgroupfs parent).
    func podmanCgroups() -> Set<String> {
        let listing = tool(["sh", "-c", "find /sys/fs/cgroup/*/libpod_parent -type d 2>/dev/null"]).stdout
        return Set(listing.split(separator: "\n").map(String.init))
    }

    func blob(_ layout: String, _ digest: String) throws -> [String: Any] {
        let data = try Data(contentsOf: URL(fileURLWithPath: layout + "/blobs/sha256/" + digest.dropFirst(7)))
        return try JSONSerialization.jsonObject(with: data) as! [String: Any]
    }

    @Test func itRunsWithItsOwnSwinitAsPID1AndStopsCleanlyOnSigterm() throws {
        try image.require()
        let mounts = hostMountTable()
        let container = try Container(["--store", BuiltImage.store, "--image", BuiltImage.name])
        var pid1: pid_t = 0
        var fetched = (code: "", body: "")
        let deadline = Date().addingTimeInterval(20)
        repeat {
            usleep(50_000)
            let children = (try? String(contentsOfFile: "/proc/\(container.pid)/task/\(container.pid)/children", encoding: .utf8)) ?? ""
            pid1 = children.split(separator: " ").first.flatMap { pid_t($0) } ?? 0
            if pid1 > 0 { fetched = fetchPage(inNetworkOf: pid1) }
        } while fetched.code != "200" && container.process.isRunning && Date() < deadline
        #expect(fetched.code == "200" && fetched.body == page, "\(container.stderr)")
        #expect(commandLine(pid1) == "/swinit -- nginx -g daemon off; ", "\(commandLine(pid1))")
        #expect(statusField(pid1, "NSpid").last == "1")
        // SIGTERM becomes the image's STOPSIGNAL, SIGQUIT: nginx's graceful stop, status 0.
        kill(container.pid, SIGTERM)
        let result = container.finish(timeout: 20)
        #expect(!result.timedOut && result.status == 0, "\(result.stderr)")
        #expect(hostMountTable() == mounts)
    }

    @Test func podmanLoadsTheArchiveAndServesTheSamePageWithSwinitAsPID1() throws {
        try image.require()
        try #require(installed("podman"), "podman is not installed (scripts/test.sh installs it)")
        let root = Harness.shared.temporaryDirectory("podman")
        let podman = ["podman", "--root", root + "/root", "--runroot", root + "/run", "--storage-driver", "overlay",
                      "--cgroup-manager", "cgroupfs", "--events-backend", "file", "--tmpdir", root + "/tmp"]
        let cgroupsBefore = podmanCgroups()
        defer {
            tool(podman + ["rm", "-a", "-f"])
            tool(podman + ["rmi", "-a", "-f"])
            // The cgroups podman made for conmon and the container, if empty now
            // (rmdir(2) removes only empty ones: another podman's stay).
            for path in podmanCgroups().subtracting(cgroupsBefore).sorted(by: { $0.count > $1.count }) { rmdir(path) }
            #expect(podmanCgroups().subtracting(cgroupsBefore).isEmpty, "podman left cgroups")
            #expect(!((try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? "").contains(root),
                    "podman left a mount")
            try? FileManager.default.removeItem(atPath: root)
        }
        let load = tool(podman + ["load", "-q", "-i", BuiltImage.output + "/docker-archive.tar"])
        #expect(load.status == 0 && load.stdout.contains("swinit-nginx:latest"), "\(load.stdout)")
        // runc, and this host's limits given explicitly.
        let started = tool(podman + ["run", "-d", "--runtime", "runc", "--network", "none",
                                     "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096", BuiltImage.name])
        let id = started.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(started.status == 0 && !id.isEmpty, "podman run failed")
        let pid = pid_t(tool(podman + ["inspect", "--format", "{{.State.Pid}}", id]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        try #require(pid > 0)
        var fetched = (code: "", body: "")
        let deadline = Date().addingTimeInterval(20)
        while fetched.code != "200" && Date() < deadline {
            usleep(100_000)
            fetched = fetchPage(inNetworkOf: pid)
        }
        #expect(fetched.code == "200" && fetched.body == page)
        #expect(commandLine(pid) == "/swinit -- nginx -g daemon off; ", "\(commandLine(pid))")
        #expect(statusField(pid, "NSpid").last == "1")
        // podman stop sends the image's STOPSIGNAL (SIGQUIT) to /swinit, which forwards it to nginx.
        #expect(tool(podman + ["stop", "-t", "15", id]).status == 0)
        #expect(tool(podman + ["inspect", "--format", "{{.State.ExitCode}}", id]).stdout.hasPrefix("0"))
    }
}
