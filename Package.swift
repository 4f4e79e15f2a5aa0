// swift-tools-version:6.2
// Conveyor: a message-queue driven job execution platform.
//
// Layout: `Shared/` holds the libraries every service links (models, the C library wrappers and the
// service kit); `Services/<name>/` holds one executable each, a thin `main` over a library target
// that tests import directly.

import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let log = Target.Dependency.product(name: "Logging", package: "swift-log")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let hummingbird = Target.Dependency.product(name: "Hummingbird", package: "hummingbird")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")

/// The seven services: executable product name, library target name, and what the library needs.
let services: [(product: String, target: String, dependencies: [Target.Dependency])] = [
    ("api-gateway", "APIGateway", [
        "ConveyorModels", "ServiceKit", "Messaging", hummingbird, .product(name: "JWTKit", package: "jwt-kit"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
    ]),
    ("metadata", "Metadata", [
        "ConveyorModels", "AMQPClient", "Postgres", "ServiceKit", "Messaging", .product(name: "Crypto", package: "swift-crypto"),
    ]),
    ("scheduler", "Scheduler", [
        "ConveyorModels", "AMQPClient", "ServiceKit", "Messaging", .product(name: "HeapModule", package: "swift-collections"),
    ]),
    ("importer", "Importer", ["ConveyorModels", "ServiceKit", "WorkerKit"]),
    ("exporter", "Exporter", ["ConveyorModels", "ServiceKit", "WorkerKit"]),
    ("runner", "Runner", ["ConveyorModels", "ServiceKit", "WorkerKit"]),
    ("notifier", "Notifier", [
        "ConveyorModels", "AMQPClient", "Postgres", "SMTPClient", "ServiceKit", "Messaging", .product(name: "Mustache", package: "swift-mustache"),
    ]),
]

var targets: [Target] = [
    // C libraries named by the mission, wrapped as system-library targets with typed shims.
    .systemLibrary(
        name: "CRabbitMQ", path: "Shared/CRabbitMQ", pkgConfig: "librabbitmq",
        providers: [.apt(["librabbitmq-dev"])]),
    .systemLibrary(
        name: "CLibPQ", path: "Shared/CLibPQ", pkgConfig: "libpq",
        providers: [.apt(["libpq-dev"])]),
    .systemLibrary(
        name: "CCurl", path: "Shared/CCurl", pkgConfig: "libcurl",
        providers: [.apt(["libcurl4-openssl-dev"])]),
    // Linux system interfaces Glibc's Swift module leaves out (epoll, eventfd).
    .systemLibrary(name: "CLinux", path: "Shared/CLinux"),
    // Starts a model's process contained: in its control groups, with its limits and user, from
    // its first instruction (vfork and raw system calls; posix_spawn cannot join a v1 cgroup).
    .target(name: "CChildSpawn", path: "Shared/CChildSpawn"),

    .target(
        name: "ConveyorModels", dependencies: ["CivilCalendar", "MailboxRules"], path: "Shared/ConveyorModels", swiftSettings: swiftSettings),
    .target(name: "CivilCalendar", path: "Shared/CivilCalendar", swiftSettings: swiftSettings),
    // The one rule for e-mail addresses: what the gateway accepts is what the SMTP client sends to.
    .target(name: "MailboxRules", path: "Shared/MailboxRules", swiftSettings: swiftSettings),
    .target(
        name: "AMQPClient", dependencies: ["CRabbitMQ", log, lifecycle, metrics],
        path: "Shared/AMQPClient", swiftSettings: swiftSettings),
    .target(
        name: "Postgres", dependencies: ["CLibPQ", "CivilCalendar", log, lifecycle, metrics],
        path: "Shared/Postgres", swiftSettings: swiftSettings),
    .target(
        name: "SMTPClient", dependencies: ["CCurl", "MailboxRules", log],
        path: "Shared/SMTPClient", swiftSettings: swiftSettings),
    .target(
        name: "ServiceKit",
        dependencies: [
            "AMQPClient", "ConveyorModels", log, lifecycle, hummingbird, metrics,
            .product(name: "UnixSignals", package: "swift-service-lifecycle"), .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Configuration", package: "swift-configuration"), .product(name: "Crypto", package: "swift-crypto"),
        ],
        path: "Shared/ServiceKit", swiftSettings: swiftSettings),
    // The message contracts' plumbing: the topology's declarations, the RPC clients of metadata and
    // the scheduler, and the workers' report sender.
    .target(
        name: "Messaging", dependencies: ["AMQPClient", "ConveyorModels", "ServiceKit", log, lifecycle, metrics],
        path: "Shared/Messaging", swiftSettings: swiftSettings),
    .target(
        name: "WorkerKit", dependencies: ["ConveyorModels", "AMQPClient", "ServiceKit", "Messaging", "CLinux", "CChildSpawn", log, lifecycle, metrics],
        path: "Shared/WorkerKit", swiftSettings: swiftSettings),

    .testTarget(
        name: "ConveyorModelsTests", dependencies: ["ConveyorModels"],
        path: "Tests/ConveyorModelsTests", swiftSettings: swiftSettings),
    .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: swiftSettings),
    .testTarget(
        name: "AMQPClientTests", dependencies: ["AMQPClient", "ConveyorModels", "TestSupport"],
        path: "Tests/AMQPClientTests", swiftSettings: swiftSettings),
    .testTarget(
        name: "PostgresTests", dependencies: ["Postgres"],
        path: "Tests/PostgresTests", swiftSettings: swiftSettings),
    .testTarget(
        name: "SMTPClientTests", dependencies: ["SMTPClient"],
        path: "Tests/SMTPClientTests", swiftSettings: swiftSettings),
    .testTarget(
        name: "MetadataTests", dependencies: ["Metadata", "Postgres", "ConveyorModels", "ServiceKit"],
        path: "Tests/MetadataTests", swiftSettings: swiftSettings),
    .testTarget(
        name: "SchedulerTests", dependencies: ["Scheduler", "ConveyorModels"],
        path: "Tests/SchedulerTests", swiftSettings: swiftSettings),
    .testTarget(
        name: "ServiceKitTests",
        dependencies: ["ServiceKit", "ConveyorModels", .product(name: "Configuration", package: "swift-configuration")],
        path: "Tests/ServiceKitTests", swiftSettings: swiftSettings),
    .testTarget(
        name: "WorkerKitTests", dependencies: ["WorkerKit", "ConveyorModels", "CChildSpawn"],
        path: "Tests/WorkerKitTests", swiftSettings: swiftSettings),
    .testTarget(
        name: "EndToEndTests", dependencies: ["ConveyorModels", "AMQPClient", "TestSupport", .product(name: "JWTKit", package: "jwt-kit")],
        path: "Tests/EndToEndTests", swiftSettings: swiftSettings),

    .executableTarget(
        name: "ConveyorBench",
        dependencies: [
            "ConveyorModels", "AMQPClient", "Postgres", "TestSupport", "Scheduler",
            .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"), .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        ],
        path: "Tests/Benchmarks", swiftSettings: swiftSettings),
    // Operators' command for the dead-letter queues (list, show, replay).
    .executableTarget(
        name: "ConveyorDLQ", dependencies: ["AMQPClient", "ConveyorModels", log], path: "Tools/conveyor-dlq",
        swiftSettings: swiftSettings),
    // Operators' command for what needs no token: issuing the first ones (and listing, revoking).
    .executableTarget(
        name: "ConveyorAdmin",
        dependencies: ["ConveyorModels", "ServiceKit", "Messaging", log, .product(name: "ArgumentParser", package: "swift-argument-parser")],
        path: "Tools/conveyor-admin", swiftSettings: swiftSettings),
    // The users' command line, over the HTTP API.
    .executableTarget(
        name: "ConveyorCLI",
        dependencies: [
            .product(name: "ArgumentParser", package: "swift-argument-parser"), .product(name: "Yams", package: "Yams"),
        ],
        path: "Tools/conveyor", swiftSettings: swiftSettings),
    .executableTarget(
        name: "ConveyorChaos",
        dependencies: ["TestSupport"],
        path: "Tests/Chaos", swiftSettings: swiftSettings),
]

for service in services {
    targets.append(
        .target(
            name: service.target, dependencies: service.dependencies + [log, lifecycle, metrics],
            path: "Services/\(service.product)/\(service.target)",
            // The gateway serves docs/openapi.yaml (linked from its Resources/) as a resource.
            resources: service.target == "APIGateway" ? [.copy("Resources/openapi.yaml")] : nil,
            swiftSettings: swiftSettings))
    targets.append(
        .executableTarget(
            name: "\(service.target)Main", dependencies: [.target(name: service.target), "ServiceKit"],
            path: "Services/\(service.product)/main", swiftSettings: swiftSettings))
}

let package = Package(
    name: "Conveyor",
    platforms: [.macOS(.v15)],
    products: services.map { .executable(name: $0.product, targets: ["\($0.target)Main"]) }
        + [.executable(name: "conveyor-bench", targets: ["ConveyorBench"]), .executable(name: "conveyor-chaos", targets: ["ConveyorChaos"]),
            .executable(name: "conveyor-dlq", targets: ["ConveyorDLQ"]), .executable(name: "conveyor-admin", targets: ["ConveyorAdmin"]),
            .executable(name: "conveyor", targets: ["ConveyorCLI"]),
        ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: targets
)
