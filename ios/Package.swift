// swift-tools-version:6.0
// The iOS shell of softtoken. The generated sources (Sources/Softtoken/Generated/, and on Linux
// Sources/SofttokenFFI/) and SofttokenFFI.xcframework are produced by scripts/ and never committed:
//   - an app build: scripts/build-xcframework.sh (macOS with Xcode) makes SofttokenFFI.xcframework,
//     the binary target below, and the generated Swift;
//   - the Linux tests: tests/swift/run.sh sets SOFTTOKEN_FFI_SYSTEM_LIBRARY and stages the same
//     header and module map as a system library over the host's libsofttoken_ffi.so.
import Foundation
import PackageDescription

let linuxTests = ProcessInfo.processInfo.environment["SOFTTOKEN_FFI_SYSTEM_LIBRARY"] != nil
let ffi: Target = linuxTests
    ? .systemLibrary(name: "SofttokenFFI", path: "Sources/SofttokenFFI")
    : .binaryTarget(name: "SofttokenFFI", path: "SofttokenFFI.xcframework")
// On Linux only: LocalAuthentication, Security, CryptoKit, UIKit, CoreVideo and AVFoundation as
// generated from Apple's published declarations (ios/api/apple.txt → Stubs/, by tests/swift/stubs.py),
// so the Keychain key store, the error sorting, the pasteboard and the camera glue compile against
// what Apple publishes, in Swift 6 mode.
// An Apple build imports the real frameworks instead.
let appleStandIns = linuxTests ? ["LocalAuthentication", "Security", "CryptoKit", "UIKit", "CoreVideo", "AVFoundation"] : []
let standInImports = ["AVFoundation": ["CoreVideo"]]  // AVFoundation re-exports CoreVideo

let package = Package(
    name: "Softtoken",
    // iOS 16 / macOS 13: the package uses `Duration` and `Task.sleep(for:)`. On macOS the Secure
    // Enclave key needs the data-protection keychain, which needs the app's
    // keychain-access-groups entitlement (ios/README.md).
    platforms: [.iOS(.v16), .macOS(.v13)],
    products: [.library(name: "Softtoken", targets: ["Softtoken"])],
    targets: [ffi] + appleStandIns.map { name in
        .target(name: name, dependencies: (standInImports[name] ?? []).map { .target(name: $0) }, path: "Stubs/\(name)")
    } + [
        .target(name: "Softtoken", dependencies: ["SofttokenFFI"] + appleStandIns.map { .target(name: $0) },
                path: "Sources/Softtoken"),
        .testTarget(name: "SofttokenTests", dependencies: ["Softtoken"], path: "Tests/SofttokenTests"),
    ],
    // Swift 6 language mode: strict concurrency checking is an error, not a warning.
    swiftLanguageModes: [.v6]
)
