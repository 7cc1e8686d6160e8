// SPDX-License-Identifier: Apache-2.0
// The image configuration blob (OCI image-spec config.md; Docker's is the
// same shape): what to run, and the DiffIDs of the layers.

/// The parts of an image configuration swinit-run uses.
struct ImageConfiguration: Codable, Sendable {
    var created: String?
    var architecture: String?
    var os: String?
    var config: ProcessDefaults?
    var rootfs: RootFS

    init(created: String?, architecture: String, os: String, config: ProcessDefaults, diffIDs: [Digest]) {
        self.created = created
        self.architecture = architecture
        self.os = os
        self.config = config
        self.rootfs = RootFS(type: "layers", diff_ids: diffIDs)
    }

    /// `rootfs`: the uncompressed digest of each layer, lowest first.
    struct RootFS: Codable, Sendable {
        var type: String
        var diff_ids: [Digest]
    }
}

/// `config` of an image configuration: the defaults `docker run` starts from.
public struct ProcessDefaults: Codable, Equatable, Sendable {
    public var User: String?
    public var Env: [String]?
    public var Entrypoint: [String]?
    public var Cmd: [String]?
    public var WorkingDir: String?
    /// Ports as `PORT/PROTO` keys, each mapped to an empty object.
    public var ExposedPorts: [String: Empty]?
    /// A signal name (`SIGQUIT`) or number.
    public var StopSignal: String?
    public var Labels: [String: String]?

    public init(User: String? = nil, Env: [String]? = nil, Entrypoint: [String]? = nil, Cmd: [String]? = nil,
                WorkingDir: String? = nil, ExposedPorts: [String: Empty]? = nil, StopSignal: String? = nil,
                Labels: [String: String]? = nil) {
        self.User = User
        self.Env = Env
        self.Entrypoint = Entrypoint
        self.Cmd = Cmd
        self.WorkingDir = WorkingDir
        self.ExposedPorts = ExposedPorts
        self.StopSignal = StopSignal
        self.Labels = Labels
    }

    /// The `{}` value of an exposed port.
    public struct Empty: Codable, Equatable, Sendable {
        public init() {}
    }
}
