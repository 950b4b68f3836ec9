// swift-tools-version:5.9
// The iOS shell of softtoken. The UniFFI-generated sources (Sources/Softtoken/Generated/ and
// Sources/SofttokenFFI/) are produced by scripts/generate-bindings.sh (which tests/swift/run.sh
// calls) and never committed.
import PackageDescription

let package = Package(
    name: "Softtoken",
    // iOS 16 / macOS 13: the facade uses `Duration` and `Task.sleep(for:)`.
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [.library(name: "Softtoken", targets: ["Softtoken"])],
    targets: [
        .systemLibrary(name: "SofttokenFFI", path: "Sources/SofttokenFFI"),
        .target(name: "Softtoken", dependencies: ["SofttokenFFI"], path: "Sources/Softtoken"),
        .testTarget(name: "SofttokenTests", dependencies: ["Softtoken"], path: "Tests/SofttokenTests"),
    ]
)
