// Apple platforms only: decoding a picked image with ImageIO and CoreGraphics (phone builds of the
// core have no image codecs). Not compiled on Linux — Apple's current pages and Xcode 16's SDK declare
// CGContext's bitmap initializer differently (CGBitmapInfo vs UInt32), so no stand-in fits both; the
// scanning it calls (scanLuma) is tested there.
#if canImport(ImageIO) && canImport(CoreGraphics)
import CoreGraphics
import Foundation
import ImageIO

/// Every QR text in a picked image (a screenshot of the activation e-mail, say): ImageIO decodes it
/// (any format the OS reads: PNG, JPEG, HEIC, …) scaled to at most `maxScanSide` pixels a side and
/// turned upright, it is drawn on white into an 8-bit grey context (transparency reads as paper),
/// and the core's `scanLuma` reads it. Call it off the main thread.
public func scanPickedImage(_ data: Data) throws -> [String] {
    guard data.count <= maxPickedImageBytes else {
        throw SofttokenError.InvalidCode(field: "image", reason: "the picked file is larger than \(maxPickedImageBytes / (1024 * 1024)) MB")
    }
    let options = [kCGImageSourceCreateThumbnailFromImageAlways: true, kCGImageSourceCreateThumbnailWithTransform: true,
                   kCGImageSourceThumbnailMaxPixelSize: maxScanSide, kCGImageSourceShouldCache: false] as CFDictionary
    guard let source = CGImageSourceCreateWithData(data as CFData, nil),
          let image = CGImageSourceCreateThumbnailAtIndex(source, 0, options) else {
        throw SofttokenError.Unsupported(detail: "the picked file is not an image this device can read")
    }
    let width = image.width, height = image.height
    var luma = Data(count: width * height)
    let drawn: Bool = luma.withUnsafeMutableBytes { buffer in
        guard let context = CGContext(data: buffer.baseAddress, width: width, height: height, bitsPerComponent: 8, bytesPerRow: width,
                                      space: CGColorSpaceCreateDeviceGray(), bitmapInfo: CGImageAlphaInfo.none.rawValue) else { return false }
        context.setFillColor(gray: 1, alpha: 1)
        context.fill(CGRect(x: 0, y: 0, width: width, height: height))
        context.draw(image, in: CGRect(x: 0, y: 0, width: width, height: height))
        return true
    }
    guard drawn else { throw SofttokenError.Unsupported(detail: "the picked image could not be drawn") }
    return try scanLuma(width: UInt32(width), height: UInt32(height), stride: UInt32(width), bytes: luma).map(\.text)
}
#endif
