// swift-tools-version: 6.0
import PackageDescription

/// One settings list for every target, so the whole package builds under the same rules.
let swiftSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
  name: "hpod",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "hpod", targets: ["hpod"]),
    .library(name: "SearchStrategies", targets: ["SearchStrategies"]),
    .library(name: "TrialScheduler", targets: ["TrialScheduler"]),
    .library(name: "TrackingBridge", targets: ["TrackingBridge"]),
    .library(name: "StudyAnalysis", targets: ["StudyAnalysis"]),
    .library(name: "MultiObjective", targets: ["MultiObjective"]),
    .library(name: "StudyModel", targets: ["StudyModel"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
  ],
  targets: [
    .systemLibrary(name: "CLapack", path: "Sources/CLapack"),
    .target(name: "CProcessSpawn"),
    // The words every module shares: a parameter's value, a configuration, which way the
    // objective improves, the tiers and the states of trials and studies.
    .target(name: "StudyModel", swiftSettings: swiftSettings),
    .target(
      name: "SearchStrategies",
      dependencies: ["StudyModel", "CLapack", "MultiObjective"],
      swiftSettings: swiftSettings
    ),
    .target(
      name: "TrackingBridge",
      dependencies: [
        "StudyModel",
        "Significance",
        "NumberText",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: swiftSettings
    ),
    .target(name: "DidYouMean", swiftSettings: swiftSettings),
    // How numbers are shown to people: one formatter for every view and message.
    .target(name: "NumberText", swiftSettings: swiftSettings),
    // Summaries and tests of repeated measurements: Welch's t-test, the Mann-Whitney test.
    .target(name: "Significance", dependencies: ["NumberText"], swiftSettings: swiftSettings),
    // Pareto dominance, non-dominated sorting, crowding and the hypervolume indicator.
    .target(name: "MultiObjective", swiftSettings: swiftSettings),
    .target(
      name: "StudyAnalysis",
      dependencies: ["StudyModel", "SearchStrategies", "TrackingBridge", "DidYouMean", "Significance", "NumberText"],
      swiftSettings: swiftSettings
    ),
    .target(
      name: "TrialScheduler",
      dependencies: [
        "StudyModel",
        "SearchStrategies",
        "TrackingBridge",
        "DidYouMean",
        "Significance",
        "NumberText",
        "MultiObjective",
        "CProcessSpawn",
        .product(name: "Yams", package: "Yams"),
        .product(name: "Logging", package: "swift-log"),
        // NIOThreadPool: the threads blocking system calls run on (BlockingWork).
        .product(name: "NIOPosix", package: "swift-nio"),
      ],
      swiftSettings: swiftSettings
    ),
    // The JSON shapes of hpod's HTTP API and its event streams, for the server and the client.
    .target(
      name: "HPODAPI",
      dependencies: ["StudyModel", "TrialScheduler", "TrackingBridge", "SearchStrategies", "Significance"],
      swiftSettings: swiftSettings
    ),
    .executableTarget(
      name: "hpod",
      dependencies: [
        "StudyModel",
        "HPODAPI",
        "TrialScheduler",
        "StudyAnalysis",
        "MultiObjective",
        "Significance",
        "NumberText",
        "SearchStrategies",
        "TrackingBridge",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ],
      // The dashboard's stylesheet and script, served at /assets/ (DashboardAssets).
      resources: [.copy("Server/Dashboard/Assets")],
      swiftSettings: swiftSettings
    ),
    // Test doubles of hpod's seams (a recording TrackingSink, a scripted TrialExecutor), for
    // tests of what uses them.
    .target(
      name: "HPODTesting", dependencies: ["StudyModel", "TrackingBridge", "TrialScheduler"],
      swiftSettings: swiftSettings),
    // A real MLflow server for the tests of every module that talks to one.
    .target(
      name: "MLflowTestServer",
      dependencies: ["TrackingBridge"],
      path: "Tests/Support/MLflowTestServer",
      swiftSettings: swiftSettings
    ),
    // A real single-node Slurm cluster for the Slurm executor's tests.
    .target(
      name: "SlurmTestCluster",
      path: "Tests/Support/SlurmTestCluster",
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "SearchStrategiesTests",
      dependencies: ["StudyModel", "SearchStrategies"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "MultiObjectiveTests",
      dependencies: ["MultiObjective"],
      swiftSettings: swiftSettings
    ),
    .testTarget(name: "NumberTextTests", dependencies: ["NumberText"], swiftSettings: swiftSettings),
    .testTarget(
      name: "SignificanceTests",
      dependencies: ["Significance"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "TrackingBridgeTests",
      dependencies: [
        "StudyModel",
        "TrackingBridge", "MLflowTestServer",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "HPODAPITests",
      dependencies: ["StudyModel", "HPODAPI", "TrialScheduler", "TrackingBridge"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "StudyAnalysisTests",
      dependencies: ["StudyModel", "StudyAnalysis", "SearchStrategies", "TrackingBridge"],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "SchedulerTests",
      dependencies: [
        "StudyModel",
        "TrialScheduler", "SearchStrategies", "TrackingBridge", "MultiObjective", "MLflowTestServer",
        "SlurmTestCluster", "HPODTesting",
      ],
      swiftSettings: swiftSettings
    ),
    .testTarget(
      name: "hpodTests",
      dependencies: [
        "StudyModel",
        "hpod", "HPODAPI", "TrialScheduler", "StudyAnalysis", "Significance", "TrackingBridge", "SearchStrategies",
        "SlurmTestCluster",
        "MLflowTestServer",
        .product(name: "Yams", package: "Yams"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdTesting", package: "hummingbird"),
      ],
      swiftSettings: swiftSettings
    ),
  ]
)
