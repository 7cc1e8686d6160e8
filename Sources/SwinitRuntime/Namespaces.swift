// SPDX-License-Identifier: Apache-2.0
// The namespaces a container gets, and unshare(2) over them.
import CSwinit
import Glibc

/// `CLONE_NEW*` flags for unshare(2); glibc exposes them only with _GNU_SOURCE.
public struct Namespaces: OptionSet, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// `CLONE_NEWNS`: mount namespace.
    public static let mount = Namespaces(rawValue: 0x0002_0000)
    /// `CLONE_NEWUTS`: hostname and domain name.
    public static let uts = Namespaces(rawValue: 0x0400_0000)
    /// `CLONE_NEWIPC`: System V IPC and POSIX message queues.
    public static let ipc = Namespaces(rawValue: 0x0800_0000)
    /// `CLONE_NEWPID`: process IDs (affects children only).
    public static let pid = Namespaces(rawValue: 0x2000_0000)
    /// `CLONE_NEWNET`: network devices, addresses, routes.
    public static let network = Namespaces(rawValue: 0x4000_0000)

    /// Moves the calling process into new namespaces of these kinds.
    /// Follows unshare(2); needs CAP_SYS_ADMIN.
    /// - Throws: `RuntimeError` ("unshare mount,uts: Operation not permitted").
    public func unshare() throws(RuntimeError) {
        if swinit_unshare(rawValue) != 0 { throw RuntimeError.syscall("unshare", names) }
    }

    var names: String {
        let table: [(Namespaces, String)] = [(.mount, "mount"), (.uts, "uts"), (.ipc, "ipc"),
                                             (.pid, "pid"), (.network, "net")]
        return table.filter { contains($0.0) }.map(\.1).joined(separator: ",")
    }
}
