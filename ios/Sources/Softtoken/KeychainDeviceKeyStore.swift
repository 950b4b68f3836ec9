// Apple platforms only: compiled in an Xcode build, skipped on Linux (no Security framework).
#if canImport(Security) && canImport(CryptoKit)
import CryptoKit
import Foundation
import Security

/// The device key on iOS: a P-256 key in the Secure Enclave (never leaves it) wraps data with
/// ECIES + AES-GCM; without a Secure Enclave (simulator) an AES key lives in the Keychain. Items are
/// `kSecAttrAccessibleWhenUnlockedThisDeviceOnly`: never in backups, never on another device.
/// Labels of the biometric slot use a second key that requires biometry (`.biometryCurrentSet`).
public final class KeychainDeviceKeyStore: DeviceKeyStore, @unchecked Sendable {
    private let service: String
    private let createKeys: Bool

    public init(service: String = "org.softtoken.device-key", createKeys: Bool) {
        self.service = service
        self.createKeys = createKeys
    }

    public func kind() throws -> String { "ios-keychain" }

    private func tag(for label: String) -> Data {
        Data((label.hasPrefix("softtoken/v1/biometric/") ? "\(service).biometric" : service).utf8)
    }

    private func enclaveKey(for label: String) throws -> SecKey {
        let tag = tag(for: label)
        let query: [String: Any] = [kSecClass as String: kSecClassKey, kSecAttrApplicationTag as String: tag,
                                    kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom, kSecReturnRef as String: true]
        var item: CFTypeRef?
        if SecItemCopyMatching(query as CFDictionary, &item) == errSecSuccess, let key = item { return (key as! SecKey) }
        guard createKeys else { throw KeyStoreError.KeyMissing(detail: "no softtoken key in the Keychain") }
        let biometric = label.hasPrefix("softtoken/v1/biometric/")
        var error: Unmanaged<CFError>?
        guard let access = SecAccessControlCreateWithFlags(nil, kSecAttrAccessibleWhenUnlockedThisDeviceOnly,
                                                           biometric ? [.privateKeyUsage, .biometryCurrentSet] : [.privateKeyUsage], &error) else {
            throw KeyStoreError.Failed(detail: "access control: \(String(describing: error))")
        }
        var attributes: [String: Any] = [kSecAttrKeyType as String: kSecAttrKeyTypeECSECPrimeRandom, kSecAttrKeySizeInBits as String: 256,
                                         kSecPrivateKeyAttrs as String: [kSecAttrIsPermanent as String: true, kSecAttrApplicationTag as String: tag,
                                                                         kSecAttrAccessControl as String: access]]
        if SecureEnclave.isAvailable { attributes[kSecAttrTokenID as String] = kSecAttrTokenIDSecureEnclave }
        guard let key = SecKeyCreateRandomKey(attributes as CFDictionary, &error) else {
            throw KeyStoreError.Failed(detail: "key generation: \(String(describing: error))")
        }
        return key
    }

    public func seal(label: String, plaintext: Data) throws -> Data {
        let key = try enclaveKey(for: label)
        guard let pub = SecKeyCopyPublicKey(key) else { throw KeyStoreError.Failed(detail: "no public key") }
        var error: Unmanaged<CFError>?
        let labelled = Data(label.utf8).base64EncodedData() + Data([0]) + plaintext
        guard let sealed = SecKeyCreateEncryptedData(pub, .eciesEncryptionCofactorVariableIVX963SHA256AESGCM, labelled as CFData, &error) else {
            throw KeyStoreError.Failed(detail: "seal: \(String(describing: error))")
        }
        return sealed as Data
    }

    public func unseal(label: String, sealed: Data) throws -> Data {
        let key = try enclaveKey(for: label)
        var error: Unmanaged<CFError>?
        guard let plain = SecKeyCreateDecryptedData(key, .eciesEncryptionCofactorVariableIVX963SHA256AESGCM, sealed as CFData, &error) as Data? else {
            // A dismissed or failed Face ID / Touch ID prompt is not altered data.
            let code = error.map { CFErrorGetCode($0.takeRetainedValue()) } ?? 0
            if code == Int(errSecUserCanceled) || code == Int(errSecAuthFailed) { throw KeyStoreError.Cancelled }
            throw KeyStoreError.Rejected
        }
        let prefix = Data(label.utf8).base64EncodedData() + Data([0])
        guard plain.starts(with: prefix) else { throw KeyStoreError.Rejected }
        return plain.dropFirst(prefix.count)
    }

    private func recordQuery(_ label: String) -> [String: Any] {
        [kSecClass as String: kSecClassGenericPassword, kSecAttrService as String: "\(service).records", kSecAttrAccount as String: label]
    }

    public func load(label: String) throws -> Data? {
        var q = recordQuery(label)
        q[kSecReturnData as String] = true
        var item: CFTypeRef?
        switch SecItemCopyMatching(q as CFDictionary, &item) {
        case errSecSuccess: return item as? Data
        case errSecItemNotFound: return nil
        case let s: throw KeyStoreError.Failed(detail: "Keychain read failed (\(s))")
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
        guard status == errSecSuccess else { throw KeyStoreError.Failed(detail: "Keychain write failed (\(status))") }
    }
}
#endif

#if canImport(UIKit)
import UIKit

/// The system pasteboard: codes stay on this device and expire. It never reads the pasteboard
/// (from iOS 16 a read shows the paste alert): whether it still holds the code is judged by its
/// change count.
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
public func coverForAppSwitcher(_ window: UIWindow?) -> UIView? {
    guard let window else { return nil }
    let cover = UIVisualEffectView(effect: UIBlurEffect(style: .systemMaterial))
    cover.frame = window.bounds
    window.addSubview(cover)
    return cover
}
#endif
