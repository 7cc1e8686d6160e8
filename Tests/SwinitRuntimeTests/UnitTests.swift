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
