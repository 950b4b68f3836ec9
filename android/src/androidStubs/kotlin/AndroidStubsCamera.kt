@file:Suppress("unused")

// Minimal stand-ins for the CameraX classes CameraXQrAnalyzer uses (test-only, never packaged).
package androidx.camera.core

interface ImageProxy : AutoCloseable {
    val width: Int
    val height: Int
    val planes: Array<PlaneProxy>
    override fun close()

    interface PlaneProxy {
        val rowStride: Int
        val pixelStride: Int
        val buffer: java.nio.ByteBuffer
    }
}

class ImageAnalysis private constructor() {
    fun interface Analyzer {
        fun analyze(image: ImageProxy)
    }
}
