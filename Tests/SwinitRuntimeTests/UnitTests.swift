// SPDX-License-Identifier: Apache-2.0
// Runtime pieces that need no root: option escaping, the stage 2 argument
// encoding, capability names, the environment.
import CLibcap
import Glibc
import Testing
@testable import SwinitRuntime

@Suite struct OverlayOptionTests {
    @Test func lowerdirsAreJoinedTopFirstWithUpperAndWork() {
        let layers = OverlayLayers(lowerdirs: ["/l/top", "/l/base"], upperdir: "/s/upper", workdir: "/s/work")
        #expect(layers.mountOptions == "lowerdir=/l/top:/l/base,upperdir=/s/upper,workdir=/s/work")
    }

    @Test func separatorsInPathsAreEscaped() {
        #expect(OverlayLayers.escape("/a:b,c\\d") == "/a\\:b\\,c\\\\d")
    }
}

@Suite struct Stage2ArgumentTests {
    @Test func specSurvivesTheRoundTrip() throws {
        var spec = ContainerSpec()
        spec.layers = ["/base", "/top with space"]
        spec.upper = "/up"
        spec.volumes = [Volume(source: "/h", target: "/c", readOnly: true), Volume(source: "/h2", target: "/c2", readOnly: false)]
        spec.tmpfs = ["/scratch"]
        spec.environment = ["A=1", "B="]
        spec.workdir = "/w"
        spec.hostname = "box"
        spec.uid = 1000
        spec.gid = 100
        spec.network = .host
        spec.capabilities = [0, 27]
        spec.initPath = "/x/swinit"
        spec.initArguments = ["-v", ""]
        spec.command = ["sh", "-c", "echo \"$1\"", "--", ""]
        spec.stateDirectory = "/run/swinit-run/c"
        spec.interactive = true
        spec.tty = true
        (spec.terminalRows, spec.terminalColumns) = (40, 100)
        let decoded = try ContainerSpec(stage2Arguments: spec.stage2Arguments)
        #expect(decoded == spec)
    }

    @Test func unknownTagsAreRejected() {
        #expect(throws: RuntimeError.self) { try ContainerSpec(stage2Arguments: ["bogus", "1"]) }
        #expect(throws: RuntimeError.self) { try ContainerSpec(stage2Arguments: ["layer"]) }
    }

    @Test func pid1IsTheInitWithArgumentsBeforeTheDoubleDash() {
        var spec = ContainerSpec()
        spec.command = ["sh"]
        spec.initPath = "/host/swinit"
        spec.initArguments = ["-g"]
        #expect(spec.pid1Arguments == ["/sbin/swinit", "-g", "--", "sh"])
        spec.initPath = nil
        #expect(spec.pid1Arguments == ["sh"])
    }
}

@Suite struct CapabilityTests {
    @Test func dockerDefaultIsFourteenCapabilities() throws {
        let caps = try Capabilities.resolve(add: [], drop: [])
        #expect(caps.count == 14)
        let mask = caps.reduce(UInt64(0)) { $0 | (1 << UInt64($1)) }
        #expect(mask == 0xa80425fb)
    }

    @Test func namesAreAcceptedWithOrWithoutPrefixInAnyCase() {
        #expect(Capabilities.number(named: "NET_ADMIN") == 12)
        #expect(Capabilities.number(named: "cap_net_admin") == 12)
        #expect(Capabilities.number(named: "Cap_Net_Admin") == 12)
        #expect(Capabilities.number(named: "NOT_A_CAP") == nil)
    }

    @Test func dropAllThenAddKeepsOnlyTheAdded() throws {
        #expect(try Capabilities.resolve(add: ["KILL"], drop: ["ALL"]) == [5])
        #expect(try Capabilities.resolve(add: [], drop: ["ALL"]).isEmpty)
        // ALL means every capability left in our bounding set, which may be fewer than the kernel knows.
        #expect(try Capabilities.resolve(add: ["ALL"], drop: []) == Capabilities.all)
        #expect(Capabilities.all.allSatisfy { cap_get_bound(cap_value_t($0)) == 1 })
    }

    @Test func unknownCapabilityIsAUsageError() {
        #expect(throws: RuntimeError.self) { try Capabilities.resolve(add: ["BOGUS"], drop: []) }
    }
}

@Suite struct EnvironmentTests {
    @Test func defaultsThenEntriesInOrder() {
        let env = ContainerEnvironment.build(["A=1", "PATH=/bin", "HOSTVAR", "MISSING", "A=2"], hostname: "box",
                                             uid: 0, host: ["HOSTVAR": "h"])
        #expect(env == ["PATH=/bin", "HOSTNAME=box", "HOME=/root", "A=2", "HOSTVAR=h"])
    }
}

@Suite struct RuntimeErrorTests {
    @Test func messageNamesStepPathAndReason() {
        let error = RuntimeError("mount overlay on", path: "/run/x/merged", errno: 22)
        #expect(error.description == "mount overlay on /run/x/merged: Invalid argument")
        #expect(error.exitCode == 125)
    }

    @Test func commonFailuresCarryAHint() {
        let error = RuntimeError("mount overlay on", path: "/m", errno: ELOOP,
                                 reason: RuntimeError.hint("mount overlay on", ELOOP))
        #expect(error.description == "mount overlay on /m: Too many levels of symbolic links (a layer is used twice or overlaps the upper directory)")
    }
}

@Suite struct ResourceLimitTests {
    @Test func memoryTakesDockersUnits() {
        #expect(ResourceLimits.parseMemory("64m") == 64 << 20)
        #expect(ResourceLimits.parseMemory("64MiB") == 64 << 20)
        #expect(ResourceLimits.parseMemory("1g") == 1 << 30)
        #expect(ResourceLimits.parseMemory("1.5G") == 3 << 29)
        #expect(ResourceLimits.parseMemory("512k") == 512 << 10)
        #expect(ResourceLimits.parseMemory("100") == 100)
        #expect(ResourceLimits.parseMemory("100b") == 100)
        #expect(ResourceLimits.parseMemory("0") == 0)
        #expect(ResourceLimits.parseMemory("0m") == 0)
        for bad in ["", "m", "-1m", "1x", "1e9", "0.1"] { #expect(ResourceLimits.parseMemory(bad) == nil, "\(bad)") }
    }

    @Test func cpusAreNanoCPUs() {
        #expect(ResourceLimits.parseCPUs("1.5") == 1_500_000_000)
        #expect(ResourceLimits.parseCPUs("0.01") == 10_000_000)
        #expect(ResourceLimits.parseCPUs("2") == 2_000_000_000)
        #expect(ResourceLimits.parseCPUs(".5") == 500_000_000)
        #expect(ResourceLimits(nanoCPUs: 1_500_000_000).cpuQuota == 150_000)
        for bad in ["", ".", "-1", "1.0000000001", "abc", "1,5"] { #expect(ResourceLimits.parseCPUs(bad) == nil, "\(bad)") }
    }

    @Test func limitsDescribeThemselvesInBinaryUnits() {
        #expect(ResourceLimits.describe(bytes: 64 << 20) == "64 MiB")
        #expect(ResourceLimits.describe(bytes: 3 << 29) == "1.5 GiB")
        #expect(ResourceLimits.describe(bytes: 100) == "100 bytes")
    }

    @Test func limitsSeccompAndCgroupsSurviveTheStage2RoundTrip() throws {
        var spec = ContainerSpec()
        spec.limits = ResourceLimits(memoryBytes: 64 << 20, pids: 50, nanoCPUs: 1_500_000_000)
        spec.seccompFilter = [0, 1, 0xfe, 0xff, 0x7f, 0x80, 0x10, 0x01]
        spec.cgroupNamespace = true
        #expect(try ContainerSpec(stage2Arguments: spec.stage2Arguments) == spec)
        #expect(throws: RuntimeError.self) { try ContainerSpec(stage2Arguments: ["seccomp", "0g"]) }
    }
}

@Suite struct CgroupLayoutTests {
    static let hybrid = """
        31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
        32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
        33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
        35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
        39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
        40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
        41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
        """
    static let hybridSelf = "9:name=systemd:/\n8:pids:/\n4:memory:/sandbox/a\n2:cpuacct:/\n1:cpu:/\n0::/\n"

    @Test func hybridV1HostKeepsLimitsInV1AndJoinsTheUnifiedTree() {
        let layout = CgroupLayout.parse(mountinfo: Self.hybrid, cgroups: Self.hybridSelf)
        #expect(!layout.isPureV2)
        #expect(layout.v1.map(\.controllers) == [["cpu"], ["memory"], ["pids"]])
        #expect(layout.hierarchy(for: "memory")?.ownPath == "/sandbox/a")
        #expect(layout.v2?.mountPoint == "/sys/fs/cgroup/unified")
        let all = ResourceLimits(memoryBytes: 1 << 30, pids: 10, nanoCPUs: 1_000_000_000)
        #expect(ContainerCgroup.parents(layout, limits: all).map(\.path) == [
            "/sys/fs/cgroup/cpu/swinit", "/sys/fs/cgroup/memory/sandbox/a/swinit", "/sys/fs/cgroup/pids/swinit",
            "/sys/fs/cgroup/unified/swinit",
        ])
        // Without limits only the cgroup2 tree, which stage 2 is born into.
        #expect(ContainerCgroup.parents(layout, limits: ResourceLimits()).map(\.path) == ["/sys/fs/cgroup/unified/swinit"])
        #expect(ContainerCgroup.parents(layout, limits: ResourceLimits(pids: 5)).map(\.path) == [
            "/sys/fs/cgroup/pids/swinit", "/sys/fs/cgroup/unified/swinit",
        ])
    }

    @Test func pureV2HostPutsContainersAtTheRoot() {
        let mountinfo = "30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate\n"
        let layout = CgroupLayout.parse(mountinfo: mountinfo, cgroups: "0::/user.slice/session-1.scope\n")
        #expect(layout.isPureV2)
        #expect(layout.v2?.ownPath == "/user.slice/session-1.scope")
        #expect(ContainerCgroup.parents(layout, limits: ResourceLimits()).map(\.path) == ["/sys/fs/cgroup/swinit"])
    }

    @Test func cgroup2MountedOverTheV1TreesHidesThem() {
        let layout = CgroupLayout.parse(
            mountinfo: Self.hybrid + "\n90 31 0:38 / /sys/fs/cgroup rw,relatime - cgroup2 none rw\n", cgroups: Self.hybridSelf)
        #expect(layout.isPureV2)
        #expect(layout.v2?.mountPoint == "/sys/fs/cgroup")
    }

    @Test func aV1OnlyHostGetsEveryV1HierarchyEvenWithoutLimits() {
        let mountinfo = Self.hybrid.split(separator: "\n").filter { !$0.contains("cgroup2") }.joined(separator: "\n")
        let layout = CgroupLayout.parse(mountinfo: mountinfo, cgroups: Self.hybridSelf)
        #expect(layout.v2 == nil)
        #expect(ContainerCgroup.parents(layout, limits: ResourceLimits()).count == 3)
    }

    @Test func mountPointsWithSpacesAreUnescaped() {
        #expect(CgroupLayout.unescape("/a\\040b") == "/a b")
    }
}

@Suite struct SeccompProfileTests {
    @Test func dockersDefaultCompilesAndDependsOnTheCapabilities() throws {
        let defaults = try Capabilities.resolve(add: [], drop: [])
        let plain = try SeccompFilter.compile(.dockerDefault, capabilities: defaults)
        #expect(!plain.isEmpty && plain.count % 8 == 0)
        let admin = try SeccompFilter.compile(.dockerDefault, capabilities: defaults + [21])  // CAP_SYS_ADMIN
        #expect(admin != plain)
    }

    @Test func conditionsFollowDockersRules() {
        let host = HostFacts(goArchitecture: "amd64", kernel: [6, 1])
        let cloneRule = SeccompRule(names: ["clone"], action: .allow,
                                    excludes: SeccompCondition(capabilities: ["CAP_SYS_ADMIN"], architectures: ["s390x"]))
        #expect(SeccompFilter.applies(cloneRule, host, []))
        #expect(!SeccompFilter.applies(cloneRule, host, [21]))
        let armOnly = SeccompRule(names: ["set_tls"], action: .allow, includes: SeccompCondition(architectures: ["arm", "arm64"]))
        #expect(!SeccompFilter.applies(armOnly, host, []))
        let newKernel = SeccompRule(names: ["ptrace"], action: .allow, includes: SeccompCondition(minimumKernel: [6, 2]))
        #expect(!SeccompFilter.applies(newKernel, host, []))
        #expect(SeccompFilter.applies(newKernel, HostFacts(goArchitecture: "amd64", kernel: [6, 18]), []))
    }

    @Test func socketRulesCoverEveryAllowedFamilyAndNoOther() {
        let rules = DockerSeccompTable.socketRules
        #expect(rules.first?.arguments == [SeccompArgument(index: 0, value: 12, op: .lessThan)])
        let equal = Set(rules.dropFirst().map { $0.arguments[0].value })
        #expect(!equal.contains(38) && !equal.contains(40) && equal.contains(39) && equal.contains(16))
    }
}
