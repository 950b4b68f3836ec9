// The portable part of the iOS shell: compiled and tested on Linux (tests/swift/run.sh).
import Foundation

/// One vault on this device. Thin: every call goes to the Rust core; errors are the generated
/// `SofttokenError` enum (wrongPin, locked, corruptData, …).
public final class Softtoken: Sendable {
    private let inner: Authenticator

    /// A vault at `path` sealed by `keyStore` (the file need not exist yet).
    public init(path: String, keyStore: DeviceKeyStore) {
        inner = Authenticator(path: path, keyStore: keyStore)
    }

    /// Whether the vault file exists.
    public var exists: Bool { inner.exists() }
    /// Whether the vault is unlocked (after the idle lock).
    public var isUnlocked: Bool { inner.isUnlocked() }

    /// Creates the vault and leaves it unlocked.
    public func create(pin: String?, settings: VaultSettings = defaultVaultSettings()) async throws {
        try await inner.create(pin: pin, settings: settings)
    }
    /// Unlocks with the PIN.
    public func unlock(pin: String?) async throws { try await inner.unlock(pin: pin) }
    /// Unlocks with the biometric slot (the key store prompts); refused while wrong PINs have the vault waiting.
    public func unlockBiometric() async throws { try await inner.unlockBiometric() }
    /// Whether biometric unlock is enabled.
    public func hasBiometric() throws -> Bool { try inner.hasBiometric() }
    /// Turns biometric unlock on (needs the current PIN, counted like an unlock) or off.
    public func setBiometric(pin: String?, enabled: Bool) async throws { try await inner.setBiometric(pin: pin, enabled: enabled) }
    /// Locks now.
    public func lock() { inner.lock() }
    /// Whether unlocking needs a PIN.
    public func hasPin() throws -> Bool { try inner.hasPin() }
    /// Seconds of inactivity before the vault locks itself (0: never).
    public func setAutoLock(seconds: UInt64) { inner.setAutoLock(seconds: seconds) }
    /// All identities (never their seeds).
    public func identities() throws -> [IdentityInfo] { try inner.identities() }
    /// The current TOTP code of an identity (a read: it does not keep the vault unlocked; HOTP is refused).
    public func code(id: String) throws -> CodeInfo { try inner.code(id: id) }
    /// The TOTP code at a Unix time.
    public func code(id: String, at unixTime: UInt64) throws -> CodeInfo { try inner.codeAt(id: id, unixTime: unixTime) }
    /// The next HOTP code: call it only when the user taps "next code" (it advances the counter).
    public func nextHotp(id: String) throws -> CodeInfo { try inner.nextHotp(id: id) }

    /// The identity's TOTP code, re-read every `tick` (for a screen showing a countdown). Reading is
    /// not activity, so the vault still locks itself; the stream then finishes.
    public func codes(id: String, tick: Duration = .seconds(1)) -> AsyncThrowingStream<CodeInfo, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                while !Task.isCancelled && self.isUnlocked {
                    do { continuation.yield(try self.code(id: id)) } catch { continuation.finish(throwing: error); return }
                    try? await Task.sleep(for: tick)
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// Previews an activation from a scanned QR code and its password.
    public func beginQrActivation(uri: String, password: String, digits: UInt8? = nil) throws -> PendingActivation {
        try inner.beginQrActivation(uri: uri, password: password, digits: digits)
    }
    /// Previews an activation from a typed serial number and activation code.
    public func beginManualActivation(serial: String, activationCode: String, digits: UInt8? = nil) throws -> PendingActivation {
        try inner.beginManualActivation(serial: serial, activationCode: activationCode, digits: digits)
    }
    /// Stores a previewed activation.
    @discardableResult
    public func commitActivation(_ pending: PendingActivation, name: String? = nil) throws -> IdentityInfo {
        try inner.commitActivation(pending: pending, name: name)
    }
    /// Adds an otpauth:// URI.
    @discardableResult
    public func addOtpauth(uri: String, name: String? = nil) throws -> IdentityInfo { try inner.addOtpauth(uri: uri, name: name) }
    /// Moves a token activated in the official app.
    @discardableResult
    public func importExisting(serial: String, activationCode: String, policy: String? = nil, registrationCode: String? = nil,
                               codes: [ObservedCode] = [], digits: UInt8? = nil, name: String? = nil) async throws -> IdentityInfo {
        try await inner.importExisting(serial: serial, activationCode: activationCode, policy: policy, registrationCode: registrationCode,
                                       codes: codes, digits: digits, name: name)
    }
    /// Renames an identity.
    public func rename(id: String, name: String) throws { try inner.rename(id: id, name: name) }
    /// Removes an identity; one activated online is unregistered at its provider first.
    @discardableResult
    public func remove(id: String) async throws -> RemovedIdentity { try await inner.remove(id: id) }
    /// How requests reach providers (`URLSessionTransport`, or the app's own).
    public func setTransport(_ transport: TransactionTransport) { inner.setTransport(transport: transport) }
    /// Activates from an online activation link: no typing; the registration code is sent for the user.
    public func activateLink(_ link: String, pushToken: String? = nil, name: String? = nil) async throws -> OnlineActivationResult {
        try await inner.activateLink(link: link, pushToken: pushToken, name: name)
    }
    /// Pending sign-in requests of the identities activated online (call it when a push arrives).
    public func pendingTransactions() async throws -> PendingTransactions { try await inner.pendingTransactions() }
    /// Answers a sign-in request; `number` is the one the website shows, for Confirm only (Cancel and Suspicious need none).
    public func respond(_ transactionId: String, _ response: TransactionResponse, number: UInt8? = nil) async throws -> TransactionState {
        try await inner.respond(transactionId: transactionId, response: response, number: number)
    }
    /// The 8-digit offline confirmation code for a transaction id shown by a website.
    public func confirmationCode(identityId: String, transactionId: String) throws -> String {
        try inner.confirmationCode(identityId: identityId, transactionId: transactionId)
    }
    /// Registers a new APNs token with every online identity's provider.
    public func registerPushToken(_ token: String) async throws -> [PushRegistration] { try await inner.registerPushToken(token: token) }
    /// Sets, changes or (nil) removes the PIN; `current` is the PIN in force (a wrong one counts like
    /// a failed unlock). Returns true when biometric unlock was turned off by the change.
    @discardableResult
    public func changePin(current: String?, to newPin: String?) async throws -> Bool { try await inner.changePin(currentPin: current, newPin: newPin) }
    /// The explicit, PIN-confirmed export: an encrypted backup.
    public func exportBackup(pin: String?, password: String) async throws -> Data { try await inner.exportBackup(pin: pin, password: password) }
    /// Stores what an otpauth or otpauth-migration link holds (preview it first with `handleLink`).
    public func importLink(_ link: String) throws -> ImportResult { try inner.importLink(link: link) }
    /// Imports a softtoken backup.
    public func importBackup(_ bytes: Data, password: String) async throws -> ImportResult { try await inner.importBackup(bytes: bytes, password: password) }
}

/// The pasteboard, seen through what the auto-clear needs.
public protocol SecretPasteboard: AnyObject {
    /// Puts a code on the pasteboard (local only, expiring where the platform supports it).
    func set(_ text: String)
    /// What it holds now.
    func current() -> String?
    /// Empties it.
    func clear()
}

/// Copies a code and clears it after `after` — only if the pasteboard still holds that code.
public func copyWithAutoClear(_ pasteboard: SecretPasteboard, code: String, after: Duration = .seconds(30)) async {
    pasteboard.set(code)
    try? await Task.sleep(for: after)
    if pasteboard.current() == code { pasteboard.clear() }
}
