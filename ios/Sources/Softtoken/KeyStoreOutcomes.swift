// Portable part of the iOS key store: built and tested by `swift test` on Linux (tests/swift/run.sh),
// where LocalAuthentication and Security are the stand-ins generated from Apple's published
// declarations (ios/api/apple.txt, tests/swift/stubs.py). How a platform error is sorted, by its
// domain and code, and what each outcome means for the vault are decided here, once;
// KeychainDeviceKeyStore (Apple-only) only hands the errors over.
import Foundation
import LocalAuthentication
import Security

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

extension PlatformAuthFailure {
    /// Sorts an error the platform reported by its domain: LocalAuthentication's codes are about the
    /// user and biometry, Security's (OSStatus) about the item; anything else is told as it is.
    public init(domain: String, code: Int) {
        switch domain {
        case LAErrorDomain: self.init(localAuthenticationCode: code)
        case NSOSStatusErrorDomain: self.init(status: OSStatus(truncatingIfNeeded: code))
        default: self = .other("\(domain) error \(code)")
        }
    }

    private init(localAuthenticationCode code: Int) {
        switch LAError.Code(rawValue: code) {
        case .userCancel?, .systemCancel?, .appCancel?, .userFallback?: self = .cancelled
        case .authenticationFailed?: self = .notRecognised
        case .biometryLockout?: self = .lockedOut
        case .biometryNotEnrolled?: self = .unavailable("no face or fingerprint is set up: add one in Settings first")
        case .passcodeNotSet?: self = .unavailable("set a device passcode first: Face ID and Touch ID need one")
        case .biometryNotAvailable?: self = .unavailable("this device cannot use Face ID or Touch ID now")
        default: self = .other("LocalAuthentication error \(code)")
        }
    }

    /// Sorts a Keychain result code.
    public init(status: OSStatus) {
        switch status {
        case errSecUserCanceled: self = .cancelled
        case errSecAuthFailed: self = .notRecognised
        case errSecInteractionNotAllowed: self = .deviceLocked
        case errSecItemNotFound: self = .keyMissing("the key is gone (biometry changed, or a restore to another device)")
        case errSecDecode, errSecVerifyFailed: self = .damaged
        default: self = .other("Keychain error \(status)")
        }
    }

    /// Why biometry cannot protect a key on this device now (from `canEvaluatePolicy`), or nil when
    /// it can: said before a biometric key is made, so the user learns what to change.
    public static func biometryUnavailableReason(_ context: LAContext) -> String? {
        var error: NSError?
        guard !context.canEvaluatePolicy(.deviceOwnerAuthenticationWithBiometrics, error: &error) else { return nil }
        switch error.map({ PlatformAuthFailure(domain: $0.domain, code: $0.code) }) {
        case .unavailable(let why)?: return why
        case .lockedOut?: return "Face ID or Touch ID is locked after too many tries: unlock with the passcode first"
        default: return "this device cannot use Face ID or Touch ID now"
        }
    }
}
