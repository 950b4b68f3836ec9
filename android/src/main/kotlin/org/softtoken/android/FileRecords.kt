// Portable part of the Android shell: compiled and tested on the JVM (tests/kotlin/run.sh).
package org.softtoken.android

import java.io.File
import java.io.FileOutputStream
import java.io.IOException
import org.softtoken.KeyStoreException

/**
 * The key store's small records (the wrong-PIN counter's generation, sealed by the Rust core before
 * they get here) as files in [dir] — the app's `noBackupFilesDir`, so they never reach a cloud
 * backup. A write goes to a temporary file that is synced and then renamed over the record, so a
 * crash leaves the old record or the new one, never half of one. A record larger than [maxBytes]
 * is refused on reading (a damaged or planted file).
 */
class FileRecords(private val dir: File, private val maxBytes: Int = 64 * 1024) {
    private fun file(label: String): File {
        // Labels hold slashes (`softtoken/v1/…`): the file name is the label's UTF-8 bytes in hex.
        val name = label.toByteArray(Charsets.UTF_8).joinToString("") { "%02x".format(it) }
        return File(dir, "$name.rec")
    }

    /** The record for [label], or null when there is none. */
    fun load(label: String): ByteArray? {
        val f = file(label)
        if (!f.exists()) return null
        if (f.length() > maxBytes) throw KeyStoreException.Failed("the record $label is ${f.length()} bytes, more than a record can be")
        return try {
            f.readBytes()
        } catch (e: IOException) {
            throw KeyStoreException.Failed("could not read the record $label: ${e.message}")
        }
    }

    /** Writes the record for [label] durably. */
    fun store(label: String, bytes: ByteArray) {
        try {
            if (!dir.isDirectory && !dir.mkdirs()) throw IOException("cannot create $dir")
            val target = file(label)
            val temporary = File(dir, target.name + ".new")
            FileOutputStream(temporary).use { out ->
                out.write(bytes)
                out.fd.sync()
            }
            if (!temporary.renameTo(target)) throw IOException("cannot rename over ${target.name}")
        } catch (e: IOException) {
            throw KeyStoreException.Failed("could not write the record $label: ${e.message}")
        }
    }
}
