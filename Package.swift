// swift-tools-version: 6.0
// SPDX-License-Identifier: Apache-2.0
//
// Host-mode build of everything. The init (`swinit`) is also built a second
// time, as Embedded Swift linked statically against musl, by
// scripts/build-static.sh; that build compiles the same `SwinitCore` and
// `swinit` sources, so both binaries behave the same.
import PackageDescription

let package = Package(
    name: "swinit",
    products: [
        .executable(name: "swinit", targets: ["swinit"]),
        .executable(name: "swinit-run", targets: ["swinit-run"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // Only what Swift cannot express: errno, wait-status macros, raw
        // syscalls, and the fork/exec child side (no Swift runs after fork).
        .target(name: "CSwinit"),
        // The init's logic, written in the Embedded Swift subset.
        .target(name: "SwinitCore", dependencies: ["CSwinit"]),
        // The init itself: parse → configure signals → spawn → loop → exit.
        .executableTarget(name: "swinit", dependencies: ["SwinitCore", "CSwinit"]),
        // Static multi-call helper that plays the child in black-box tests.
        .executableTarget(name: "swinit-probe"),
        .systemLibrary(name: "CLibcap", pkgConfig: "libcap", providers: [.apt(["libcap-dev"])]),
        .systemLibrary(name: "CLibseccomp", pkgConfig: "libseccomp", providers: [.apt(["libseccomp-dev"])]),
        .target(name: "SwinitRuntime", dependencies: ["CSwinit", "CLibcap", "CLibseccomp"]),
        // OCI and docker-save images: digests, archives, layer unpack, the store.
        .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .systemLibrary(name: "CCrypto", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .target(name: "SwinitImage", dependencies: ["CSwinit", "CArchive", "CCrypto"],
                // libarchive's gzip and zstd filters, named for static links
                // (bench.sh's -static-executable; a dynamic libarchive brings them).
                linkerSettings: [.linkedLibrary("z"), .linkedLibrary("zstd")]),
        .executableTarget(
            name: "swinit-run",
            dependencies: [
                "SwinitRuntime",
                "SwinitImage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "SwinitTests", dependencies: ["SwinitCore"]),
        .testTarget(name: "SwinitRuntimeTests", dependencies: ["SwinitRuntime"]),
        .testTarget(name: "SwinitImageTests", dependencies: ["SwinitImage"]),
    ]
)
