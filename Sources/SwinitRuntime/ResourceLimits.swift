// SPDX-License-Identifier: Apache-2.0
// The limits `docker run` calls --memory, --pids-limit and --cpus, parsed
// with Docker's units and rules, and what they become in cgroup files.
import Glibc

/// Limits of the container's cgroup; nil fields are unlimited.
public struct ResourceLimits: Equatable, Sendable {
    /// `--memory`: bytes (memory.limit_in_bytes on v1, memory.max on v2).
    public var memoryBytes: UInt64?
    /// `--pids-limit`: tasks (pids.max).
    public var pids: Int64?
    /// `--cpus` in billionths of a CPU, Docker's NanoCPUs (CFS quota per
    /// `cpuPeriod` microseconds: cpu.cfs_quota_us on v1, cpu.max on v2).
    public var nanoCPUs: UInt64?

    /// Limits as given; nil is unlimited.
    public init(memoryBytes: UInt64? = nil, pids: Int64? = nil, nanoCPUs: UInt64? = nil) {
        self.memoryBytes = memoryBytes
        self.pids = pids
        self.nanoCPUs = nanoCPUs
    }

    /// No limit at all.
    public var isEmpty: Bool { memoryBytes == nil && pids == nil && nanoCPUs == nil }

    /// The cgroup controllers these limits need (`memory`, `pids`, `cpu`).
    public var controllers: [String] {
        (memoryBytes == nil ? [] : ["memory"]) + (pids == nil ? [] : ["pids"]) + (nanoCPUs == nil ? [] : ["cpu"])
    }

    /// Docker's smallest `--memory`: 6 MiB.
    public static let minimumMemory: UInt64 = 6 << 20
    /// The CFS period Docker uses for `--cpus`: 100 ms, in microseconds.
    public static let cpuPeriod: UInt64 = 100_000

    /// The CFS quota in microseconds per `cpuPeriod`.
    public var cpuQuota: UInt64? { nanoCPUs.map { $0 * Self.cpuPeriod / 1_000_000_000 } }

    /// `--memory` text: a number (a fraction allowed) with an optional unit
    /// b, k, m, g, t (powers of 1024, optionally followed by `i` and/or `b`,
    /// any case), as Docker's RAMInBytes reads it; 0 (no limit, as under
    /// `docker run -m 0`). Nil when malformed or below one byte but not 0.
    public static func parseMemory(_ text: String) -> UInt64? {
        var digits = Substring(text.lowercased())
        if digits.hasSuffix("b") { digits = digits.dropLast() }
        if digits.hasSuffix("i") { digits = digits.dropLast() }
        var multiplier: Double = 1
        if let unit = digits.last, let power = "kmgtp".firstIndex(of: unit) {
            multiplier = Double(UInt64(1) << (10 * ("kmgtp".distance(from: "kmgtp".startIndex, to: power) + 1)))
            digits = digits.dropLast()
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isNumber || $0 == "." }), let number = Double(digits) else {
            return nil
        }
        let bytes = number * multiplier
        if bytes == 0 { return 0 }
        guard bytes >= 1, bytes < 9.2e18 else { return nil }
        return UInt64(bytes)
    }

    /// `--cpus` text: a decimal number of CPUs with at most 9 decimals
    /// (Docker: "too precise" otherwise); 0 means no limit. Nil when malformed.
    public static func parseCPUs(_ text: String) -> UInt64? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              !(whole.isEmpty && (parts.count == 1 || parts[1].isEmpty)), whole.count <= 9 else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= 9 else { return nil }
        let padded = fraction + String(repeating: "0", count: 9 - fraction.count)
        return (UInt64(whole.isEmpty ? "0" : whole) ?? 0) * 1_000_000_000 + (UInt64(padded) ?? 0)
    }

    /// The number of CPUs this host has online (sysconf(_SC_NPROCESSORS_ONLN)).
    public static var onlineCPUs: Int { max(1, sysconf(Int32(_SC_NPROCESSORS_ONLN))) }

    /// `64 MiB`, `1.5 GiB`, `1000 bytes`: for messages.
    public static func describe(bytes: UInt64) -> String {
        for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] where bytes >= UInt64(1) << shift {
            let value = Double(bytes) / Double(UInt64(1) << shift)
            let rounded = (value * 10).rounded() / 10
            return (rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)) + " " + unit
        }
        return "\(bytes) bytes"
    }

    static let stage2Tags: Set<String> = ["memory", "pids", "nano-cpus"]

    var stage2Fields: [(String, String)] {
        var fields: [(String, String)] = []
        if let memoryBytes { fields.append(("memory", String(memoryBytes))) }
        if let pids { fields.append(("pids", String(pids))) }
        if let nanoCPUs { fields.append(("nano-cpus", String(nanoCPUs))) }
        return fields
    }

    mutating func decode(_ tag: String, _ value: String) throws(RuntimeError) {
        let bad = RuntimeError("decode stage 2 arguments", reason: "bad \(tag) \(value)")
        switch tag {
        case "memory": guard let number = UInt64(value) else { throw bad }; memoryBytes = number
        case "pids": guard let number = Int64(value) else { throw bad }; pids = number
        default: guard let number = UInt64(value) else { throw bad }; nanoCPUs = number
        }
    }
}

/// Lower-case hexadecimal for byte strings in stage 2's argv.
enum Hex {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ text: String) throws(RuntimeError) -> [UInt8] {
        let utf8 = Array(text.utf8)
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            default: return nil
            }
        }
        guard utf8.count % 2 == 0 else { throw RuntimeError("decode stage 2 arguments", reason: "odd hex length") }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var index = 0
        while index < utf8.count {
            guard let high = nibble(utf8[index]), let low = nibble(utf8[index + 1]) else {
                throw RuntimeError("decode stage 2 arguments", reason: "bad hex")
            }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }
}
