import Foundation
import XCTest
@testable import Softtoken

/// The spec's activation QR (fixtures/qr/README.md), read relative to this file: the repository's
/// fixtures/ (tests/swift/run.sh copies them beside the package in the chroot).
enum SpecQr {
    static let side = 308
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../fixtures/qr").standardizedFileURL
    static func luma() throws -> Data { try Data(contentsOf: fixtures.appendingPathComponent("spec-activation-\(side)x\(side).gray")) }
    static func png() throws -> Data { try Data(contentsOf: fixtures.appendingPathComponent("spec-activation.png")) }

    /// The luma with rows padded to `stride` bytes, junk in the padding, like a camera plane.
    static func strided(_ stride: Int) throws -> Data {
        let src = [UInt8](try luma())
        var out = [UInt8](repeating: 0, count: stride * side)
        for y in 0..<side {
            for i in 0..<stride { out[y * stride + i] = UInt8((i * 31 + y * 7) & 0xff) }
            for x in 0..<side { out[y * stride + x] = src[y * side + x] }
        }
        return Data(out)
    }
}

final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.withLock { items.append(s) } }
    var all: [String] { lock.withLock { items } }
}

final class ScanTests: XCTestCase {
    func testScanLumaReadsACameraPlaneAndActivates() async throws {
        let stride = SpecQr.side + 64
        let codes = try scanLuma(width: UInt32(SpecQr.side), height: UInt32(SpecQr.side), stride: UInt32(stride), bytes: try SpecQr.strided(stride))
        XCTAssertEqual(codes.map(\.text), [specURI])
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("softtoken-scan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = Authenticator(path: dir.appendingPathComponent("v.stv").path, keyStore: try InMemoryDeviceKeyStore())
        try await s.create(pin: "1234", settings: fast)
        XCTAssertEqual(try s.beginQrActivation(uri: codes[0].text, password: "54998317").serial(), "48244-13456")
    }

    func testFrameScannerReportsEachCodeOnce() throws {
        let got = Collected()
        let scanner = QrFrameScanner { got.add($0) }
        let plane = try SpecQr.strided(SpecQr.side)
        XCTAssertEqual(try scanner.scan(width: SpecQr.side, height: SpecQr.side, bytesPerRow: SpecQr.side, luma: plane), [specURI])
        XCTAssertEqual(try scanner.scan(width: SpecQr.side, height: SpecQr.side, bytesPerRow: SpecQr.side, luma: plane), [])
        scanner.reset()
        XCTAssertEqual(try scanner.scan(width: SpecQr.side, height: SpecQr.side, bytesPerRow: SpecQr.side, luma: plane), [specURI])
        XCTAssertEqual(got.all, [specURI, specURI])
    }

    func testTheHostBuildsImageReaderReadsAFile() throws {
        // Desktop builds of the core read image files themselves; phone builds do not, and a picked
        // image is decoded by ImageIO (scanPickedImage, Apple-only) and read as luma, as above.
        XCTAssertEqual(try scanImage(bytes: try SpecQr.png()).map(\.text), [specURI])
    }

    func testBadFramesAndFilesAreTyped() async throws {
        let short = await expectError { try scanLuma(width: 100, height: 100, stride: 100, bytes: Data(count: 50)) }
        guard case .InvalidCode(let field, _)? = short else { return XCTFail("\(String(describing: short))") }
        XCTAssertEqual(field, "frame")
        let notImage = await expectError { try scanImage(bytes: Data("not an image".utf8)) }
        guard case .Unsupported? = notImage else { return XCTFail("\(String(describing: notImage))") }
        let png = try SpecQr.png()
        let truncated = await expectError { try scanImage(bytes: png.prefix(png.count / 2)) }
        guard case .InvalidCode(let f, _)? = truncated else { return XCTFail("\(String(describing: truncated))") }
        XCTAssertEqual(f, "image")
        XCTAssertEqual(try scanLuma(width: 64, height: 64, stride: 64, bytes: Data(repeating: 255, count: 64 * 64)).count, 0)
    }
}
