// Portable part of the iOS shell: built and tested by `swift test` on Linux (tests/swift/run.sh).
import Foundation

/// The push token to register (`registerPushToken(token:)`, `activateLink(link:pushToken:)`) for
/// APNs wake-ups: `apns:` and the device token from
/// `didRegisterForRemoteNotificationsWithDeviceToken` in hex. Providers holding the app's APNs key
/// send wake-ups to it; one without says so and the app sees requests when it fetches.
public func apnsPushToken(deviceToken: Data) -> String {
    "apns:" + deviceToken.map { String(format: "%02x", $0) }.joined()
}

/// What a wake-up says: which sign-in request, for which token — never who signs in or where. APNs
/// notifications from softtoken providers carry both in their `userInfo`.
public struct WakeUp: Equatable, Sendable {
    public let transactionId: String
    public let serial: String

    /// The wake-up in a notification's `userInfo`, or nil when it is none.
    public init?(userInfo: [AnyHashable: Any]) {
        guard let tx = userInfo["transaction_id"] as? String, let serial = userInfo["serial"] as? String,
              WakeUp.plausible(tx), WakeUp.plausible(serial) else { return nil }
        transactionId = tx
        self.serial = serial
    }

    private static func plausible(_ id: String) -> Bool {
        (1...128).contains(id.count) && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
    }
}

extension Authenticator {
    /// The sign-in requests to show after a wake-up: everything pending at the providers (a wake-up
    /// can be late, duplicated or lost, so the pending list is the truth), the woken one first.
    /// Empty while the vault is locked: the notification can then only say a request waits.
    public func signInRequests(wakeUp: WakeUp?) async throws -> [TransactionInfo] {
        guard isUnlocked() else { return [] }
        let pending = try await pendingTransactions().transactions
        return pending.filter { $0.id == wakeUp?.transactionId } + pending.filter { $0.id != wakeUp?.transactionId }
    }
}
