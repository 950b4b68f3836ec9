// Android-only: decoding a picked image with the platform (phone builds of the core have no codecs).
package org.softtoken.android

import android.graphics.BitmapFactory
import java.io.InputStream
import org.softtoken.SofttokenException

/** The largest picked file read for scanning, in bytes: a screenshot or photo is far smaller. */
const val MAX_PICKED_IMAGE_BYTES = 32 * 1024 * 1024

/**
 * Every QR text in a picked image (a screenshot of the activation e-mail, say): the file is read
 * (at most [MAX_PICKED_IMAGE_BYTES]), the platform's BitmapFactory decodes it (PNG, JPEG, WebP,
 * GIF, HEIF where the phone can) subsampled to at most [MAX_SCAN_SIDE] pixels a side, and
 * [scanArgb] reads it. Pass the picked file's stream, e.g. `contentResolver.openInputStream(uri)!!`;
 * it is closed. Call it off the main thread. A file that is no image is
 * [SofttokenException.Unsupported].
 */
fun scanPickedImage(input: InputStream): List<String> {
    val bytes = input.use { readCapped(it, MAX_PICKED_IMAGE_BYTES) }
        ?: throw SofttokenException.InvalidCode("image", "the picked file is larger than ${MAX_PICKED_IMAGE_BYTES / (1024 * 1024)} MB")
    val bounds = BitmapFactory.Options().apply { inJustDecodeBounds = true }
    BitmapFactory.decodeByteArray(bytes, 0, bytes.size, bounds)
    if (bounds.outWidth <= 0 || bounds.outHeight <= 0) throw SofttokenException.Unsupported("the picked file is not an image this phone can read")
    val options = BitmapFactory.Options().apply { inSampleSize = sampleSizeFor(bounds.outWidth, bounds.outHeight) }
    val bitmap = BitmapFactory.decodeByteArray(bytes, 0, bytes.size, options)
        ?: throw SofttokenException.Unsupported("the picked image could not be decoded")
    try {
        val pixels = IntArray(bitmap.width * bitmap.height)
        bitmap.getPixels(pixels, 0, bitmap.width, 0, 0, bitmap.width, bitmap.height)
        return scanArgb(pixels, bitmap.width, bitmap.height)
    } finally {
        bitmap.recycle()
    }
}
