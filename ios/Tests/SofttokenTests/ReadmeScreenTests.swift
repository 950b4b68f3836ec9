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
    func onDeviceToken(_ deviceToken: Data) async throws {
        _ = try await vault.registerPushToken(token: apnsPushToken(deviceToken: deviceToken))
    }

    /// Face ID / Touch ID once enabled (`setBiometric(pin:enabled: true)`); a dismissal or a lockout asks for the PIN.
    func openWithBiometrics() async {
        do {
            try await vault.unlockBiometric()
        } catch SofttokenError.Cancelled {
            shown.append("Enter your PIN")
        } catch SofttokenError.BiometricLockedOut {
            shown.append("Too many tries: enter your PIN")
        } catch {
            shown.append("\(error)")
        }
    }

    /// From a notification (or the notification service extension): the request, woken one first.
    func onNotification(_ userInfo: [AnyHashable: Any]) async throws -> [TransactionInfo] {
        try await vault.signInRequests(wakeUp: WakeUp(userInfo: userInfo))
    }

    /// Confirm with the number the user typed (when `numberMatch`), Cancel, or Suspicious.
    func answer(_ tx: TransactionInfo, _ response: TransactionResponse, number: String?) async throws {
        let answered = try await vault.respond(identityId: tx.identityId, transactionId: tx.id, response: response, number: number)
        if let code = answered.displayCode { shown.append("Type \(code) into the sign-in page") }
    }

    /// A backup only `password` opens; exporting needs the current PIN.
    func backup(pin: String, password: String) async throws -> Data {
        try await vault.exportBackup(pin: pin, password: password)
    }
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
        try await screen.onDeviceToken(Data(repeating: 0xab, count: 32))
        await screen.open(pin: "0000")
        XCTAssertEqual(screen.shown.last, "Wrong PIN: 9 attempts left before the vault locks for good")
        await screen.open(pin: "2580")
        XCTAssertTrue(screen.vault.isUnlocked())
        let requests = try await screen.onNotification(["transaction_id": "0123", "serial": "1234-5678-9012"])
        XCTAssertTrue(requests.isEmpty, "no provider in this test: nothing pending")
        try await screen.vault.setBiometric(pin: "2580", enabled: true)
        screen.vault.lock()
        store.authenticate = { _ in throw PlatformAuthFailure.lockedOut.keyStoreError }
        await screen.openWithBiometrics()
        XCTAssertEqual(screen.shown.last, "Too many tries: enter your PIN")
        store.authenticate = { _ in throw PlatformAuthFailure.cancelled.keyStoreError }
        await screen.openWithBiometrics()
        XCTAssertEqual(screen.shown.last, "Enter your PIN")
        await screen.open(pin: "2580")
        let backup = try await screen.backup(pin: "2580", password: "a backup password")
        XCTAssertGreaterThan(backup.count, 100)
    }
}
