// Portable part of QR scanning on Android: compiled and tested on the JVM (tests/kotlin/run.sh).
package org.softtoken.android

import java.nio.ByteBuffer
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicBoolean
import org.softtoken.SofttokenException
import org.softtoken.scanLuma

/** A camera frame's Y (luma) plane as camera APIs hand it out: rows `rowStride` bytes apart, pixels `pixelStride` apart. */
class LumaPlane(val width: Int, val height: Int, val rowStride: Int, val pixelStride: Int, val buffer: ByteBuffer)

/**
 * Turns camera frames into QR texts. Drops a frame that arrives while another is being scanned (the
 * camera sends 30 a second; the core spends at most ~25 ms on one), copies the Y plane (compacting a
 * pixel stride above 1), calls the core's `scanLuma`, and reports each text once until [reset].
 */
class QrFrameScanner(
    private val onCode: (String) -> Unit,
    private val onError: (SofttokenException) -> Unit = {},
) {
    private val busy = AtomicBoolean(false)
    private val seen: MutableSet<String> = ConcurrentHashMap.newKeySet()

    /** Scans one frame: the new texts found, or null when the frame was dropped (another one is in progress). */
    fun scan(plane: LumaPlane): List<String>? {
        if (!busy.compareAndSet(false, true)) return null
        try {
            val (bytes, stride) = copyPlane(plane)
            val texts = scanLuma(plane.width.toUInt(), plane.height.toUInt(), stride.toUInt(), bytes).map { it.text }
            val fresh = texts.filter { seen.add(it) }
            fresh.forEach(onCode)
            return fresh
        } catch (e: SofttokenException) {
            onError(e)
            return emptyList()
        } finally {
            busy.set(false)
        }
    }

    /** Forgets what was reported, so the same code is reported again (a new scanning session). */
    fun reset() = seen.clear()

    private fun copyPlane(plane: LumaPlane): Pair<ByteArray, Int> {
        val buf = plane.buffer.duplicate()
        if (plane.pixelStride == 1) {
            val bytes = ByteArray(buf.remaining())
            buf.get(bytes)
            return bytes to plane.rowStride
        }
        val out = ByteArray(plane.width * plane.height)
        val base = buf.position()
        for (y in 0 until plane.height) {
            val row = base + y * plane.rowStride
            for (x in 0 until plane.width) out[y * plane.width + x] = buf.get(row + x * plane.pixelStride)
        }
        return out to plane.width
    }
}

/**
 * Every QR text in a decoded image, for "scan from a screenshot": [argb] holds [width] × [height]
 * pixels as the platform decoders give them (`Bitmap.getPixels`, `BufferedImage.getRGB`: 0xAARRGGBB,
 * row after row). The pixels become luma (ITU-R BT.601, transparent pixels read as white, the way
 * a screenshot of a QR code on a page is meant) and go to the core's `scanLuma`. Phone builds of
 * the core carry no image codecs, so decoding is the platform's ([scanPickedImage] on Android).
 */
fun scanArgb(argb: IntArray, width: Int, height: Int): List<String> {
    require(width > 0 && height > 0 && argb.size >= width * height) { "the pixels do not fill a $width × $height image" }
    val luma = ByteArray(width * height)
    for (i in luma.indices) {
        val p = argb[i]
        val a = p ushr 24
        val y = (299 * ((p shr 16) and 0xff) + 587 * ((p shr 8) and 0xff) + 114 * (p and 0xff)) / 1000
        luma[i] = (255 - (a * (255 - y)) / 255).toByte()
    }
    return scanLuma(width.toUInt(), height.toUInt(), width.toUInt(), luma).map { it.text }
}

/** All of [input], or null when it holds more than [maxBytes] (never reading more than one byte past). */
fun readCapped(input: java.io.InputStream, maxBytes: Int): ByteArray? {
    val out = java.io.ByteArrayOutputStream()
    val buffer = ByteArray(64 * 1024)
    while (true) {
        val n = input.read(buffer, 0, minOf(buffer.size, maxBytes + 1 - out.size()))
        if (n < 0) return out.toByteArray()
        out.write(buffer, 0, n)
        if (out.size() > maxBytes) return null
    }
}

/** The longest side, in pixels, an image is decoded at for scanning: larger ones are subsampled. */
const val MAX_SCAN_SIDE = 2048

/**
 * The power-of-two subsampling (`BitmapFactory.Options.inSampleSize`) that brings an image of
 * [width] × [height] to at most [maxSide] pixels on its longest side, so a hostile or huge picture
 * never allocates more than about maxSide² pixels. Refuses sizes no picture has.
 */
fun sampleSizeFor(width: Int, height: Int, maxSide: Int = MAX_SCAN_SIDE): Int {
    require(width > 0 && height > 0) { "the image has no size" }
    require(width <= 1 shl 16 && height <= 1 shl 16) { "the image is $width × $height pixels, larger than any photo or screenshot" }
    var sample = 1
    while (maxOf(width, height) / sample > maxSide) sample *= 2
    return sample
}
