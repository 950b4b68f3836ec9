// swift-tools-version:5.9
// The iOS shell of softtoken. The UniFFI-generated sources (Sources/Softtoken/Generated/ and
// Sources/softtoken_ffiFFI/) are produced by tests/swift/run.sh (or the iOS build script) and never
// committed.
import PackageDescription

let package = Package(
    name: "Softtoken",
    // iOS 16 / macOS 13: the facade uses `Duration` and `Task.sleep(for:)`.
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [.library(name: "Softtoken", targets: ["Softtoken"])],
    targets: [
        .systemLibrary(name: "softtoken_ffiFFI", path: "Sources/softtoken_ffiFFI"),
        .target(name: "Softtoken", dependencies: ["softtoken_ffiFFI"], path: "Sources/Softtoken"),
        .testTarget(name: "SofttokenTests", dependencies: ["Softtoken"], path: "Tests/SofttokenTests"),
    ]
)
