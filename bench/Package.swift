// swift-tools-version: 6.0
import PackageDescription

/// The benchmarks' own executables, outside the product's package: the root package builds
/// only hpod, its libraries and their tests; `bench/*/run` builds these (in release) when a
/// benchmark needs them.
let swiftSettings: [SwiftSetting] = [
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
  name: "hpod-bench",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(name: "hpod", path: "..")
  ],
  targets: [
    .executableTarget(
      name: "bench-tracking",
      dependencies: [
        .product(name: "TrackingBridge", package: "hpod"), .product(name: "StudyModel", package: "hpod"),
      ],
      path: "tracking/swift",
      swiftSettings: swiftSettings
    ),
    .executableTarget(
      name: "bench-strategies",
      dependencies: [
        .product(name: "SearchStrategies", package: "hpod"), .product(name: "StudyModel", package: "hpod"),
      ],
      path: "strategies/swift",
      swiftSettings: swiftSettings
    ),
    .executableTarget(
      name: "bench-sklearn",
      dependencies: [
        .product(name: "SearchStrategies", package: "hpod"), .product(name: "StudyModel", package: "hpod"),
      ],
      path: "sklearn_tuning/swift",
      swiftSettings: swiftSettings
    ),
    .executableTarget(
      name: "bench-multi-objective",
      dependencies: [
        .product(name: "SearchStrategies", package: "hpod"),
        .product(name: "MultiObjective", package: "hpod"),
        .product(name: "StudyModel", package: "hpod"),
      ],
      path: "multi_objective/swift",
      swiftSettings: swiftSettings
    ),
    .executableTarget(
      name: "bench-dashboard",
      dependencies: [
        .product(name: "TrialScheduler", package: "hpod"),
        .product(name: "StudyAnalysis", package: "hpod"),
        .product(name: "TrackingBridge", package: "hpod"),
        .product(name: "SearchStrategies", package: "hpod"),
        .product(name: "StudyModel", package: "hpod"),
      ],
      path: "dashboard/swift",
      swiftSettings: swiftSettings
    ),
  ]
)
