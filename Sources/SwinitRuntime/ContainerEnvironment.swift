// SPDX-License-Identifier: Apache-2.0
// The environment of the container's PID 1, built like docker run's.

public enum ContainerEnvironment {
    /// Docker's default PATH.
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// PATH, HOSTNAME and HOME defaults (HOME: `home`, the user's passwd
    /// entry in the container, else /root for root and / for others, as
    /// runc does; and TERM=xterm with a `terminal`,
    /// as `docker run -t`), then each `-e` entry in order: `K=V` sets K; a
    /// bare `K` copies K from `host` when it is set there (docker run).
    /// A later entry for the same key replaces an earlier one.
    public static func build(_ entries: [String], hostname: String, uid: UInt32, host: [String: String],
                             home: String? = nil, terminal: Bool = false) -> [String]
    {
        var keys: [String] = []
        var values: [String: String] = [:]
        func set(_ key: String, _ value: String) {
            if values[key] == nil { keys.append(key) }
            values[key] = value
        }
        set("PATH", defaultPath)
        set("HOSTNAME", hostname)
        set("HOME", home ?? (uid == 0 ? "/root" : "/"))
        if terminal { set("TERM", "xterm") }
        for entry in entries {
            if let equals = entry.firstIndex(of: "=") {
                set(String(entry[..<equals]), String(entry[entry.index(after: equals)...]))
            } else if let value = host[entry] {
                set(entry, value)
            }
        }
        return keys.map { "\($0)=\(values[$0]!)" }
    }
}
