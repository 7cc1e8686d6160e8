// SPDX-License-Identifier: Apache-2.0
// Which init becomes PID 1 when `--init` is not given.
import Glibc

public enum InitLocator {
    /// The host path of the default init: `$SWINIT_INIT`; else the static
    /// build next to the build directory (what scripts/build-static.sh makes:
    /// `.build/static/swinit`, which is `../static/swinit` from `.build/debug`
    /// and `../../static/swinit` from the triple directory that `.build/debug`
    /// links to, where /proc/self/exe points); else `swinit` beside
    /// swinit-run; else `/usr/local/bin/swinit`; else the first `swinit` on PATH.
    /// Returns nil when none exists.
    public static func defaultInit() -> String? {
        if let value = getenv("SWINIT_INIT") { return String(cString: value) }
        var candidates: [String] = []
        if let directory = executableDirectory() {
            candidates += [directory + "/../static/swinit", directory + "/../../static/swinit", directory + "/swinit"]
        }
        candidates.append("/usr/local/bin/swinit")
        if let path = getenv("PATH") {
            candidates += String(cString: path).split(separator: ":").map { $0 + "/swinit" }
        }
        return candidates.first { access($0, X_OK) == 0 }
    }

    /// The directory of `/proc/self/exe`.
    static func executableDirectory() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard count > 0 else { return nil }
        let path = String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }
}
