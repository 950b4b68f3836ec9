// swift-tools-version:5.9
// The iOS shell of softtoken. The UniFFI-generated sources (Sources/Softtoken/Generated/ and
// Sources/softtoken_ffiFFI/) are produced by tests/swift/run.sh (or the iOS build script) and never
// committed.
import PackageDescription

let package = Package(
    name: "Softtoken",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [.library(name: "Softtoken", targets: ["Softtoken"])],
    targets: [
        .systemLibrary(name: "softtoken_ffiFFI", path: "Sources/softtoken_ffiFFI"),
        .target(name: "Softtoken", dependencies: ["softtoken_ffiFFI"], path: "Sources/Softtoken"),
        .testTarget(name: "SofttokenTests", dependencies: ["Softtoken"], path: "Tests/SofttokenTests"),
    ]
)
