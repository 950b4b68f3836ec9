// Runs on Apple platforms only. On Linux it is compiled (Swift 6 mode) against stand-ins generated
// from Apple's published declarations of Security, LocalAuthentication, CryptoKit and UIKit
// (ios/api/apple.txt), so a call the SDK does not declare, a wrong type or a UIKit call off the main
// actor fails the Linux build. How its errors are sorted and what they mean is the portable
// PlatformAuthFailure (KeyStoreOutcomes.swift), tested on Linux; this file only hands them over.
#if canImport(Security) && canImport(CryptoKit) && canImport(LocalAuthentication)
import CryptoKit
import Foundation
import LocalAuthentication
import Security

/// The device key: a P-256 key that never leaves the Secure Enclave and wraps data with ECIES
/// (`eciesEncryptionCofactorVariableIVX963SHA256AESGCM`). On a device or Mac without a Secure
/// Enclave (the simulator, Intel Macs without a T2) the same kind of P-256 key is made in software
/// and kept in the Keychain — still this device only, but not hardware-bound; `kind()` says which.
/// Items are `kSecAttrAccessibleWhenUnlockedThisDeviceOnly`: never in backups, never on another
/// device. Labels of the biometric slot use a second key that requires Face ID / Touch ID of the
/// currently enrolled set (`.biometryCurrentSet`): enrolling another face or finger makes it unusable.
///
/// All items use the data-protection keychain (`kSecUseDataProtectionKeychain`), which Secure Enclave
/// keys require on macOS; a macOS app needs the keychain-access-groups entitlement for it (iOS apps
/// have their default group).
public final class KeychainDeviceKeyStore: DeviceKeyStore, @unchecked Sendable {
    private let service: String
    private let createKeys: Bool
    private let unlockReason: String

    /// `unlockReason` is the line Face ID / Touch ID shows under the app's name (and the
    /// `NSFaceIDUsageDescription` of Info.plist is asked for once by iOS).
    public init(service: String = "org.softtoken.device-key", createKeys: Bool, unlockReason: String = "Unlock your tokens") {
        self.service = service
        self.createKeys = createKeys
        self.unlockReason = unlockReason
    }

    public func kind() throws -> String { SecureEnclave.isAvailable ? "ios-secure-enclave" : "ios-keychain" }

    private func isBiometric(_ label: String) -> Bool { label.hasPrefix("softtoken/v1/biometric/") }

    private func tag(for label: String) -> Data {
        Data((isBiometric(label) ? "\(service).biometric" : service).utf8)
    }

    /// Why biometry cannot protect a key on this device now, or nil when it can.
    public static func biometryUnavailableReason() -> String? {
        PlatformAuthFailure.biometryUnavailableReason(LAContext())
    }

    private func key(for label: String) throws -> SecKey {
        let tag = tag(for: label)
        var query: [String: Any] = [kSecClass as String: kSecClassKey, kSecAttrApplicationTag as String: tag,
                                    kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom, kSecReturnRef as String: true,
                                    kSecUseDataProtectionKeychain as String: true]
        if isBiometric(label) {
            // A fresh context a use, with the reason shown in the Face ID / Touch ID sheet.
            let context = LAContext()
            context.localizedReason = unlockReason
            query[kSecUseAuthenticationContext as String] = context
        }
        var item: CFTypeRef?
        let status = SecItemCopyMatching(query as CFDictionary, &item)
        if status == errSecSuccess, let key = item { return (key as! SecKey) }
        if status != errSecItemNotFound { throw classify(status: status).keyStoreError }
        guard createKeys else { throw KeyStoreError.KeyMissing(detail: "no softtoken key in the Keychain") }
        if isBiometric(label), let why = Self.biometryUnavailableReason() {
            throw PlatformAuthFailure.unavailable("biometric unlock cannot be turned on: \(why)").keyStoreError
        }
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(nil, kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
                                                           isBiometric(label) ? [.privateKeyUsage, .biometryCurrentSet] : [.privateKeyUsage], &error) else {
            throw classify(error?.takeRetainedValue()).keyStoreError
        }
        var attributes: [String: Any] = [kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom, kSecAttrKeySizeInBits as String: 256,
                                         kSecUseDataProtectionKeychain as String: true,
                                         kSecPrivateKeyAttrs as String: [kSecAttrIsPermanent as String: true, kSecAttrApplicationTag as String: tag,
                                                                         kSecAttrAccessControl as String: access]]
        if SecureEnclave.isAvailable { attributes[kSecAttrTokenID as String] = kSecAttrTokenIDSecureEnclave }
        guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &error) else {
            throw classify(error?.takeRetainedValue()).keyStoreError
        }
        return key
    }

    /// Hands a CFError's domain and code to the portable sorting.
    private func classify(_ error: CFError?) -> PlatformAuthFailure {
        guard let error else { return .other("the platform gave no error") }
        return PlatformAuthFailure(domain: CFErrorGetDomain(error) as String, code: CFErrorGetCode(error))
    }

    private func classify(status: OSStatus) -> PlatformAuthFailure { PlatformAuthFailure(status: status) }

    public func seal(label: String, plaintext: Data) throws -> Data {
        let key = try key(for: label)
        guard let pub = SecKeyCopyPublicKey(key) else { throw KeyStoreError.Failed(detail: "no public key") }
        var error: Unmanaged<CFError>?
        let labelled = Data(label.utf8).base64EncodedData() + Data([0]) + plaintext
        guard let sealed = SecKeyCreateEncryptedData(pub, .eciesEncryptionCofactorVariableIVX963SHA256AESGCM, labelled as CFData, &error) else {
            throw classify(error?.takeRetainedValue()).keyStoreError
        }
        return sealed as Data
    }

    public func unseal(label: String, sealed: Data) throws -> Data {
        let key = try key(for: label)
        var error: Unmanaged<CFError>?
        guard let plain = SecKeyCreateDecryptedData(key, .eciesEncryptionCofactorVariableIVX963SHA256AESGCM, sealed as CFData, &error) as Data? else {
            // Face ID dismissed, not recognised or locked out is never "damaged": sorted by domain.
            throw classify(error?.takeRetainedValue()).keyStoreError
        }
        let prefix = Data(label.utf8).base64EncodedData() + Data([0])
        guard plain.starts(with: prefix) else { throw PlatformAuthFailure.damaged.keyStoreError }
        return plain.dropFirst(prefix.count)
    }

    private func recordQuery(_ label: String) -> [String: Any] {
        [kSecClass as String: kSecClassGenericPassword, kSecAttrService as String: "\(service).records", kSecAttrAccount as String: label,
         kSecUseDataProtectionKeychain as String: true]
    }

    public func load(label: String) throws -> Data? {
        var q = recordQuery(label)
        q[kSecReturnData as String] = true
        var item: CFTypeRef?
        switch SecItemCopyMatching(q as CFDictionary, &item) {
        case errSecSuccess: return item as? Data
        case errSecItemNotFound: return nil
        case let s: throw classify(status: s).keyStoreError
        }
    }

    public func store(label: String, bytes: Data) throws {
        let q = recordQuery(label)
        let update: [String: Any] = [kSecValueData as String: bytes]
        var status = SecItemUpdate(q as CFDictionary, update as CFDictionary)
        if status == errSecItemNotFound {
            var add = q
            add[kSecValueData as String] = bytes
            add[kSecAttrAccessible as String] = kSecAttrAccessibleWhenUnlockedThisDeviceOnly
            status = SecItemAdd(add as CFDictionary, nil)
        }
        guard status == errSecSuccess else { throw classify(status: status).keyStoreError }
    }
}
#endif

#if canImport(UIKit)
import UIKit

/// The system pasteboard: codes stay on this device and expire. It never reads the pasteboard
/// (from iOS 16 a read shows the paste alert): whether it still holds the code is judged by its
/// change count. UIKit: main actor only.
@MainActor
public final class SystemPasteboard: SecretPasteboard {
    private var written: (text: String, changeCount: Int)?
    public init() {}
    public func set(_ text: String) {
        UIPasteboard.general.setItems([[UIPasteboard.typeAutomatic: text]],
                                      options: [.localOnly: true, .expirationDate: Date().addingTimeInterval(60)])
        written = (text, UIPasteboard.general.changeCount)
    }
    public func current() -> String? {
        guard let w = written, w.changeCount == UIPasteboard.general.changeCount else { return nil }
        return w.text
    }
    public func clear() {
        UIPasteboard.general.items = []
        written = nil
    }
}

/// Hides the app's content in the app switcher: call from `sceneWillResignActive`.
@MainActor
public func coverForAppSwitcher(_ window: UIWindow?) -> UIView? {
    guard let window else { return nil }
    let cover = UIVisualEffectView(effect: UIBlurEffect(style: .systemMaterial))
    cover.frame = window.bounds
    window.addSubview(cover)
    return cover
}
#endif
