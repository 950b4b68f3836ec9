// AVFoundation glue for QR scanning; runs on Apple platforms only. On Linux it is compiled against
// AVFoundation and CoreVideo stand-ins generated from Apple's published declarations
// (ios/api/apple.txt); the scanning it calls (QrFrameScanner, scanLuma) is tested there.
#if canImport(AVFoundation) && canImport(CoreVideo)
import AVFoundation
import CoreVideo

/// An `AVCaptureVideoDataOutputSampleBufferDelegate` over the core's luma scanner. Configure the
/// output with `kCVPixelFormatType_420YpCbCr8BiPlanarFullRange` (or `…VideoRange`): plane 0 is the
/// luma the scanner reads, with no conversion. Set `alwaysDiscardsLateVideoFrames = true`.
public final class CameraQrScanner: NSObject, AVCaptureVideoDataOutputSampleBufferDelegate {
    /// The frame scanner (dedupe, dropped frames, `onCode`).
    public let scanner: QrFrameScanner

    public init(scanner: QrFrameScanner) {
        self.scanner = scanner
    }

    public func captureOutput(_ output: AVCaptureOutput, didOutput sampleBuffer: CMSampleBuffer, from connection: AVCaptureConnection) {
        guard let pixels = CMSampleBufferGetImageBuffer(sampleBuffer), CVPixelBufferIsPlanar(pixels) else { return }
        CVPixelBufferLockBaseAddress(pixels, .readOnly)
        defer { CVPixelBufferUnlockBaseAddress(pixels, .readOnly) }
        guard let base = CVPixelBufferGetBaseAddressOfPlane(pixels, 0) else { return }
        let width = CVPixelBufferGetWidthOfPlane(pixels, 0)
        let height = CVPixelBufferGetHeightOfPlane(pixels, 0)
        let bytesPerRow = CVPixelBufferGetBytesPerRowOfPlane(pixels, 0)
        let luma = Data(bytes: base, count: bytesPerRow * height)
        _ = try? scanner.scan(width: width, height: height, bytesPerRow: bytesPerRow, luma: luma)
    }
}
#endif
