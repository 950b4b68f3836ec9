// Portable part of the iOS key store: built and tested by `swift test` on Linux (tests/swift/run.sh).
// KeychainDeviceKeyStore (Apple-only) sorts each Security / LocalAuthentication error into one of
// these by its domain and code; what each means for the vault is decided here, once.
import Foundation

/// Why a Keychain or Secure Enclave operation did not succeed, as the app needs to tell it apart.
public enum PlatformAuthFailure: Equatable, Sendable {
    /// The user dismissed Face ID / Touch ID or the passcode sheet, or the system or app took it
    /// away (`LAError.userCancel`, `.systemCancel`, `.appCancel`, `.userFallback`, `errSecUserCanceled`).
    case cancelled
    /// Not recognised (`LAError.authenticationFailed`, `errSecAuthFailed`): the user may try again.
    case notRecognised
    /// Too many failed tries (`LAError.biometryLockout`): the passcode lifts it; use the PIN meanwhile.
    case lockedOut
    /// Biometry cannot be used (not available, not enrolled, no passcode set), with the reason.
    case unavailable(String)
    /// The device is locked, so the item cannot be read now (`errSecInteractionNotAllowed`).
    case deviceLocked
    /// The key is gone (another device, a restore, biometry changed: `.biometryCurrentSet`).
    case keyMissing(String)
    /// The sealed bytes were not made by this key or were altered (`errSecDecode`, a bad prefix).
    case damaged
    /// Anything else, with what the platform said.
    case other(String)
}

extension PlatformAuthFailure {
    /// The key-store error the Rust core gets: only `damaged` is `Rejected` (a damaged vault); a
    /// dismissal, a miss or a lockout never reads as one.
    public var keyStoreError: KeyStoreError {
        switch self {
        case .cancelled, .notRecognised: return .Cancelled
        case .lockedOut: return .LockedOut(detail: "Face ID or Touch ID is locked after too many tries: use the PIN (the passcode unlocks biometry again)")
        case .unavailable(let why): return .Failed(detail: why)
        case .deviceLocked: return .Failed(detail: "the device is locked: unlock it and try again")
        case .keyMissing(let why): return .KeyMissing(detail: why)
        case .damaged: return .Rejected
        case .other(let what): return .Failed(detail: what)
        }
    }
}
