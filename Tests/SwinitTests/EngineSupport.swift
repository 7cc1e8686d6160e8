// SPDX-License-Identifier: Apache-2.0
// The private engines scripts/engines.sh starts (scripts/test.sh does it for
// every run), as the engine tests see them: two dockerd, one per init, and
// podman's private root; plus the busybox image each one imports once.
import Foundation
import Testing

/// The inits compared under the engines: swinit, and Debian's tini-static as
/// the reference a scenario's result must match where tini's rules apply.
enum EngineInit: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case swinit, tini

    var testDescription: String { rawValue }

    /// The unix:// address of the dockerd whose `--init-path` is this init.
    var dockerHost: String { self == .swinit ? Engines.current!.swinitDocker : Engines.current!.tiniDocker }
    /// The init binary (podman takes it per container with `--init-path`).
    var path: String { self == .swinit ? Engines.current!.swinitPath : Engines.current!.tiniPath }
}

/// scripts/engines.sh's environment.
struct Engines: Sendable {
    let directory: String
    let swinitDocker: String
    let tiniDocker: String
    let podmanFlags: [String]
    let podmanConf: String
    let swinitPath: String
    let tiniPath: String

    /// nil when the variables are absent (a bare `swift test`).
    static let current: Engines? = {
        let environment = ProcessInfo.processInfo.environment
        guard let directory = environment["SWINIT_ENGINE_DIR"], let swinitDocker = environment["SWINIT_DOCKER_SWINIT"],
              let tiniDocker = environment["SWINIT_DOCKER_TINI"], let podmanFlags = environment["SWINIT_PODMAN_FLAGS"],
              let podmanConf = environment["SWINIT_PODMAN_CONF"], let swinitPath = environment["SWINIT_ENGINE_SWINIT"],
              let tiniPath = environment["SWINIT_ENGINE_TINI"]
        else { return nil }
        return Engines(
            directory: directory, swinitDocker: swinitDocker, tiniDocker: tiniDocker,
            podmanFlags: podmanFlags.split(separator: " ").map(String.init), podmanConf: podmanConf,
            swinitPath: swinitPath, tiniPath: tiniPath)
    }()

    /// The image every scenario runs: scripts/make-rootfs.sh's busybox root.
    static let image = "swinit-test-busybox"
    /// An image holding only swinit, as `/pause`, its entrypoint.
    static let pauseImage = "swinit-test-pause"

    /// Builds the busybox root once, under the engines' directory (removed by
    /// `engines.sh stop`). - Returns: its path, or nil if it failed.
    static let rootfs: String? = {
        guard let engines = current else { return nil }
        let directory = engines.directory + "/rootfs"
        let made = try? run("\(packageRoot)/scripts/make-rootfs.sh", [directory], within: 60)
        return made?.status == 0 ? directory + "/base" : nil
    }()

    /// `docker import`s the image into each dockerd, once.
    static let dockerImages: [EngineInit: Bool] = {
        var imported: [EngineInit: Bool] = [:]
        for initKind in EngineInit.allCases {
            imported[initKind] = importImage(["/usr/bin/docker", "-H", initKind.dockerHost])
        }
        return imported
    }()

    /// `podman import`s the busybox image and the pause image, once.
    static let podmanImages: Bool = {
        guard let engines = current, importImage(podmanClient(engines)) else { return false }
        let pauseRoot = engines.directory + "/pause-root"
        do {
            try FileManager.default.createDirectory(atPath: pauseRoot, withIntermediateDirectories: true)
            try? FileManager.default.removeItem(atPath: pauseRoot + "/pause")  // from an earlier run on the same engines
            try FileManager.default.copyItem(atPath: engines.swinitPath, toPath: pauseRoot + "/pause")
        } catch {
            return false
        }
        let client = podmanClient(engines).map { "'\($0)'" }.joined(separator: " ")
        let script = "tar -C '\(pauseRoot)' -c pause | \(client) import --change 'ENTRYPOINT [\"/pause\"]' - \(pauseImage) >/dev/null"
        return (try? run("/bin/sh", ["-c", script], within: 60))?.status == 0
    }()

    private static func podmanClient(_ engines: Engines) -> [String] {
        ["/usr/bin/env", "CONTAINERS_CONF=\(engines.podmanConf)", "/usr/bin/podman"] + engines.podmanFlags
    }

    private static func importImage(_ client: [String]) -> Bool {
        guard let rootfs else { return false }
        let quoted = client.map { "'\($0)'" }.joined(separator: " ")
        let result = try? run("/bin/sh", ["-c", "tar -C '\(rootfs)' -c . | \(quoted) import - \(image) >/dev/null"], within: 60)
        return result?.status == 0
    }

}

/// Engine tests run only with scripts/engines.sh's environment; scripts/test.sh
/// always provides it, so in CI they never pass by being skipped.
let enginesAvailable = ConditionTrait.enabled(
    if: Engines.current != nil,
    "needs the private engines of scripts/engines.sh (SWINIT_ENGINE_DIR, SWINIT_DOCKER_SWINIT, …; scripts/test.sh starts them)")

/// Runs `docker -H HOST ARGS` against the dockerd of `initKind`.
func docker(_ initKind: EngineInit, _ arguments: [String], within seconds: Double = 60) throws -> Finished {
    try run("/usr/bin/docker", ["-H", initKind.dockerHost] + arguments, within: seconds)
}

/// Starts `docker -H HOST ARGS` and returns the handle (for `-d`, `-it`).
func dockerProcess(_ initKind: EngineInit, _ arguments: [String]) throws -> Spawned {
    try Spawned("/usr/bin/docker", ["-H", initKind.dockerHost] + arguments)
}

/// Runs podman with the private root and containers.conf.
func podman(_ arguments: [String], within seconds: Double = 60) throws -> Finished {
    let engines = Engines.current!
    return try run("/usr/bin/podman", engines.podmanFlags + arguments, environment: ["CONTAINERS_CONF": engines.podmanConf], within: seconds)
}

/// A container name no other test uses.
func uniqueName(_ prefix: String) -> String { "swinit-\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }

/// Polls `docker logs NAME` (or podman's) until it contains `text`.
func logs(of name: String, contain text: String, within seconds: Double = 20, _ client: ([String]) throws -> Finished) -> Bool {
    eventually(within: seconds) { ((try? client(["logs", name]))?.stdout ?? "").contains(text) }
}
