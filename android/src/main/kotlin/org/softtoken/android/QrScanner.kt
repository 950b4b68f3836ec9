// Portable part of QR scanning on Android: compiled and tested on the JVM (tests/kotlin/run.sh).
package org.softtoken.android

import java.nio.ByteBuffer
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.atomic.AtomicBoolean
import org.softtoken.SofttokenException
import org.softtoken.scanImage
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

/** Every QR text in a picked image file (PNG, JPEG, WebP, GIF), for "scan from a screenshot". */
fun scanImageFile(bytes: ByteArray): List<String> = scanImage(bytes).map { it.text }
