// swift-tools-version:6.0
import Foundation
import PackageDescription

let package = Package(
    name: "mcu-record",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "mcu-record", targets: ["mcu-record"]),
        .executable(name: "mcu-record-server", targets: ["mcu-record-server"]),
        .executable(name: "mcu-record-publish", targets: ["mcu-record-publish"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C headers only: each wrapper module below is the single owner of these pointers.
        .systemLibrary(name: "CFFmpeg", pkgConfig: "libavcodec libavformat libavutil libswscale libswresample",
                       providers: [.apt(["libavcodec-dev", "libavformat-dev", "libavutil-dev", "libswscale-dev", "libswresample-dev"])]),
        .systemLibrary(name: "CFreeType", pkgConfig: "freetype2", providers: [.apt(["libfreetype-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSRTP", pkgConfig: "libsrtp2", providers: [.apt(["libsrtp2-dev"])]),
        .systemLibrary(name: "COpus", pkgConfig: "opus", providers: [.apt(["libopus-dev"])]),

        // Pure Swift.
        .target(name: "MediaCore"),
        .target(name: "Layout", dependencies: ["MediaCore"]),
        .target(name: "STUN", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        .target(name: "RTP"),
        .target(name: "SDP"),

        // The only Swift that imports C.
        .target(name: "Codecs", dependencies: ["MediaCore", "CFFmpeg", "COpus"]),
        .target(name: "Text", dependencies: ["MediaCore", "CFreeType"]),
        .target(name: "SecureTransport", dependencies: ["COpenSSL", "CSRTP"]),
        .target(name: "Session", dependencies: ["STUN", "RTP", "SDP", "SecureTransport"]),
        .target(name: "Transport", dependencies: ["Session", "STUN", "RTP", .product(name: "NIOCore", package: "swift-nio"),
                                                  .product(name: "NIOPosix", package: "swift-nio")]),

        // Engine and product.
        .target(name: "Compositor", dependencies: ["MediaCore", "Layout", "Codecs", "Text"]),
        // Sinks of the composite: the recording file (x264 + AAC, the load ladder).
        .target(name: "Output", dependencies: ["MediaCore", "Codecs", "Compositor"]),
        .target(name: "Recorder", dependencies: ["MediaCore", "Layout", "Codecs", "Compositor", "Output"]),
        // Live rooms: participants' pipelines, recording sessions, commands, and the directory that routes ingest.
        .target(name: "Rooms", dependencies: ["Recorder", "Output", "Compositor", "Codecs", "Layout", "MediaCore", "Text", "RTP", "SDP", "Session",
                                              "SecureTransport", "Transport", .product(name: "Logging", package: "swift-log"),
                                              .product(name: "Metrics", package: "swift-metrics")]),
        .target(name: "Publisher", dependencies: ["Codecs", "Compositor", "Text", "MediaCore", "RTP", "SDP", "STUN", "SecureTransport",
                                                  .product(name: "AsyncHTTPClient", package: "async-http-client")]),
        // Sources the recorder pulls from servers: WHEP (and Janus).
        .target(name: "Pull", dependencies: ["Rooms", "Layout", "SDP", "STUN", "Transport", .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                             .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
                                             .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]),
        // Delivery of what rooms record: uploads to S3 API stores (journaled, resumable) and signed webhooks (outbox).
        .target(name: "Delivery", dependencies: ["Rooms", "Codecs", "MediaCore", .product(name: "Crypto", package: "swift-crypto"),
                                                 .product(name: "AsyncHTTPClient", package: "async-http-client"),
                                                 .product(name: "Logging", package: "swift-log"), .product(name: "Metrics", package: "swift-metrics"),
                                                 .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                                                 .product(name: "NIOHTTP1", package: "swift-nio")]),
        // HTTP only: maps requests onto room commands; no media code.
        .target(name: "Server", dependencies: ["Rooms", "Codecs", "Pull", "Delivery", "Layout", "MediaCore",
                                               .product(name: "Hummingbird", package: "hummingbird"),
                                               .product(name: "Logging", package: "swift-log"),
                                               .product(name: "Metrics", package: "swift-metrics")]),
        // Every outside-input parser as a function of bytes: driven by libFuzzer (`make fuzz`), replayed by the tests.
        .target(name: "FuzzTargets", dependencies: ["Layout", "MediaCore", "RTP", "SDP", "STUN"]),
        .target(name: "CommandSupport", dependencies: ["Layout", "MediaCore", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Files; no HTTP stack linked (it loads full Foundation), so composing keeps a small footprint. `--room` and
        // `publish` hand over to the executables below.
        .executableTarget(name: "mcu-record", dependencies: [
            "CommandSupport", "Recorder", "Layout", "MediaCore", "Codecs",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The built-in WebRTC publisher (`mcu-record publish`).
        .executableTarget(name: "mcu-record-publish", dependencies: [
            "CommandSupport", "Publisher", "Codecs", "MediaCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // The live room (`mcu-record --room` runs it).
        .executableTarget(name: "mcu-record-server", dependencies: [
            "Recorder", "Rooms", "Pull", "Delivery", "Output", "Text",
            "CommandSupport", "Server", "Transport", "Layout", "MediaCore", "Codecs",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // What several test targets share (reproducible randomness).
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "FuzzReplayTests", dependencies: ["FuzzTargets"]),
        .testTarget(name: "ServerTests", dependencies: ["TestSupport", "Server", "Delivery", "Rooms", "Output", "Transport", "Layout", "MediaCore", "Codecs", "Recorder",
                                                       .product(name: "Hummingbird", package: "hummingbird"),
                                                       .product(name: "HummingbirdTesting", package: "hummingbird"),
                                                       .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "RoomsTests", dependencies: ["TestSupport", "Rooms", "Compositor", "Layout", "MediaCore", "Transport",
                                                       .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "LayoutTests", dependencies: ["Layout"]),
        .testTarget(name: "DeliveryTests", dependencies: ["TestSupport", "Delivery", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "STUNTests", dependencies: ["STUN"]),
        .testTarget(name: "RTPTests", dependencies: ["RTP", "TestSupport"]),
        .testTarget(name: "SDPTests", dependencies: ["SDP"]),
        .testTarget(name: "SecureTransportTests", dependencies: ["SecureTransport"]),
        .testTarget(name: "SessionTests", dependencies: ["Session", "STUN", "RTP", "SDP", "SecureTransport"]),
        .testTarget(name: "TransportTests", dependencies: ["TestSupport", "Transport", "Rooms", "Session", "STUN", "RTP", "SDP", "SecureTransport", "Recorder", "Codecs", "Layout", "MediaCore",
                                                          .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "CompositorTests", dependencies: ["TestSupport", "Compositor", "Output", "Codecs", "Layout", "MediaCore", "Text"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport", "Codecs", "Compositor", "Output", "Text", "Layout", "MediaCore", "STUN", "RTP", "SDP", "SecureTransport"]),
    ],
    swiftLanguageModes: [.v6]
)

// `make fuzz` builds the libFuzzer driver (MCU_FUZZ=1, its own scratch path, -sanitize=fuzzer,address); ordinary
// builds never see it, so they need no sanitizer runtime.
if ProcessInfo.processInfo.environment["MCU_FUZZ"] != nil {
    package.targets.append(.executableTarget(name: "mcu-fuzz", dependencies: ["FuzzTargets"], path: "Fuzz/mcu-fuzz",
                                             swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    package.products.append(.executable(name: "mcu-fuzz", targets: ["mcu-fuzz"]))
}
