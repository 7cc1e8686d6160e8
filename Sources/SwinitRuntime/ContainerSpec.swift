// SPDX-License-Identifier: Apache-2.0
// What one container is made of: the value the CLI builds and stage 2 executes.

/// A bind volume: `HOST:CONTAINER[:ro]`.
public struct Volume: Equatable, Sendable {
    /// Absolute path on the host (must exist).
    public var source: String
    /// Absolute path inside the container, resolved inside its root.
    public var target: String
    public var readOnly: Bool

    public init(source: String, target: String, readOnly: Bool) {
        self.source = source
        self.target = target
        self.readOnly = readOnly
    }
}

/// Which network namespace the container gets.
public enum NetworkMode: String, Equatable, Sendable, CaseIterable {
    /// A new network namespace with only `lo`, brought up.
    case none
    /// The host's network namespace.
    case host
}

/// Everything stage 2 needs to build the container and exec its PID 1.
public struct ContainerSpec: Equatable, Sendable {
    /// Read-only lower layers, lowest first (as given by `--layer`).
    public var layers: [String] = []
    /// Directory holding `upper/` and `work/` that persist; nil for a thin
    /// layer on a tmpfs that dies with the container.
    public var upper: String?
    /// No writable layer: the root is remounted read-only after setup.
    public var readOnly = false
    public var volumes: [Volume] = []
    /// Paths inside the container that get a fresh tmpfs.
    public var tmpfs: [String] = []
    /// `K=V` strings, the complete environment of the container's PID 1.
    public var environment: [String] = []
    /// Working directory inside the container (created if missing).
    public var workdir = "/"
    public var hostname = ""
    public var uid: UInt32 = 0
    public var gid: UInt32 = 0
    public var network = NetworkMode.none
    /// Capability numbers (see capabilities(7)) kept in every set.
    public var capabilities: [Int32] = []
    /// Host path of the init bind-mounted at `/sbin/swinit`; nil for `--no-init`.
    public var initPath: String?
    /// Arguments given to the init before `--`.
    public var initArguments: [String] = []
    /// The command and its arguments.
    public var command: [String] = []
    /// The state directory (absolute), where stage 2 mounts its scratch tmpfs.
    public var stateDirectory = ""
    /// The seccomp filter as classic BPF (8 bytes per instruction, from
    /// `SeccompFilter.compile`), installed last before exec; nil: unconfined.
    public var seccompFilter: [UInt8]?
    /// Memory, pids and CPU limits of the container's cgroup.
    public var limits = ResourceLimits()
    /// The container has its own cgroup (set by `Launcher`): stage 2 waits
    /// until the host has moved it in, then unshares the cgroup namespace.
    public var cgroupNamespace = false
    /// `-i`: the caller's stdin reaches the container (passed through, or
    /// copied to its terminal with `tty`); otherwise stdin is /dev/null.
    public var interactive = false
    /// `-t`: PID 1 gets a pseudo-terminal of the container's own devpts as
    /// controlling terminal and stdio; the host copies bytes to and from it.
    public var tty = false
    /// The caller's window size for the container's terminal (rows, columns); 0 when unknown.
    public var terminalRows: UInt16 = 0
    public var terminalColumns: UInt16 = 0
    /// What a SIGTERM sent to swinit-run becomes for the container (an
    /// image's StopSignal, as `docker stop` sends it); nil keeps SIGTERM.
    /// Host side only: stage 2 never needs it.
    public var stopSignal: Int32?
    /// Seconds from the first SIGTERM sent to swinit-run to SIGKILL of the
    /// container's PID 1 (the whole PID namespace dies with it), as
    /// `docker stop` escalates; -1 never escalates. Host side only.
    public var stopTimeout = ContainerSpec.defaultStopTimeout
    /// `docker stop`'s default grace period: 10 s.
    public static let defaultStopTimeout: Int32 = 10

    public init() {}

    /// Where the init is mounted inside the container.
    public static let initMountPoint = "/sbin/swinit"

    /// The argv of the container's PID 1.
    public var pid1Arguments: [String] {
        guard initPath != nil else { return command }
        return [Self.initMountPoint] + initArguments + ["--"] + command
    }
}
