// SPDX-License-Identifier: Apache-2.0
// A seccomp profile as typed data: the subset of Docker's / the OCI runtime
// spec's `linux.seccomp` that a runtime acts on (defaultAction,
// defaultErrnoRet, architectures / archMap, syscalls[] with names, action,
// errnoRet, args, includes and excludes). The host side parses a JSON file
// into this once (swinit-run's SeccompProfileFile) or takes Docker's default
// (DockerSeccompProfile); SeccompFilter compiles it with libseccomp.

/// What the kernel does when a rule (or no rule) matches, seccomp(2)'s
/// SECCOMP_RET_* as libseccomp's SCMP_ACT_*.
public enum SeccompAction: Equatable, Sendable {
    case allow
    /// Fail the call with this errno (EPERM, ENOSYS, …).
    case errno(UInt32)
    case killThread
    case killProcess
    case trap
    /// SECCOMP_RET_TRACE with this message for a ptrace tracer (ENOSYS without one).
    case trace(UInt32)
    case log
}

/// `SCMP_CMP_*`: how an argument is compared (seccomp_rule_add(3)).
public enum SeccompOperator: String, Equatable, Sendable {
    case notEqual = "SCMP_CMP_NE"
    case lessThan = "SCMP_CMP_LT"
    case lessOrEqual = "SCMP_CMP_LE"
    case equal = "SCMP_CMP_EQ"
    case greaterOrEqual = "SCMP_CMP_GE"
    case greaterThan = "SCMP_CMP_GT"
    /// `(arg & value) == valueTwo`.
    case maskedEqual = "SCMP_CMP_MASKED_EQ"
}

/// One argument comparison: argument `index` (0–5) against `value`.
public struct SeccompArgument: Equatable, Sendable {
    /// Which syscall argument, 0–5.
    public var index: UInt32
    /// The operand (the mask for SCMP_CMP_MASKED_EQ).
    public var value: UInt64
    /// The second operand; only SCMP_CMP_MASKED_EQ uses it (value is the mask).
    public var valueTwo: UInt64
    /// How the argument is compared with `value`.
    public var op: SeccompOperator

    /// A comparison of argument `index` with `value` (and `valueTwo`).
    public init(index: UInt32, value: UInt64, valueTwo: UInt64 = 0, op: SeccompOperator) {
        self.index = index
        self.value = value
        self.valueTwo = valueTwo
        self.op = op
    }
}

/// Docker's `includes` / `excludes` of a rule: capabilities (C names,
/// `CAP_SYS_ADMIN`), architectures (Go names: `amd64`, `arm64`, `x86`…) and
/// a minimum kernel version.
public struct SeccompCondition: Equatable, Sendable {
    /// Capability C names; includes: all present, excludes: any present.
    public var capabilities: [String] = []
    /// Go architecture names, matched against the native architecture.
    public var architectures: [String] = []
    /// (major, minor), e.g. (4, 8).
    public var minimumKernel: [Int]?

    /// A condition; an empty one always holds as `includes` and never as `excludes`.
    public init(capabilities: [String] = [], architectures: [String] = [], minimumKernel: [Int]? = nil) {
        self.capabilities = capabilities
        self.architectures = architectures
        self.minimumKernel = minimumKernel
    }

    /// No capability, architecture or kernel condition.
    public var isEmpty: Bool { capabilities.isEmpty && architectures.isEmpty && minimumKernel == nil }
}

/// One `syscalls[]` entry: these names get `action` when every argument
/// comparison holds (runc: comparisons on distinct arguments are ANDed in one
/// rule; repeated comparisons of one argument become separate rules, ORed).
public struct SeccompRule: Equatable, Sendable {
    /// Syscall names (`mkdir`, `clone3`); unknown ones are skipped when compiled.
    public var names: [String]
    /// What a matching call gets.
    public var action: SeccompAction
    /// Comparisons that must hold for the rule to match (none: always).
    public var arguments: [SeccompArgument] = []
    /// The rule applies only when all of these hold…
    public var includes = SeccompCondition()
    /// …and none of these.
    public var excludes = SeccompCondition()

    /// A rule for `names`.
    public init(names: [String], action: SeccompAction, arguments: [SeccompArgument] = [],
                includes: SeccompCondition = SeccompCondition(), excludes: SeccompCondition = SeccompCondition()) {
        self.names = names
        self.action = action
        self.arguments = arguments
        self.includes = includes
        self.excludes = excludes
    }
}

/// A whole profile. `architectures` holds libseccomp/OCI names
/// (`SCMP_ARCH_X86_64`); `architectureMap` is Docker's `archMap`: for the
/// native architecture, the sub-architectures the filter also covers.
public struct SeccompProfile: Equatable, Sendable {
    /// What a call no rule matches gets (Docker: EPERM).
    public var defaultAction: SeccompAction
    /// Architectures the filter covers besides the native one; wins over `architectureMap`.
    public var architectures: [String] = []
    /// Docker's `archMap`: native architecture → sub-architectures.
    public var architectureMap: [String: [String]] = [:]
    /// The `syscalls[]` entries, in profile order.
    public var rules: [SeccompRule] = []

    /// A profile with these parts.
    public init(defaultAction: SeccompAction, architectures: [String] = [],
                architectureMap: [String: [String]] = [:], rules: [SeccompRule] = []) {
        self.defaultAction = defaultAction
        self.architectures = architectures
        self.architectureMap = architectureMap
        self.rules = rules
    }
}
