// The portable part of the iOS shell: compiled and tested on Linux (tests/swift/run.sh).
//
// The API is the generated `Authenticator` of this module (async for everything that runs Argon2
// or the network; errors are the generated `SofttokenError`). This file adds only what Swift's
// idiom asks for on top: an AsyncThrowingStream of codes and a pasteboard that clears itself.
import Foundation

extension Authenticator {
    /// The identity's code now, then each new code as its period ends: the Rust-side ticker
    /// (`nextCode`) wakes on period edges only, so a screen counts `remainingS` down itself. TOTP
    /// and Steam only (HOTP is never advanced by a stream). Reading is not activity, so the vault
    /// still locks itself; the stream then finishes. UniFFI's Swift futures cannot be cancelled:
    /// a cancelled stream stops at the next edge.
    public func codes(id: String) -> AsyncThrowingStream<CodeInfo, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                guard self.isUnlocked() else { continuation.finish(); return }
                do {
                    continuation.yield(try self.code(id: id))
                    while !Task.isCancelled {
                        continuation.yield(try await self.nextCode(id: id))
                    }
                } catch SofttokenError.Locked {
                } catch {
                    continuation.finish(throwing: error)
                    return
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// The pasteboard, seen through what the auto-clear needs. UIKit's pasteboard is main-actor only,
/// so the protocol is too.
@MainActor
public protocol SecretPasteboard: AnyObject {
    /// Puts a code on the pasteboard (local only, expiring where the platform supports it).
    func set(_ text: String)
    /// What it holds now.
    func current() -> String?
    /// Empties it.
    func clear()
}

/// Copies a code and clears it after `after` — only if the pasteboard still holds that code. The
/// pasteboard also expires the item itself (`SystemPasteboard` sets an expiry), so the code goes
/// even when the app is suspended before the delay ends.
@MainActor
public func copyWithAutoClear(_ pasteboard: SecretPasteboard, code: String, after: Duration = .seconds(30)) async {
    pasteboard.set(code)
    try? await Task.sleep(for: after)
    if pasteboard.current() == code { pasteboard.clear() }
}
