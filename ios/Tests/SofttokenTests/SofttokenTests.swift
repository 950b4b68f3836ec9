import Foundation
import XCTest
@testable import Softtoken

let specURI = "igmobileotp://?action=secactivate&enc=VRUq6IoLWQRCMRITZEHtHUSWJiPwgu%2FN1BFyUHE5kxuHIEYoE3zmNTrAHeeUM5S3gzCnTy%2F%2Bdnbu%2FsjjQW%2BNEISx8C4ra8rLpxOl8E8w4KXHgjeBRgdvSzl%2BbzX5RYRrQlWgK8hsBT4pQYE0eFgW2TmRbzXu1Mu7XjKDcwsJLew32jQC2qyPLP8hljnv2rHwwsMfhQwgJUJYfctwLWWEDUFukEckaZ4O&v=1&mac=mhVL8BWKaishMa5%2B"
let fast = VaultSettings(kdfMemoryMib: 19, kdfPasses: 2, kdfLanes: 1, maxAttempts: 10)

func luhnValid(_ s: String) -> Bool {
    let d = s.compactMap { $0.wholeNumberValue }
    let sum = d.dropLast().reversed().enumerated().map { i, x in i % 2 == 0 ? (x * 2 > 9 ? x * 2 - 9 : x * 2) : x }.reduce(0, +)
    return (10 - sum % 10) % 10 == d.last
}

/// Runs `body` and returns the SofttokenError it throws (fails the test when it throws nothing).
func expectError<T>(_ body: () async throws -> T, file: StaticString = #filePath, line: UInt = #line) async -> SofttokenError? {
    do {
        _ = try await body()
        XCTFail("no error thrown", file: file, line: line)
    } catch let e as SofttokenError {
        return e
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
    return nil
}

final class SofttokenTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("softtoken-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func vault(_ store: InMemoryDeviceKeyStore, _ name: String = "v.stv") -> Authenticator {
        Authenticator(path: dir.appendingPathComponent(name).path, keyStore: store)
    }

    func testActivationFromTheSpecQrCode() async throws {
        let s = vault(try InMemoryDeviceKeyStore())
        try await s.create(pin: "1234", settings: fast)
        let p = try s.beginQrActivation(uri: specURI, password: "54998317")
        XCTAssertEqual(p.serial(), "48244-13456")
        XCTAssertEqual(p.provider(), "myid.umc.edu")
        XCTAssertEqual(p.policy(), #"{"allowUnsecured":"false","trustedExecution":"NOT_ALLOWED"}"#)
        // Entrust's QR code says neither the code length nor where sign-ins come from.
        XCTAssertFalse(p.digitsKnown())
        XCTAssertNil(p.transactionUrl())
        let id = try await s.commitActivation(pending: p, name: "umc")
        XCTAssertEqual(id.kind, "entrust")
        XCTAssertEqual(try s.identities().map(\.name), ["umc"])
        // The user reads 8 digits in the portal: changed without a new registration code.
        try await s.setDigits(id: id.id, digits: 8)
        XCTAssertEqual(try s.identities().first?.digits, 8)
        XCTAssertEqual(try s.codeAt(id: id.id, unixTime: 1570434609).code.count, 8)
        try await s.setTransactionUrl(id: id.id, url: "https://idp.example.com")
        XCTAssertEqual(try s.identities().first?.online, true)
        try await s.setTransactionUrl(id: id.id)
        XCTAssertEqual(try s.identities().first?.online, false)
    }

    func testRegistrationCodeShapeAndLuhnDigit() async throws {
        let s = vault(try InMemoryDeviceKeyStore())
        try await s.create(pin: nil, settings: fast)
        for _ in 0..<20 {
            let rc = try s.beginManualActivation(serial: "48244-13456", activationCode: "1745-7712-6942-8698").registrationCode()
            XCTAssertNotNil(rc.range(of: #"^\d{5}-\d{5}$"#, options: .regularExpression), rc)
            XCTAssertTrue(luhnValid(rc), rc)
        }
    }

    func testCodesEqualTheRustVectors() async throws {
        let s = vault(try InMemoryDeviceKeyStore())
        try await s.create(pin: nil, settings: fast)
        let six = try await s.importExisting(serial: "48244-13456", activationCode: "1745-7712-6942-8698", registrationCode: "12211-49352")
        XCTAssertEqual(try s.codeAt(id: six.id, unixTime: 1570434609).code, "043700")
        XCTAssertEqual(try s.codeAt(id: six.id, unixTime: 1570351831).code, "814835")
        XCTAssertEqual(try s.codeAt(id: six.id, unixTime: 1570434600).remainingS, 30)
        _ = try await s.remove(id: six.id)
        let eight = try await s.importExisting(serial: "48244-13456", activationCode: "1745-7712-6942-8698", registrationCode: "12211-49352", digits: 8)
        XCTAssertEqual(try s.codeAt(id: eight.id, unixTime: 1570434609).code, "74043700")
        XCTAssertEqual(try s.codeAt(id: eight.id, unixTime: 2000000000).code, "15202852")
    }

    func testMovingATokenFromTwoCodes() async throws {
        let s = vault(try InMemoryDeviceKeyStore())
        try await s.create(pin: nil, settings: fast)
        let id = try await s.importExisting(serial: "48244-13456", activationCode: "1745-7712-6942-8698",
                                            codes: [ObservedCode(code: "043700", unixTime: 1570434609), ObservedCode(code: "814835", unixTime: 1570351831)])
        XCTAssertEqual(try s.codeAt(id: id.id, unixTime: 2000000000).code, "202852")
    }

    func testCreateLockUnlock() async throws {
        let store = try InMemoryDeviceKeyStore()
        let s = vault(store)
        XCTAssertFalse(s.exists())
        try await s.create(pin: "2580", settings: fast)
        _ = try await s.addOtpauth(uri: "otpauth://totp/ACME:me?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=ACME")
        s.lock()
        XCTAssertFalse(s.isUnlocked())
        let locked = await expectError { try s.identities() }
        guard case .Locked(let retry)? = locked else { return XCTFail("\(String(describing: locked))") }
        XCTAssertEqual(retry, 0)
        try await s.unlock(pin: "2580")
        XCTAssertEqual(try s.codeAt(id: try s.identities()[0].id, unixTime: 59).code, "287082")
        let again = vault(store)
        try await again.unlock(pin: "2580")
        XCTAssertEqual(try again.identities().count, 1)
    }

    func testWrongPinIsTypedWithAttemptsLeft() async throws {
        let s = vault(try InMemoryDeviceKeyStore())
        try await s.create(pin: "2580", settings: fast)
        s.lock()
        let e = await expectError { try await s.unlock(pin: "0000") }
        guard case .WrongPin(let left)? = e else { return XCTFail("\(String(describing: e))") }
        XCTAssertEqual(left, 9)
    }

    func testLockoutGivesRetryAfter() async throws {
        let s = vault(try InMemoryDeviceKeyStore())
        try await s.create(pin: "2580", settings: fast)
        s.lock()
        for _ in 0..<5 { _ = await expectError { try await s.unlock(pin: "0000") } }
        let e = await expectError { try await s.unlock(pin: "2580") }
        guard case .Locked(let retry)? = e else { return XCTFail("\(String(describing: e))") }
        XCTAssertTrue((1...30).contains(retry), "\(retry)")
    }

    func testAThrowingKeyStoreIsAPlatformError() async throws {
        let store = try InMemoryDeviceKeyStore()
        let s = vault(store)
        store.failure = "keychain unavailable"
        let e = await expectError { try await s.create(pin: "2580", settings: fast) }
        guard case .Platform(let detail)? = e else { return XCTFail("\(String(describing: e))") }
        XCTAssertTrue(detail.contains("keychain unavailable"), detail)
        store.failure = nil
        try await s.create(pin: "2580", settings: fast)
        XCTAssertTrue(s.isUnlocked())
    }

    func testAMissingDeviceKeyIsKeyUnavailable() async throws {
        let store = try InMemoryDeviceKeyStore()
        try await vault(store).create(pin: nil, settings: fast)
        store.deleteKey()
        let e = await expectError { try await self.vault(store).unlock(pin: nil) }
        guard case .KeyUnavailable? = e else { return XCTFail("\(String(describing: e))") }
    }

    func testBadInputsAreTyped() async throws {
        let s = vault(try InMemoryDeviceKeyStore())
        try await s.create(pin: nil, settings: fast)
        let garbage = await expectError { try s.beginQrActivation(uri: "not a uri", password: "12345678") }
        guard case .InvalidCode(let field, _)? = garbage else { return XCTFail("\(String(describing: garbage))") }
        XCTAssertEqual(field, "uri")
        let wrong = await expectError { try s.beginQrActivation(uri: specURI, password: "54998318") }
        guard case .WrongPassword? = wrong else { return XCTFail("\(String(describing: wrong))") }
        let check = await expectError { try s.beginManualActivation(serial: "48244-13456", activationCode: "1745-7712-6942-8699") }
        guard case .InvalidCode(let f, let reason)? = check else { return XCTFail("\(String(describing: check))") }
        XCTAssertEqual(f, "activation code")
        XCTAssertEqual(reason, "check digit does not match")
    }

    func testCancelledActivationIsNotStored() async throws {
        let s = vault(try InMemoryDeviceKeyStore())
        try await s.create(pin: nil, settings: fast)
        let p = try s.beginManualActivation(serial: "48244-13456", activationCode: "1745-7712-6942-8698")
        p.cancel()
        let e = await expectError { try await s.commitActivation(pending: p) }
        guard case .Unsupported? = e else { return XCTFail("\(String(describing: e))") }
        XCTAssertTrue(try s.identities().isEmpty)
    }

    func testObjectsAreReleasedCleanly() async throws {
        weak var weakStore: InMemoryDeviceKeyStore?
        do {
            let store = try InMemoryDeviceKeyStore()
            weakStore = store
            var s: Authenticator? = vault(store)
            try await s!.create(pin: nil, settings: fast)
            s = nil
        }
        XCTAssertNil(weakStore, "releasing the vault releases the foreign key store too")
    }

    func testAsyncCallsFromSwiftConcurrency() async throws {
        let s = vault(try InMemoryDeviceKeyStore())
        try await s.create(pin: "2580", settings: fast)
        let id = try await s.addOtpauth(uri: "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=1").identity.id
        s.lock()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { try await s.unlock(pin: "2580") } }
            try await group.waitForAll()
        }
        // The ticker emits at period edges (1 s here): three codes in about two seconds.
        var ticks: [CodeInfo] = []
        for try await c in s.codes(id: id) {
            ticks.append(c)
            if ticks.count == 3 { break }
        }
        XCTAssertEqual(ticks.count, 3)
        XCTAssertTrue(ticks.allSatisfy { $0.code.count == 6 && $0.remainingS != nil })
    }

    func testPinConfirmedBackupMovesToAnotherVault() async throws {
        let a = vault(try InMemoryDeviceKeyStore(), "a.stv")
        try await a.create(pin: "2580", settings: fast)
        _ = try await a.addOtpauth(uri: "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP")
        let denied = await expectError { try await a.exportBackup(pin: "1111", password: "backup password") }
        guard case .WrongPin? = denied else { return XCTFail("\(String(describing: denied))") }
        let bytes = try await a.exportBackup(pin: "2580", password: "backup password")
        let b = vault(try InMemoryDeviceKeyStore(), "b.stv")
        try await b.create(pin: nil, settings: fast)
        let wrong = await expectError { try await b.importFile(bytes: bytes, password: "not the password") }
        guard case .WrongPassword? = wrong else { return XCTFail("\(String(describing: wrong))") }
        let r = try await b.importFile(bytes: bytes, password: "backup password")
        XCTAssertEqual(r.imported.count, 1)
        XCTAssertTrue(r.skipped.isEmpty)
    }

    func testAutomaticBackupsFollowEveryChangeAndNeedThePin() async throws {
        let out = dir.appendingPathComponent("backups")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let s = vault(try InMemoryDeviceKeyStore())
        try await s.create(pin: "2580", settings: fast)
        let denied = await expectError { try await s.setAutoBackup(pin: "1111", dir: out.path, keep: 2, password: "backup password") }
        guard case .WrongPin? = denied else { return XCTFail("\(String(describing: denied))") }
        XCTAssertNil(try s.autoBackup())
        _ = try await s.setAutoBackup(pin: "2580", dir: out.path, keep: 2, password: "backup password")
        _ = try await s.addOtpauth(uri: "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP")
        _ = try await s.addOtpauth(uri: "otpauth://totp/b?secret=GEZDGNBVGY3TQOJQ")
        let files = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        XCTAssertEqual(files.count, 2, "the newest two are kept")
        XCTAssertNil(try s.autoBackup()?.lastError)
        let c = vault(try InMemoryDeviceKeyStore(), "c.stv")
        try await c.create(pin: nil, settings: fast)
        let bytes = try Data(contentsOf: out.appendingPathComponent(files.last!))
        let restored = try await c.importFile(bytes: bytes, password: "backup password")
        XCTAssertEqual(restored.imported.count, 2)
        try await s.disableAutoBackup()
        XCTAssertNil(try s.autoBackup())
    }

    func testEncryptedAegisAnd2fasExportsImportWithTheirPassword() async throws {
        let imports = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../fixtures/imports").standardizedFileURL
        let aegis = try Data(contentsOf: imports.appendingPathComponent("aegis-encrypted.json"))
        let twofas = try Data(contentsOf: imports.appendingPathComponent("2fas-encrypted.2fas"))
        let s = vault(try InMemoryDeviceKeyStore())
        try await s.create(pin: nil, settings: fast)
        let needed = await expectError { try await s.previewImport(bytes: aegis, password: nil) }
        guard case .InvalidCode(let field, _)? = needed, field == "password" else { return XCTFail("\(String(describing: needed))") }
        let wrong = await expectError { try await s.importFile(bytes: twofas, password: "not the password") }
        guard case .WrongPassword? = wrong else { return XCTFail("\(String(describing: wrong))") }
        let wrongAegis = await expectError { try await s.importFile(bytes: aegis, password: "not the password") }
        guard case .WrongPassword? = wrongAegis else { return XCTFail("\(String(describing: wrongAegis))") }
        XCTAssertTrue(try s.identities().isEmpty, "a wrong password stores nothing")
        let preview = try await s.previewImport(bytes: twofas, password: "correct horse battery")
        XCTAssertEqual(preview.format, "2fas")
        XCTAssertEqual(preview.tokens.map { $0.kind }, ["totp", "totp", "totp", "totp", "hotp", "hotp", "steam"])
        let r = try await s.importFile(bytes: twofas, password: "correct horse battery")
        XCTAssertEqual(r.imported.count, 7)
        let again = try await s.importFile(bytes: aegis, password: "correct horse battery")
        XCTAssertEqual(again.imported.count, 0)
        XCTAssertEqual(again.skipped.count, 7)
    }

    func testPinChangeBiometricsAndExportNeedTheCurrentPin() async throws {
        // The attack: with an unlocked phone only, set a new PIN and "confirm" the export with it.
        let s = vault(try InMemoryDeviceKeyStore())
        try await s.create(pin: "2580", settings: fast)
        _ = try await s.addOtpauth(uri: "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP")
        let change = await expectError { try await s.changePin(currentPin: "0000", newPin: "1111") }
        guard case .WrongPin? = change else { return XCTFail("\(String(describing: change))") }
        let bio = await expectError { try await s.setBiometric(pin: "0000", enabled: true) }
        guard case .WrongPin? = bio else { return XCTFail("\(String(describing: bio))") }
        let enabled = try s.hasBiometric()
        XCTAssertFalse(enabled)
        let removed = try await s.changePin(currentPin: "2580", newPin: "1111")
        XCTAssertFalse(removed)
        s.lock()
        let old = await expectError { try await s.unlock(pin: "2580") }
        guard case .WrongPin? = old else { return XCTFail("\(String(describing: old))") }
        try await s.unlock(pin: "1111")
    }

    func testADismissedFaceIdPromptIsCancelledNotADamagedVault() async throws {
        let store = try InMemoryDeviceKeyStore()
        let s = vault(store)
        try await s.create(pin: "2580", settings: fast)
        try await s.setBiometric(pin: "2580", enabled: true)
        let enabled = try s.hasBiometric()
        XCTAssertTrue(enabled)
        s.lock()
        store.cancelBiometric = true
        let e = await expectError { try await s.unlockBiometric() }
        guard case .Cancelled? = e else { return XCTFail("\(String(describing: e))") }
        store.cancelBiometric = false
        try await s.unlockBiometric()
        XCTAssertTrue(s.isUnlocked())
    }

    func testBiometricUnlockAuthenticatesEveryUseAndADismissalUnlocksNothing() async throws {
        let store = try InMemoryDeviceKeyStore()
        let asked = NSLock()
        var purposes: [String] = []
        var onMain: [Bool] = []
        var dismiss = true
        store.authenticate = { purpose in
            let cancel = asked.withLock { () -> Bool in
                purposes.append(purpose)
                onMain.append(Thread.isMainThread)
                return dismiss
            }
            if cancel { throw KeyStoreError.Cancelled }
        }
        let s = vault(store)
        try await s.create(pin: "2580", settings: fast)
        let enable = await expectError { try await s.setBiometric(pin: "2580", enabled: true) }
        guard case .Cancelled? = enable else { return XCTFail("\(String(describing: enable))") }
        let enabled = try s.hasBiometric()
        XCTAssertFalse(enabled, "a dismissed prompt enables nothing")
        asked.withLock { dismiss = false }
        try await s.setBiometric(pin: "2580", enabled: true)
        s.lock()
        asked.withLock { dismiss = true }
        let unlock = await expectError { try await s.unlockBiometric() }
        guard case .Cancelled? = unlock else { return XCTFail("\(String(describing: unlock))") }
        XCTAssertFalse(s.isUnlocked())
        asked.withLock { dismiss = false }
        try await s.unlockBiometric()
        XCTAssertTrue(s.isUnlocked())
        XCTAssertEqual(asked.withLock { purposes }, ["enable", "enable", "unlock", "unlock"])
        XCTAssertFalse(asked.withLock { onMain }.contains(true), "the prompt's wait is on a background thread")
        // A dismissal is no wrong PIN: every attempt is still there.
        s.lock()
        let wrong = await expectError { try await s.unlock(pin: "0000") }
        guard case .WrongPin(let left)? = wrong else { return XCTFail("\(String(describing: wrong))") }
        XCTAssertEqual(left, 9)
    }

    func testAFaceIdLockoutIsItsOwnOutcomeAndCostsNoPinAttempt() async throws {
        // Before: every Secure Enclave error but two bare errSec codes read as a damaged vault.
        let store = try InMemoryDeviceKeyStore()
        let s = vault(store)
        try await s.create(pin: "2580", settings: fast)
        try await s.setBiometric(pin: "2580", enabled: true)
        s.lock()
        store.authenticate = { _ in throw PlatformAuthFailure.lockedOut.keyStoreError }
        let e = await expectError { try await s.unlockBiometric() }
        guard case .BiometricLockedOut(let detail)? = e else { return XCTFail("\(String(describing: e))") }
        XCTAssertTrue(detail.contains("use the PIN"), detail)
        XCTAssertFalse(s.isUnlocked())
        let wrong = await expectError { try await s.unlock(pin: "0000") }
        guard case .WrongPin(let left)? = wrong else { return XCTFail("\(String(describing: wrong))") }
        XCTAssertEqual(left, 9)
        try await s.unlock(pin: "2580")
    }

    func testOnlyDamagedBytesReadAsADamagedVault() {
        let cases: [PlatformAuthFailure] = [.cancelled, .notRecognised, .lockedOut, .unavailable("no Face ID"), .deviceLocked,
                                            .keyMissing("gone"), .damaged, .other("?")]
        let rejected = cases.filter { if case .Rejected = $0.keyStoreError { return true } else { return false } }
        XCTAssertEqual(rejected, [.damaged])
        guard case .Cancelled = PlatformAuthFailure.cancelled.keyStoreError, case .Cancelled = PlatformAuthFailure.notRecognised.keyStoreError,
              case .LockedOut = PlatformAuthFailure.lockedOut.keyStoreError, case .KeyMissing = PlatformAuthFailure.keyMissing("x").keyStoreError
        else { return XCTFail("a dismissal, a miss, a lockout or a lost key was mapped wrongly") }
    }


    /// The domains and codes as Apple's headers number them (LAPublicDefines.h, SecBase.h), typed
    /// here by hand: the sorting compiles on Linux against stand-ins generated from ios/api/apple.txt,
    /// so a wrong generated value, or a code sorted without its domain, fails here.
    func testAFaceIdCancelInLocalAuthenticationsDomainIsSortedByDomainNeverADamagedVault() {
        let la = "com.apple.LocalAuthentication", os = "NSOSStatusErrorDomain"
        let expected: [(String, Int, PlatformAuthFailure)] = [
            (la, -1, .notRecognised), (la, -2, .cancelled), (la, -3, .cancelled), (la, -4, .cancelled), (la, -9, .cancelled),
            (la, -8, .lockedOut),
            (os, -128, .cancelled), (os, -25293, .notRecognised), (os, -25308, .deviceLocked), (os, -26275, .damaged), (os, -67808, .damaged),
        ]
        for (domain, code, outcome) in expected {
            XCTAssertEqual(PlatformAuthFailure(domain: domain, code: code), outcome, "\(domain) \(code)")
        }
        for (code, why) in [(-5, "passcode"), (-6, "cannot use"), (-7, "no face or fingerprint")] {
            guard case .unavailable(let said) = PlatformAuthFailure(domain: la, code: code) else { return XCTFail("LocalAuthentication \(code)") }
            XCTAssertTrue(said.contains(why), said)
        }
        guard case .keyMissing = PlatformAuthFailure(domain: os, code: -25300) else { return XCTFail("errSecItemNotFound") }
        // The same number in another domain means something else: a Security cancel is not a
        // LocalAuthentication code, and an unknown domain is told as it is.
        XCTAssertEqual(PlatformAuthFailure(domain: la, code: -128), .other("LocalAuthentication error -128"))
        XCTAssertEqual(PlatformAuthFailure(domain: os, code: -2), .other("Keychain error -2"))
        XCTAssertEqual(PlatformAuthFailure(domain: "CryptoKit", code: -2), .other("CryptoKit error -2"))
        for (domain, code, _) in expected {
            if case .Rejected = PlatformAuthFailure(domain: domain, code: code).keyStoreError, code != -26275, code != -67808 {
                XCTFail("\(domain) \(code) would read as a damaged vault")
            }
        }
    }
    func testACancelledUnlockLeavesTheVaultLocked() async throws {
        let s = vault(try InMemoryDeviceKeyStore())
        try await s.create(pin: "2580", settings: VaultSettings(kdfMemoryMib: 128, kdfPasses: 3, kdfLanes: 1, maxAttempts: 10))
        s.lock()
        // UniFFI 0.32's Swift async cannot cancel the Rust call; locking on cancellation does the
        // same, because a lock wins over an unlock in flight.
        let unlocking = Task { try await withTaskCancellationHandler { try await s.unlock(pin: "2580") } onCancel: { s.lock() } }
        try await Task.sleep(for: .milliseconds(30))
        unlocking.cancel()
        _ = await unlocking.result
        try await Task.sleep(for: .seconds(2))  // the KDF ends meanwhile; its result is dropped
        XCTAssertFalse(s.isUnlocked(), "a cancelled unlock unlocks nothing")
        try await s.unlock(pin: "2580")
        XCTAssertTrue(s.isUnlocked())
    }

    func testTheCodeStreamFinishesWhenTheVaultLocksAndNeverAdvancesHotp() async throws {
        let s = vault(try InMemoryDeviceKeyStore())
        try await s.create(pin: nil, settings: fast)
        let totp = try await s.addOtpauth(uri: "otpauth://totp/t?secret=JBSWY3DPEHPK3PXP").identity.id
        let hotp = try await s.addOtpauth(uri: "otpauth://hotp/h?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0").identity.id
        XCTAssertThrowsError(try s.code(id: hotp))
        let reader = Task { () -> Int in
            var n = 0
            for try await _ in s.codes(id: totp) { n += 1 }
            return n
        }
        try await Task.sleep(for: .milliseconds(100))
        s.lock()
        let seen = try await reader.value
        XCTAssertGreaterThan(seen, 0)
        try await s.unlock(pin: nil)
        let value = try await s.nextHotp(id: hotp).code
        XCTAssertEqual(value, "755224", "nothing advanced the counter before")
    }

    func testDeepLinksArePreviewedThenStored() async throws {
        guard case .activation = try handleLink(link: specURI) else { return XCTFail("not an activation") }
        let link = "otpauth://totp/Shop:me?secret=JBSWY3DPEHPK3PXP&issuer=Shop"
        guard case .token(let issuer, let account, _, _) = try handleLink(link: link) else { return XCTFail("not a token") }
        XCTAssertEqual(issuer, "Shop")
        XCTAssertEqual(account, "me")
        let s = vault(try InMemoryDeviceKeyStore())
        try await s.create(pin: nil, settings: fast)
        XCTAssertTrue(try s.identities().isEmpty)
        let value = try await s.importLink(link: link).imported
        XCTAssertEqual(value, ["Shop: me"])
    }

    @MainActor
    func testPasteboardIsClearedOnlyIfItStillHoldsTheCode() async throws {
        final class Board: SecretPasteboard {
            var text: String?
            func set(_ text: String) { self.text = text }
            func current() -> String? { text }
            func clear() { text = nil }
        }
        let b = Board()
        await copyWithAutoClear(b, code: "123456", after: .milliseconds(5))
        XCTAssertNil(b.text)
        let c = Board()
        async let done: Void = copyWithAutoClear(c, code: "654321", after: .milliseconds(200))
        try await Task.sleep(for: .milliseconds(50))
        XCTAssertEqual(c.text, "654321")
        c.set("something the user copied")
        await done
        XCTAssertEqual(c.text, "something the user copied")
    }
}
