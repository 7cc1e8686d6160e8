// SPDX-License-Identifier: Apache-2.0
// SeccompProfile → classic BPF with libseccomp (seccomp_init(3),
// seccomp_rule_add(3), seccomp_export_bpf(3)) on the host side, and the
// install of that program in stage 2 (seccomp(2)), last before exec.
import CLibseccomp
import Glibc

/// Builds and installs seccomp filters.
public enum SeccompFilter {
    /// Compiles `profile` for a container holding `capabilities` (numbers, see
    /// capabilities(7)) into a BPF program (8 bytes per instruction), as runc
    /// does for Docker: rules whose `includes` do not hold or whose `excludes`
    /// do are left out; syscall names libseccomp does not know are skipped
    /// (they stay under the default action); a rule whose action is the
    /// default action is skipped.
    /// - Throws: `RuntimeError` "seccomp: …" (exit 125) for an unknown
    ///   architecture or a rule libseccomp refuses.
    /// Building a Docker-sized filter for three ABIs takes libseccomp about
    /// 12 ms here, so the result is kept in `SeccompFilterCache` under the
    /// exact rules it was built from and built once per distinct filter.
    public static func compile(_ profile: SeccompProfile, capabilities: [Int32]) throws(RuntimeError) -> [UInt8] {
        let host = HostFacts.current
        let rules = profile.rules.filter { $0.action != profile.defaultAction && applies($0, host, capabilities) }
        try checkStartable(defaultAction: profile.defaultAction, rules: rules)
        let architectures = try architectures(of: profile)
        let key = SeccompFilterCache.key(defaultAction: profile.defaultAction, architectures: architectures, rules: rules)
        if let program = SeccompFilterCache.lookup(key) { return program }
        let program = try build(defaultAction: profile.defaultAction, architectures: architectures, rules: rules)
        SeccompFilterCache.store(program, key: key)
        return program
    }

    /// Stage 2 installs the filter and then executes the init: a profile that
    /// denies execve or exit_group outright would leave it unable to start,
    /// or even to exit (it would spin on the refused exit_group).
    /// - Throws: `RuntimeError` "seccomp: the profile denies execve…" (exit 125).
    static func checkStartable(defaultAction: SeccompAction, rules: [SeccompRule]) throws(RuntimeError) {
        func lets(_ action: SeccompAction) -> Bool { action == .allow || action == .log }
        for name in ["execve", "exit_group"] {
            let matching = rules.filter { $0.names.contains(name) }
            let allowed: Bool
            if let outright = matching.first(where: { $0.arguments.isEmpty }) {
                allowed = lets(outright.action)
            } else {
                // Only argument-dependent rules: trust an allowing one, else the default decides.
                allowed = matching.contains { lets($0.action) } || lets(defaultAction)
            }
            if !allowed {
                throw RuntimeError("seccomp", reason: "the profile denies \(name), so the container could not start")
            }
        }
    }

    /// Builds the BPF program with libseccomp from rules that already apply.
    static func build(defaultAction: SeccompAction, architectures: [String],
                      rules: [SeccompRule]) throws(RuntimeError) -> [UInt8] {
        guard let context = seccomp_init(rawAction(defaultAction)) else {
            throw RuntimeError("seccomp", reason: "seccomp_init failed")
        }
        defer { seccomp_release(context) }
        // The filter is exported, not loaded: no_new_privs is stage 2's business.
        _ = seccomp_attr_set(context, SCMP_FLTATR_CTL_NNP, 0)
        // A binary tree of syscall numbers instead of a linear chain: every
        // syscall the container makes runs this program (seccomp_attr_set(3)).
        _ = seccomp_attr_set(context, SCMP_FLTATR_CTL_OPTIMIZE, 2)
        for name in architectures {
            let token = seccomp_arch_resolve_name(libseccompArchitectureName(name))
            guard token != 0 else { throw RuntimeError("seccomp", path: name, reason: "unknown architecture") }
            let result = seccomp_arch_add(context, token)
            if result != 0 && result != -EEXIST {
                throw RuntimeError("seccomp: add architecture", path: name, errno: -result)
            }
        }
        for rule in rules {
            for name in rule.names {
                let number = seccomp_syscall_resolve_name(name)
                if number == __NR_SCMP_ERROR { continue }  // unknown to this libseccomp: stays denied
                try add(rule, syscall: number, name: name, to: context)
            }
        }
        return try export(context)
    }

    /// Installs a program made by `compile` (seccomp(2),
    /// SECCOMP_SET_MODE_FILTER). Needs no_new_privs set first.
    /// - Throws: `RuntimeError` "install seccomp filter: strerror".
    static func install(_ program: [UInt8]) throws(RuntimeError) {
        guard !program.isEmpty else { return }
        let result = program.withUnsafeBytes { swinit_seccomp_install($0.baseAddress!, UInt($0.count)) }
        if result != 0 { throw RuntimeError.syscall("install seccomp filter") }
    }

    /// The architectures the filter covers besides the native one: the
    /// profile's `architectures`, or Docker's `archMap` entry for the native
    /// architecture.
    static func architectures(of profile: SeccompProfile) throws(RuntimeError) -> [String] {
        if !profile.architectures.isEmpty { return profile.architectures }
        let native = seccomp_arch_native()
        for (name, subArchitectures) in profile.architectureMap
        where seccomp_arch_resolve_name(libseccompArchitectureName(name)) == native {
            return subArchitectures
        }
        return []
    }

    /// `SCMP_ARCH_X86_64` → `x86_64`, the name seccomp_arch_resolve_name(3) takes.
    static func libseccompArchitectureName(_ name: String) -> String {
        (name.hasPrefix("SCMP_ARCH_") ? String(name.dropFirst(10)) : name).lowercased()
    }

    /// Whether Docker would keep `rule` for this host and capability set.
    static func applies(_ rule: SeccompRule, _ host: HostFacts, _ capabilities: [Int32]) -> Bool {
        func has(_ cap: String) -> Bool { Capabilities.number(named: cap).map(capabilities.contains) ?? false }
        let includes = rule.includes, excludes = rule.excludes
        if !includes.capabilities.allSatisfy(has) { return false }
        if !includes.architectures.isEmpty && !includes.architectures.contains(host.goArchitecture) { return false }
        if let minimum = includes.minimumKernel, host.kernel.lexicographicallyPrecedes(minimum) { return false }
        if excludes.capabilities.contains(where: has) { return false }
        if excludes.architectures.contains(host.goArchitecture) { return false }
        if let minimum = excludes.minimumKernel, !host.kernel.lexicographicallyPrecedes(minimum) { return false }
        return true
    }

    static func add(_ rule: SeccompRule, syscall number: Int32, name: String,
                    to context: scmp_filter_ctx) throws(RuntimeError) {
        let action = rawAction(rule.action)
        let comparisons = rule.arguments.map {
            swinit_scmp_arg($0.index, compareOperator($0.op), $0.value, $0.valueTwo)
        }
        // Comparisons of distinct arguments are ANDed in one rule; repeated
        // comparisons of one argument become one rule each (runc's reading).
        let indices = Set(rule.arguments.map(\.index))
        let groups = indices.count == comparisons.count ? [comparisons] : comparisons.map { [$0] }
        for group in groups {
            let result = group.withUnsafeBufferPointer {
                seccomp_rule_add_array(context, action, number, UInt32($0.count), $0.baseAddress)
            }
            if result != 0 { throw RuntimeError("seccomp: add rule", path: name, errno: -result) }
        }
    }

    static func export(_ context: scmp_filter_ctx) throws(RuntimeError) -> [UInt8] {
        let fd = swinit_memfd_create("swinit-seccomp", 1)  // MFD_CLOEXEC
        if fd < 0 { throw RuntimeError.syscall("seccomp: memfd_create") }
        defer { close(fd) }
        let result = seccomp_export_bpf(context, fd)
        if result != 0 { throw RuntimeError("seccomp: export BPF", errno: -result) }
        let size = Int(lseek(fd, 0, SEEK_END))
        var program = [UInt8](repeating: 0, count: size)
        let count = program.withUnsafeMutableBytes { pread(fd, $0.baseAddress, size, 0) as Int }
        if count != size { throw RuntimeError.syscall("seccomp: read exported BPF") }
        return program
    }

    static func rawAction(_ action: SeccompAction) -> UInt32 {
        switch action {
        case .allow: return 0x7fff_0000
        case .errno(let code): return 0x0005_0000 | (code & 0xffff)
        case .killThread: return 0
        case .killProcess: return 0x8000_0000
        case .trap: return 0x0003_0000
        case .trace(let message): return 0x7ff0_0000 | (message & 0xffff)
        case .log: return 0x7ffc_0000
        }
    }

    static func compareOperator(_ op: SeccompOperator) -> scmp_compare {
        switch op {
        case .notEqual: return SCMP_CMP_NE
        case .lessThan: return SCMP_CMP_LT
        case .lessOrEqual: return SCMP_CMP_LE
        case .equal: return SCMP_CMP_EQ
        case .greaterOrEqual: return SCMP_CMP_GE
        case .greaterThan: return SCMP_CMP_GT
        case .maskedEqual: return SCMP_CMP_MASKED_EQ
        }
    }
}

/// What a profile's includes/excludes are matched against.
struct HostFacts {
    /// Go's name of this architecture (`amd64`, `arm64`), as Docker compares.
    var goArchitecture: String
    /// Kernel (major, minor) from uname(2).
    var kernel: [Int]

    static var current: HostFacts {
        var names = utsname()
        uname(&names)
        let machine = withUnsafeBytes(of: names.machine) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        let release = withUnsafeBytes(of: names.release) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
        let goNames = ["x86_64": "amd64", "aarch64": "arm64", "i686": "386", "i386": "386", "loongarch64": "loong64"]
        let numbers = release.split(whereSeparator: { !$0.isNumber }).prefix(2).compactMap { Int($0) }
        return HostFacts(goArchitecture: goNames[machine] ?? machine, kernel: numbers)
    }
}
