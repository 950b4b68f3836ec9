package org.softtoken.test

import java.nio.ByteBuffer
import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.concurrent.thread
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import org.softtoken.android.LumaPlane
import org.softtoken.android.QrFrameScanner
import org.softtoken.Authenticator
import org.softtoken.android.codes
import org.softtoken.android.readCapped
import org.softtoken.android.sampleSizeFor
import org.softtoken.android.scanArgb
import org.softtoken.scanImage
import org.softtoken.SofttokenException
import org.softtoken.scanLuma
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** The spec's activation QR as raw luma (fixtures/qr/README.md). */
object SpecQr {
    const val SIDE = 308
    val luma: ByteArray = Files.readAllBytes(Path.of("fixtures/qr/spec-activation-${SIDE}x$SIDE.gray"))
    val png: ByteArray = Files.readAllBytes(Path.of("fixtures/qr/spec-activation.png"))

    /** The luma with each row padded to [stride] bytes (junk in the padding), like a camera plane. */
    fun strided(stride: Int, pixelStride: Int = 1): ByteBuffer {
        val out = ByteArray(stride * SIDE)
        for (y in 0 until SIDE) {
            for (i in 0 until stride) out[y * stride + i] = ((i * 31 + y * 7) and 0xff).toByte()
            for (x in 0 until SIDE) out[y * stride + x * pixelStride] = luma[y * SIDE + x]
        }
        return ByteBuffer.wrap(out)
    }
}

class ScanTest {
    @TempDir lateinit var dir: Path

    @Test fun scanLumaReadsACameraPlaneAndActivates(): Unit = runBlocking {
        val buf = SpecQr.strided(SpecQr.SIDE + 64)
        val codes = scanLuma(SpecQr.SIDE.toUInt(), SpecQr.SIDE.toUInt(), (SpecQr.SIDE + 64).toUInt(), buf.array())
        assertEquals(listOf(SPEC_URI), codes.map { it.text })
        assertTrue(codes[0].decoder in setOf("rxing", "rqrr"))
        Authenticator(dir.resolve("v.stv").toString(), JceDeviceKeyStore()).use { s ->
            s.create("1234", FAST)
            val p = s.beginQrActivation(codes[0].text, "54998317")
            assertEquals("48244-13456", p.serial())
        }
    }

    @Test fun frameScannerCompactsPixelStridesAndReportsEachCodeOnce() {
        val reported = mutableListOf<String>()
        val scanner = QrFrameScanner({ reported += it })
        val plane = LumaPlane(SpecQr.SIDE, SpecQr.SIDE, SpecQr.SIDE * 2, 2, SpecQr.strided(SpecQr.SIDE * 2, pixelStride = 2))
        assertEquals(listOf(SPEC_URI), scanner.scan(plane))
        assertEquals(emptyList(), scanner.scan(plane))
        scanner.reset()
        assertEquals(listOf(SPEC_URI), scanner.scan(plane))
        assertEquals(listOf(SPEC_URI, SPEC_URI), reported)
    }

    @Test fun frameScannerDropsFramesWhileBusy() {
        val entered = CountDownLatch(1)
        val release = CountDownLatch(1)
        val plane = LumaPlane(SpecQr.SIDE, SpecQr.SIDE, SpecQr.SIDE, 1, SpecQr.strided(SpecQr.SIDE))
        lateinit var scanner: QrFrameScanner
        scanner = QrFrameScanner({ entered.countDown(); release.await(5, TimeUnit.SECONDS) })
        val first = thread { scanner.scan(plane) }
        assertTrue(entered.await(5, TimeUnit.SECONDS))
        assertNull(scanner.scan(plane), "a frame arriving while one is scanned is dropped")
        release.countDown()
        first.join()
    }

    /** A picked image as a platform decoder hands it over: the JVM's ImageIO, like Android's BitmapFactory, gives 0xAARRGGBB pixels. */
    private fun decoded(png: ByteArray): Triple<IntArray, Int, Int> {
        val image = javax.imageio.ImageIO.read(java.io.ByteArrayInputStream(png))
        return Triple(image.getRGB(0, 0, image.width, image.height, null, 0, image.width), image.width, image.height)
    }

    @Test fun aPickedImageDecodedByThePlatformIsScannedWithoutCodecsInTheCore() {
        val (argb, w, h) = decoded(SpecQr.png)
        assertEquals(listOf(SPEC_URI), scanArgb(argb, w, h))
        // A screenshot with a transparent background (dark modules on nothing) reads as on white paper.
        val transparent = IntArray(argb.size) { i -> if ((argb[i] and 0xffffff) > 0x808080) 0x00000000 else argb[i] }
        assertEquals(listOf(SPEC_URI), scanArgb(transparent, w, h))
        // Too few pixels for the size is a programming error, said at once.
        kotlin.test.assertFailsWith<IllegalArgumentException> { scanArgb(IntArray(10), w, h) }
    }

    @Test fun hugePicturesAreSubsampledAndImpossibleSizesRefused() {
        assertEquals(1, sampleSizeFor(308, 308))
        assertEquals(2, sampleSizeFor(4032, 3024))  // a phone photo: 2016 × 1512
        assertEquals(8, sampleSizeFor(12_000, 9_000))
        assertTrue(40_000 / sampleSizeFor(40_000, 30_000) <= 2048)
        assertFailsWith<IllegalArgumentException> { sampleSizeFor(0, 100) }
        assertFailsWith<IllegalArgumentException> { sampleSizeFor(100_000, 10) }
        // The file itself is read with a cap: one byte more than the cap is refused, never read whole.
        assertEquals(5, readCapped(java.io.ByteArrayInputStream(ByteArray(5)), 5)!!.size)
        assertNull(readCapped(java.io.ByteArrayInputStream(ByteArray(6)), 5))
        var served = 0L
        val endless = object : java.io.InputStream() {
            override fun read(): Int { served++; return 0 }
            override fun read(b: ByteArray, off: Int, len: Int): Int { served += len; return len }
        }
        assertNull(readCapped(endless, 1_000_000))
        assertTrue(served <= 1_000_001, "read $served bytes of an endless stream")
    }

    @Test fun badFramesAndFilesGiveTypedErrors() {
        val e = assertFailsWith<SofttokenException.InvalidCode> { scanLuma(100u, 100u, 100u, ByteArray(50)) }
        assertEquals("frame", e.field)
        assertFailsWith<SofttokenException.InvalidCode> { scanLuma(100u, 10u, 99u, ByteArray(10_000)) }
        // The host build's own image reader (desktop, CLI) still types its errors.
        assertFailsWith<SofttokenException.Unsupported> { scanImage("not an image".toByteArray()) }
        assertFailsWith<SofttokenException.InvalidCode> { scanImage(SpecQr.png.copyOf(SpecQr.png.size / 2)) }
        val errors = mutableListOf<SofttokenException>()
        val scanner = QrFrameScanner({}, { errors += it })
        assertEquals(emptyList(), scanner.scan(LumaPlane(100, 100, 100, 1, ByteBuffer.wrap(ByteArray(10)))))
        assertEquals(1, errors.size)
        assertEquals(emptyList(), scanLuma(64u, 64u, 64u, ByteArray(64 * 64) { -1 }).map { it.text })
    }
}
