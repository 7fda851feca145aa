// swift-tools-version: 6.1
import PackageDescription

// One module per responsibility (see README "Where things are"):
//   HDFDomain        money, PANs, wallet codes, the Paris business day, response codes
//   CardApplication  APDUs, status words, cryptograms, card key derivation
//   Ledger           the SQLite double-entry ledger (no networking)
//   PartnerPKI       the partner CA, server and terminal certificates
//   WireProtocol     framing, messages and codes of the socket protocol
//   GatewayServer    the mutual-TLS server over the ledger
//   GatewayClient    a terminal's connection to the gateway (pos, tests, bench)
//   Provisioning     the demo environment and the operator's verbs
//   CommandSupport   what every CLI shares: `--json` output, one-line errors, exit codes
let package = Package(
    name: "hdf-gateway",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gateway", targets: ["GatewayTool"]),
        // Drives the ledger directly, without the network: the two-process tests and the bench's ledger_only/s.
        .executable(name: "ledger-load", targets: ["LedgerLoadTool"]),
        .executable(name: "beneficiary", targets: ["BeneficiaryTool"]),
        // The partner terminal (reads the card through PC/SC) and the virtual card for pcscd's vpcd reader.
        .executable(name: "pos", targets: ["PosTool"]),
        .executable(name: "virtual-card", targets: ["VirtualCardTool"]),
        .executable(name: "bench-load", targets: ["BenchTool"]),
        // (issue 8) The parsers as libraries, for the libFuzzer package in Fuzz/ (which depends on this one by path).
        .library(name: "HDFDomain", targets: ["HDFDomain"]),
        .library(name: "WireProtocol", targets: ["WireProtocol"]),
        .library(name: "CardApplication", targets: ["CardApplication"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        // multipart/form-data for the uploads of the card application and the THR request (issue 10).
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        // The beneficiary web space (issue 9): HTTP server, sessions and bcrypt, logic-less templates.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite", path: "Sources/CSQLite", pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]),
        .target(name: "HDFDomain", dependencies: []),
        .target(name: "CardApplication", dependencies: [
            "HDFDomain",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Ledger", dependencies: ["HDFDomain", "CSQLite"]),
        .target(name: "PartnerPKI", dependencies: [
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "SwiftASN1", package: "swift-asn1"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "WireProtocol", dependencies: [
            "HDFDomain",
            .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .target(name: "GatewayServer", dependencies: [
            "HDFDomain", "Ledger", "WireProtocol", "CardApplication", "PartnerPKI",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOTLS", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "X509", package: "swift-certificates"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // A terminal's side of the socket protocol: the mutual-TLS connection, pipelined answers in order.
        .target(name: "GatewayClient", dependencies: [
            "WireProtocol", "CardApplication", "HDFDomain",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        .target(name: "Provisioning", dependencies: [
            "HDFDomain", "Ledger", "CardApplication", "PartnerPKI", "BeneficiaryOperations",
            "Referentials", // (issue 10) approvals read the rights file; submissions check answers against the référentiels
            "Reimbursement",
            "Mailer", // (issue 10) the beneficiary is told of the decision by mail and SMS (outbox)
        ]),
        // (issue 12) Paying the partners: the SEPA credit-transfer file (FoundationXML) and the statements.
        .target(name: "Reimbursement", dependencies: ["HDFDomain", "Ledger", "Receipt"]),
        .testTarget(name: "ReimbursementTests", dependencies: [
            "Reimbursement", "Ledger", "HDFDomain", "Receipt",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .target(name: "CommandSupport", dependencies: [
            "HDFDomain",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // (issue 11) An environment directory made into the gateway's configuration (paths, card keys, limits).
        .target(name: "GatewayEnvironment", dependencies: [
            "GatewayServer", "Ledger", "Provisioning", .product(name: "NIOCore", package: "swift-nio"),
        ]),
        .executableTarget(name: "GatewayTool", dependencies: [
            "HDFDomain", "Ledger", "Provisioning", "GatewayServer", "GatewayEnvironment", "CommandSupport", "PartnerPKI",
            "Referentials", // (issue 10) the review verbs' errors
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        // Tests that run the built executables as separate OS processes (ledger shared by processes,
        // SIGKILL, the operator's CLI, later the server over real sockets).
        .testTarget(name: "SystemTests", dependencies: ["Ledger", "HDFDomain", "Provisioning", "CardApplication"]),
        // The voucher's printable receipt: a one-page PDF written by hand, with its Code 128 barcode.
        .target(name: "Receipt", dependencies: ["HDFDomain"]),
        .executableTarget(name: "BeneficiaryTool", dependencies: [
            "Ledger", "HDFDomain", "CommandSupport", "Receipt", "BeneficiaryOperations", "WebSpace", "Mailer",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "LedgerLoadTool", dependencies: [
            "Ledger", "HDFDomain", "CommandSupport",
            "Reimbursement",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "BenchTool", dependencies: [
            "GatewayClient", "GatewayServer", "WireProtocol", "CardApplication", "HDFDomain", "Ledger", "Provisioning", "PartnerPKI",
            "CSQLite", "BeneficiaryOperations",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .testTarget(name: "LedgerTests", dependencies: [
            "Ledger", "HDFDomain", "Provisioning",
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        .testTarget(name: "CardApplicationTests", dependencies: ["CardApplication", "HDFDomain"]),
        .testTarget(name: "PartnerPKITests", dependencies: ["PartnerPKI", .product(name: "X509", package: "swift-certificates")]),
        .testTarget(name: "WireProtocolTests", dependencies: ["WireProtocol", "HDFDomain", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio")]),
        // PC/SC (pcsc-lite): only the terminal, the virtual card's tests and the terminal's tests link it; the
        // gateway server never does.
        .systemLibrary(
            name: "CPCSCLite", path: "Sources/CPCSCLite", pkgConfig: "libpcsclite",
            providers: [.apt(["libpcsclite-dev"])]),
        .target(name: "PCSC", dependencies: ["CPCSCLite"]),
        // The card side on a vpcd socket, its ATC kept on disk.
        .target(name: "VirtualCard", dependencies: ["CardApplication", "HDFDomain"]),
        .executableTarget(name: "VirtualCardTool", dependencies: [
            "VirtualCard", "CardApplication", "HDFDomain", "CommandSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The partner terminal's logic: card session over PC/SC, stan counter, reversal on time-out.
        .target(name: "Terminal", dependencies: [
            "PCSC", "CardApplication", "HDFDomain", "WireProtocol", "GatewayClient",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .executableTarget(name: "PosTool", dependencies: [
            "Terminal", "HDFDomain", "CommandSupport",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // What the PC/SC and terminal tests share: the test pcscd's readers, running products, virtual cards.
        .target(name: "PCSCTestSupport", dependencies: ["PCSC"], path: "Tests/PCSCTestSupport"),
        .testTarget(name: "PCSCTests", dependencies: ["PCSC", "PCSCTestSupport", "CardApplication", "HDFDomain", "VirtualCard"],
                    exclude: ["pyscard_check.py"]),
        .testTarget(name: "TerminalTests", dependencies: [
            "Terminal", "PCSC", "PCSCTestSupport", "CardApplication", "HDFDomain", "WireProtocol", "GatewayClient",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ]),
        // The beneficiary side as a beneficiary and a shop see it: the `beneficiary` executable as its own OS
        // process against a live gateway over mutual TLS, receipts read back with poppler and zbar.
        .testTarget(name: "BeneficiaryTests", dependencies: [
            "Receipt", "GatewayServer", "GatewayEnvironment", "GatewayClient", "Ledger", "HDFDomain", "Provisioning", "WireProtocol",
            "CardApplication",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // (issue 10) The référentiels (BAN addresses, the directory of establishments), the rights file, the
        // card application's and THR request's answers, uploads' content checks. No ledger, no network.
        .target(name: "Referentials", dependencies: ["HDFDomain"]),
        .testTarget(name: "ReferentialsTests", dependencies: ["Referentials", "HDFDomain"]),
        // (issue 10) The review verbs run as processes; an approved application's card pays a purchase.
        .testTarget(name: "ApplicationReviewTests", dependencies: ["Referentials", "Provisioning", "Ledger", "HDFDomain", "CardApplication"]),
        .testTarget(name: "GatewayTests", dependencies: ["GatewayServer", "GatewayEnvironment", "GatewayClient", "Ledger", "HDFDomain", "Provisioning", "WireProtocol", "CardApplication", "PartnerPKI", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "Logging", package: "swift-log"), .product(name: "NIOTLS", package: "swift-nio")]),
        // Issue 8, ledger and authoriser hardening: exact reversals, file modes, one bounded lock wait, the
        // guessing budget per partner, storage errors, housekeeping, the authoriser against a model, and the
        // fault injection (SIGKILL under load, disk full on a tmpfs, the write lock held by another process).
        .testTarget(name: "HardeningTests", dependencies: [
            "GatewayServer", "GatewayClient", "Ledger", "HDFDomain", "Provisioning", "WireProtocol", "CardApplication",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
            .product(name: "PropertyBased", package: "swift-property-based"),
        ]),
        // The web space's parts (issue 9): French formatting, mail and SMS, the region's map, the documents.
        // Mail (outbox files or SMTP to a relay) and SMS outbox of the web space.
        .target(name: "Mailer", dependencies: []),
        // The region's map of partners as SVG, drawn here (no tile server).
        .target(name: "RegionMap", dependencies: []),
        // The programme's PDFs of "Mes documents" (Règlement général, flyer), written with the receipt's PDF writer.
        .target(name: "Documents", dependencies: ["Receipt", "HDFDomain"]),
        .testTarget(name: "WebPartsTests", dependencies: ["HDFDomain", "Mailer", "RegionMap", "Documents", "Receipt"]),
        // What a beneficiary can do on the ledger, called by both the `beneficiary` verbs and the web pages.
        .target(name: "BeneficiaryOperations", dependencies: [
            "Ledger", "HDFDomain", "Receipt",
            .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        // The beneficiary web space (contract §8): routes, pages, sessions, form tokens.
        .target(name: "WebSpace", dependencies: [
            "BeneficiaryOperations", "Ledger", "HDFDomain", "Receipt", "Mailer", "RegionMap", "Documents",
            "Referentials", "Provisioning",
            .product(name: "MultipartKit", package: "multipart-kit"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
            .product(name: "Mustache", package: "swift-mustache"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
        .testTarget(name: "WebSpaceTests", dependencies: [
            "WebSpace", "BeneficiaryOperations", "Ledger", "HDFDomain", "Provisioning",
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
        ]),
    ]
)
