// swift-tools-version: 6.1
import PackageDescription

// libFuzzer targets for the parsers that read what a stranger sends (issue 8). A package of its own so
// that the root package's normal `swift build` never sees `-sanitize=fuzzer`: build it with
//
//     swift build --package-path Fuzz --scratch-path Fuzz/.build-fuzz -Xswiftc -sanitize=fuzzer
//
// (scripts/test-fuzz.sh and scripts/fuzz.sh do). Each target is one executable whose `main` hands its
// test function to libFuzzer's driver (`LLVMFuzzerRunDriver`). See docs/fuzzing.md.
let package = Package(
    name: "hdf-gateway-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "hdf-gateway", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // What every target shares: the failure report, a byte reader over the input.
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer"]),
        // The declaration of libFuzzer's driver (its runtime comes with -sanitize=fuzzer).
        .target(name: "CLibFuzzer"),
        // The frame decoder: bounds, incremental reads, round trips, a bad header closes.
        .executableTarget(name: "FuzzFrameDecoder", dependencies: [
            "FuzzSupport",
            .product(name: "WireProtocol", package: "hdf-gateway"),
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        // The JSON parser: parse → encode → parse is stable, nesting bounded.
        .executableTarget(name: "FuzzJSON", dependencies: [
            "FuzzSupport", .product(name: "WireProtocol", package: "hdf-gateway"),
        ]),
        // The request parser: every refusal is a code of the contract's table; accepted requests round-trip.
        .executableTarget(name: "FuzzRequestParser", dependencies: [
            "FuzzSupport", .product(name: "WireProtocol", package: "hdf-gateway"),
        ]),
        // The APDU parser and the card applet: only the documented status words.
        .executableTarget(name: "FuzzAPDU", dependencies: [
            "FuzzSupport",
            .product(name: "CardApplication", package: "hdf-gateway"),
            .product(name: "HDFDomain", package: "hdf-gateway"),
        ]),
    ]
)
