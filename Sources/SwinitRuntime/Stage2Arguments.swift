// SPDX-License-Identifier: Apache-2.0
// ContainerSpec <-> argv of the re-executed stage 2. argv carries any byte
// but NUL, so fields travel as `tag value` pairs with no escaping; cheaper to
// parse than JSON and needs no Foundation.

extension ContainerSpec {
    /// The hidden first argument that makes swinit-run act as stage 2.
    public static let stage2Marker = "__swinit-run-stage2__"

    /// Encodes the spec as `tag value` argument pairs.
    public var stage2Arguments: [String] {
        var out: [String] = []
        func add(_ tag: String, _ value: String) { out.append(tag); out.append(value) }
        for layer in layers { add("layer", layer) }
        if let upper { add("upper", upper) }
        if readOnly { add("read-only", "1") }
        for volume in volumes {
            add("volume-source", volume.source)
            add(volume.readOnly ? "volume-ro" : "volume-rw", volume.target)
        }
        for path in tmpfs { add("tmpfs", path) }
        for entry in environment { add("env", entry) }
        add("workdir", workdir)
        add("hostname", hostname)
        add("uid", String(uid))
        add("gid", String(gid))
        add("network", network.rawValue)
        for cap in capabilities { add("cap", String(cap)) }
        if let initPath { add("init", initPath) }
        for argument in initArguments { add("init-arg", argument) }
        for argument in command { add("arg", argument) }
        add("state", stateDirectory)
        if let seccompFilter { add("seccomp", Hex.encode(seccompFilter)) }
        for (tag, value) in limits.stage2Fields { add(tag, value) }
        if cgroupNamespace { add("cgroupns", "1") }
        if interactive { add("interactive", "1") }
        if tty { add("tty", "\(terminalRows) \(terminalColumns)") }
        return out
    }

    /// Decodes `stage2Arguments`; throws on anything it did not write.
    public init<S: Collection<String>>(stage2Arguments arguments: S) throws(RuntimeError) {
        self.init()
        var iterator = arguments.makeIterator()
        var pendingSource: String?
        while let tag = iterator.next() {
            guard let value = iterator.next() else {
                throw RuntimeError("decode stage 2 arguments", reason: "tag \(tag) has no value")
            }
            switch tag {
            case "layer": layers.append(value)
            case "upper": upper = value
            case "read-only": readOnly = true
            case "volume-source": pendingSource = value
            case "volume-ro", "volume-rw":
                guard let source = pendingSource else {
                    throw RuntimeError("decode stage 2 arguments", reason: "volume without source")
                }
                volumes.append(Volume(source: source, target: value, readOnly: tag == "volume-ro"))
                pendingSource = nil
            case "tmpfs": tmpfs.append(value)
            case "env": environment.append(value)
            case "workdir": workdir = value
            case "hostname": hostname = value
            case "uid": uid = UInt32(value) ?? 0
            case "gid": gid = UInt32(value) ?? 0
            case "network": network = NetworkMode(rawValue: value) ?? .none
            case "cap": if let cap = Int32(value) { capabilities.append(cap) }
            case "init": initPath = value
            case "init-arg": initArguments.append(value)
            case "arg": command.append(value)
            case "state": stateDirectory = value
            case "seccomp": seccompFilter = try Hex.decode(value)
            case "cgroupns": cgroupNamespace = true
            case _ where ResourceLimits.stage2Tags.contains(tag): try limits.decode(tag, value)
            case "interactive": interactive = true
            case "tty":
                tty = true
                let size = value.split(separator: " ").map { UInt16($0) ?? 0 }
                (terminalRows, terminalColumns) = (size.first ?? 0, size.last ?? 0)
            default: throw RuntimeError("decode stage 2 arguments", reason: "unknown tag \(tag)")
            }
        }
    }
}
