// SPDX-License-Identifier: Apache-2.0
// Compiled seccomp filters kept on the host, root-only, under
// /run/swinit-run-cache/seccomp (a tmpfs: gone at reboot). A file holds the
// exact text of the rules it was built from (its key) and the BPF program;
// a lookup compares that text in full, so a hash collision or a libseccomp
// upgrade can never hand out the wrong filter. Files are written to a
// temporary name and renamed, so a reader never sees half a file.
import CLibseccomp
import Glibc

enum SeccompFilterCache {
    /// The cache directory (mode 0700, owned by root).
    static let directory = "/run/swinit-run-cache/seccomp"
    /// The largest classic BPF program the kernel takes (BPF_MAXINSNS × 8 bytes).
    static let maximumProgram = 4096 * 8

    /// A canonical text of everything the program depends on: libseccomp's
    /// version, the native architecture, the default action, the extra
    /// architectures and every rule that applies.
    static func key(defaultAction: SeccompAction, architectures: [String], rules: [SeccompRule]) -> [UInt8] {
        let version = seccomp_version().pointee
        var text: [UInt8] = []
        text.reserveCapacity(8192)
        func add(_ string: String) { text.append(contentsOf: string.utf8) }
        func add(_ number: UInt64) { add(String(number)) }
        add("swinit-seccomp 2 libseccomp \(version.major).\(version.minor).\(version.micro) ")
        add("native \(seccomp_arch_native()) default \(SeccompFilter.rawAction(defaultAction)) ")
        add("arches " + architectures.joined(separator: ",") + "\n")
        for rule in rules {
            add(UInt64(SeccompFilter.rawAction(rule.action)))
            for name in rule.names {
                text.append(UInt8(ascii: " "))
                add(name)
            }
            for argument in rule.arguments {
                text.append(UInt8(ascii: "|"))
                add(UInt64(argument.index))
                add(argument.op.rawValue)
                add(argument.value)
                text.append(UInt8(ascii: "/"))
                add(argument.valueTwo)
            }
            text.append(UInt8(ascii: "\n"))
        }
        return text
    }

    /// The file for `key`: FNV-1a 64 of the key, in hex.
    static func path(for key: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return directory + "/" + String(hash, radix: 16) + ".bpf"
    }

    /// The cached program for `key`, or nil (missing, unreadable, other key,
    /// not owned by root or writable by others: then it is built again).
    static func lookup(_ key: [UInt8]) -> [UInt8]? {
        let fd = open(path(for: key), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd < 0 { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_uid == 0, info.st_mode & 0o022 == 0,
              info.st_size < key.count + maximumProgram + 2 else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) as Int }
        let header = key + [0]
        guard count == bytes.count, bytes.count > header.count, bytes.starts(with: header) else { return nil }
        let program = Array(bytes[header.count...])
        guard program.count % 8 == 0 else { return nil }
        return program
    }

    /// Stores `program` under `key`; failures only cost the next run a build.
    static func store(_ program: [UInt8], key: [UInt8]) {
        var prefix = ""
        for component in directory.split(separator: "/") {
            prefix += "/" + component
            if mkdir(prefix, 0o700) != 0 && errno != EEXIST { return }
        }
        let final = path(for: key)
        let temporary = final + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        if fd < 0 { return }
        let bytes = key + [0] + program
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) as Int }
        close(fd)
        if written != bytes.count || rename(temporary, final) != 0 { unlink(temporary) }
    }
}
