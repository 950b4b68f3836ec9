// The minimal screen of ios/README.md, run as a test with the test key store in place of the
// Keychain one (the Keychain needs an Apple device), so the README's code cannot rot.
import Foundation
import XCTest
@testable import Softtoken

/// The README's screen: one vault for the app's lifetime.
final class CodeScreen: @unchecked Sendable {
    let vault: Authenticator
    var shown: [String] = []

    init(directory: URL, keyStore: DeviceKeyStore) {
        vault = Authenticator(path: directory.appendingPathComponent("vault.stv").path, keyStore: keyStore)
        vault.setTransport(transport: URLSessionTransport())
    }

    /// First start: a PIN-protected vault; later starts: unlock with the PIN.
    func open(pin: String, settings: VaultSettings = defaultVaultSettings()) async {
        do {
            if vault.exists() { try await vault.unlock(pin: pin) } else { try await vault.create(pin: pin, settings: settings) }
        } catch SofttokenError.WrongPin(let left) {
            shown.append("Wrong PIN: \(left) attempts left before the vault locks for good")
        } catch {
            shown.append("\(error)")
        }
    }

    /// The first identity's code, and each new one at its period's end, until the vault locks itself.
    func showCodes(limit: Int = .max) async throws {
        guard let id = try vault.identities().first?.id else { return }
        var n = 0
        for try await c in vault.codes(id: id) {
            shown.append("\(c.code) (\(c.remainingS ?? 0) s)")
            n += 1
            if n == limit { break }
        }
    }

    /// From `didRegisterForRemoteNotificationsWithDeviceToken`: kept while locked, sent after the next unlock.
    func onNewToken(_ token: String) async throws { _ = try await vault.registerPushToken(token: token) }
}

final class ReadmeScreenTests: XCTestCase {
    func testTheReadmeScreen() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try InMemoryDeviceKeyStore()
        let fast = VaultSettings(kdfMemoryMib: 19, kdfPasses: 2, kdfLanes: 1, maxAttempts: 10)
        let screen = CodeScreen(directory: dir, keyStore: store)
        await screen.open(pin: "2580", settings: fast)
        _ = try await screen.vault.addOtpauth(uri: "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=1")
        try await screen.showCodes(limit: 2)
        XCTAssertEqual(screen.shown.count, 2)
        screen.vault.lock()
        try await screen.onNewToken("apns:0123456789abcdef")
        await screen.open(pin: "0000")
        XCTAssertEqual(screen.shown.last, "Wrong PIN: 9 attempts left before the vault locks for good")
        await screen.open(pin: "2580")
        XCTAssertTrue(screen.vault.isUnlocked())
    }
}
