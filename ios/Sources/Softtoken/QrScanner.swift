// Portable part of QR scanning on iOS: built and tested by `swift test` on Linux (tests/swift/run.sh).
import Foundation

/// Turns camera frames into QR texts. Drops a frame that arrives while another is being scanned
/// (the camera sends 30 a second; the core spends at most ~25 ms on one), calls the core's
/// `scanLuma` on the Y plane, and reports each text once until `reset()`.
public final class QrFrameScanner: @unchecked Sendable {
    private let lock = NSLock()
    private var busy = false
    private var seen = Set<String>()
    private let onCode: @Sendable (String) -> Void

    /// `onCode` is called once per new text, on the scanning thread.
    public init(onCode: @escaping @Sendable (String) -> Void) {
        self.onCode = onCode
    }

    /// Scans one luma plane (rows `bytesPerRow` apart): the new texts found, or nil when the frame
    /// was dropped because another one is being scanned. Throws `SofttokenError` for a malformed plane.
    public func scan(width: Int, height: Int, bytesPerRow: Int, luma: Data) throws -> [String]? {
        let claimed: Bool = lock.withLock {
            if busy { return false }
            busy = true
            return true
        }
        guard claimed else { return nil }
        defer { lock.withLock { busy = false } }
        let codes = try scanLuma(width: UInt32(width), height: UInt32(height), stride: UInt32(bytesPerRow), bytes: luma)
        let fresh: [String] = lock.withLock { codes.map(\.text).filter { seen.insert($0).inserted } }
        fresh.forEach(onCode)
        return fresh
    }

    /// Forgets what was reported, so the same code is reported again (a new scanning session).
    public func reset() {
        lock.withLock { seen.removeAll() }
    }
}

/// The longest side, in pixels, a picked image is decoded at for scanning (larger ones are scaled
/// down by the platform's decoder, so a huge picture never allocates more than about this squared).
public let maxScanSide = 2048

/// The largest picked file read for scanning, in bytes: a screenshot or photo is far smaller.
public let maxPickedImageBytes = 32 * 1024 * 1024
