// SPDX-License-Identifier: Apache-2.0
// Capability names, Docker's default set, and dropping to it with libcap
// (cap_drop_bound(3), cap_set_proc(3)); see capabilities(7).
import CLibcap
import CSwinit
import Glibc

/// Capability sets of the container's processes.
public enum Capabilities {
    /// Docker's default 14 (moby oci/caps/defaults.go), by C name.
    public static let dockerDefaultNames = [
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE",
    ]

    /// The highest capability number this kernel knows
    /// (`/proc/sys/kernel/cap_last_cap`, probed with cap_get_bound(3)).
    public static var lastCapability: Int32 {
        var cap: Int32 = 0
        while cap < 63 && cap_get_bound(cap_value_t(cap + 1)) >= 0 { cap += 1 }
        return cap
    }

    /// Every capability this process can still grant: those in its bounding
    /// set (cap_get_bound(3)). `--cap-add ALL` means these; asking for one
    /// outside it could only fail in cap_set_proc.
    public static var all: [Int32] { (0...lastCapability).filter { cap_get_bound(cap_value_t($0)) == 1 } }

    /// The number of a capability given as `NET_ADMIN`, `CAP_NET_ADMIN` or
    /// `net_admin` (cap_from_name(3)); nil when libcap does not know it.
    public static func number(named name: String) -> Int32? {
        var lowered = name.lowercased()
        if !lowered.hasPrefix("cap_") { lowered = "cap_" + lowered }
        var value: cap_value_t = 0
        guard cap_from_name(lowered, &value) == 0 else { return nil }
        return Int32(value)
    }

    /// The C name (`CAP_NET_ADMIN`) of capability `number` (cap_to_name(3)).
    public static func name(of number: Int32) -> String {
        guard let raw = cap_to_name(cap_value_t(number)) else { return "CAP_\(number)" }
        defer { cap_free(raw) }
        return String(cString: raw).uppercased()
    }

    /// Docker's default set adjusted by `--cap-add` and `--cap-drop`, in
    /// Docker's order: drops apply first (`ALL` empties the set), then adds
    /// (`ALL` fills it). Sorted, no duplicates.
    /// - Throws: `RuntimeError` naming an unknown capability (exit 64 in the CLI).
    public static func resolve(add: [String], drop: [String]) throws(RuntimeError) -> [Int32] {
        var set = Set(dockerDefaultNames.compactMap { number(named: $0) })
        for name in drop {
            if name.uppercased() == "ALL" { set.removeAll(); continue }
            guard let cap = number(named: name) else { throw unknown(name) }
            set.remove(cap)
        }
        for name in add {
            if name.uppercased() == "ALL" { set.formUnion(all); continue }
            guard let cap = number(named: name) else { throw unknown(name) }
            set.insert(cap)
        }
        return set.sorted()
    }

    private static func unknown(_ name: String) -> RuntimeError {
        RuntimeError("parse capability", path: name, reason: "unknown capability", exitCode: 64)
    }

    /// Removes every capability not in `keep` from the bounding set
    /// (PR_CAPBSET_DROP via cap_drop_bound(3)) and clears the ambient set.
    /// Needs CAP_SETPCAP in the effective set, so it runs before the user switch.
    static func dropBoundingSet(keeping keep: [Int32]) throws(RuntimeError) {
        let last = lastCapability
        for cap in 0...last where !keep.contains(cap) {
            if cap_drop_bound(cap_value_t(cap)) != 0 {
                throw RuntimeError.syscall("drop capability from bounding set", name(of: cap))
            }
        }
        // PR_CAP_AMBIENT(47), PR_CAP_AMBIENT_CLEAR_ALL(4); EINVAL on old kernels is fine.
        _ = prctl4(47, 4)
    }

    /// Sets the effective and permitted sets to exactly `keep` and empties the
    /// inheritable set (cap_set_proc(3)), as Docker does since 20.10.14
    /// (CVE-2022-24769: an inheritable set would let a program with file
    /// capabilities gain them even as a non-root user). After a switch to a
    /// non-root uid the kernel has already emptied permitted, so only an
    /// empty set can be set then.
    static func setProcessSets(to keep: [Int32]) throws(RuntimeError) {
        guard let caps = cap_init() else { throw RuntimeError.syscall("cap_init") }
        defer { cap_free(UnsafeMutableRawPointer(caps)) }
        if !keep.isEmpty {
            let values = keep.map { cap_value_t($0) }
            for flag in [CAP_EFFECTIVE, CAP_PERMITTED] {
                _ = values.withUnsafeBufferPointer {
                    cap_set_flag(caps, flag, Int32($0.count), $0.baseAddress, CAP_SET)
                }
            }
        }
        if cap_set_proc(caps) != 0 { throw RuntimeError.syscall("set capabilities (cap_set_proc)") }
    }

    private static func prctl4(_ option: Int32, _ arg: UInt) -> Int32 {
        swinit_prctl(option, arg)
    }
}
