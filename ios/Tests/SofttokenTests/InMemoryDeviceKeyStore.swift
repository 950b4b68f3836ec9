// The tests' device key store: not shipped in the package's sources.
import Foundation
import Softtoken

/// A device key store over a software key held by Rust (`SoftwareKey`), for the tests. It can be told to fail like a platform store does.
public final class InMemoryDeviceKeyStore: DeviceKeyStore, @unchecked Sendable {
    private let lock = NSLock()
    private var key: SoftwareKey?
    private var records: [String: Data] = [:]
    /// When set, every call fails with this platform error.
    public var failure: String? {
        get { lock.withLock { _failure } }
        set { lock.withLock { _failure = newValue } }
    }
    private var _failure: String?
    /// When set, opening with the biometric key fails as a dismissed Face ID prompt does.
    public var cancelBiometric: Bool {
        get { lock.withLock { _cancelBiometric } }
        set { lock.withLock { _cancelBiometric = newValue } }
    }
    private var _cancelBiometric = false
    /// The authentication step of the biometric key (Face ID's prompt): asked before every seal and
    /// open with it; throwing `KeyStoreError.Cancelled` is the user dismissing the prompt.
    public var authenticate: ((String) throws -> Void)? {
        get { lock.withLock { _authenticate } }
        set { lock.withLock { _authenticate = newValue } }
    }
    private var _authenticate: ((String) throws -> Void)?

    private func biometricStep(_ label: String, _ purpose: String) throws {
        guard label.hasPrefix("softtoken/v1/biometric/"), let step = authenticate else { return }
        try step(purpose)
    }

    public init() throws { key = try SoftwareKey() }

    /// Deletes the key, as a new phone or a reset would.
    public func deleteKey() { lock.withLock { key = nil } }

    private func currentKey() throws -> SoftwareKey {
        try lock.withLock {
            if let f = _failure { throw KeyStoreError.Failed(detail: f) }
            guard let k = key else { throw KeyStoreError.KeyMissing(detail: "the device key was deleted") }
            return k
        }
    }

    public func kind() throws -> String { "memory" }
    public func seal(label: String, plaintext: Data) throws -> Data {
        try biometricStep(label, "enable")
        return try currentKey().seal(label: label, plaintext: plaintext)
    }
    public func unseal(label: String, sealed: Data) throws -> Data {
        if cancelBiometric && label.hasPrefix("softtoken/v1/biometric/") { throw KeyStoreError.Cancelled }
        try biometricStep(label, "unlock")
        return try currentKey().unseal(label: label, sealed: sealed)
    }
    public func load(label: String) throws -> Data? { _ = try currentKey(); return lock.withLock { records[label] } }
    public func store(label: String, bytes: Data) throws { _ = try currentKey(); lock.withLock { records[label] = bytes } }
}
