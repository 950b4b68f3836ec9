// Android-only: CameraX glue for QR scanning. Compile-checked against stubs (tests/kotlin/run.sh).
package org.softtoken.android

import androidx.camera.core.ImageAnalysis
import androidx.camera.core.ImageProxy

/**
 * A CameraX `ImageAnalysis.Analyzer` over the core's luma scanner: hands the Y plane of each frame
 * (YUV_420_888, plane 0) to [QrFrameScanner] and always closes the frame so CameraX sends the next.
 * Use with `STRATEGY_KEEP_ONLY_LATEST` and a background executor.
 */
class CameraXQrAnalyzer(private val scanner: QrFrameScanner) : ImageAnalysis.Analyzer {
    override fun analyze(image: ImageProxy) {
        try {
            val y = image.planes[0]
            scanner.scan(LumaPlane(image.width, image.height, y.rowStride, y.pixelStride, y.buffer))
        } finally {
            image.close()
        }
    }
}
