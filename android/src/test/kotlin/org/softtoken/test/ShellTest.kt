package org.softtoken.test

import java.nio.file.Files
import java.nio.file.Path
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicInteger
import javax.crypto.Cipher
import kotlin.concurrent.thread
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import org.softtoken.KeyStoreException
import org.softtoken.android.FileRecords
import org.softtoken.android.ForegroundTracker
import org.softtoken.android.PromptHandle
import org.softtoken.android.PromptOutcome
import org.softtoken.android.WakeUp
import org.softtoken.android.awaitPrompt
import org.softtoken.android.webPushSubscription
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNull
import kotlin.test.assertSame
import kotlin.test.assertTrue

/** The portable parts of the platform adapters: prompts, records, the foreground screen, wake-ups. */
class ShellTest {
    @TempDir lateinit var dir: Path

    private val cipher: Cipher = Cipher.getInstance("AES/GCM/NoPadding")

    @Test fun aPromptNobodyAnswersIsTakenAwayAndReadsAsCancelled() {
        // The hang after a rotation: androidx never calls back; the Rust thread waited 120 s and the prompt stayed.
        val cancelled = CountDownLatch(1)
        val started = System.nanoTime()
        assertFailsWith<KeyStoreException.Cancelled> { awaitPrompt(200) { PromptHandle { cancelled.countDown() } } }
        assertTrue(cancelled.await(1, TimeUnit.SECONDS), "the prompt is cancelled on timeout")
        assertTrue(System.nanoTime() - started < 5_000_000_000)
    }

    @Test fun promptAnswersMapToTheirOwnOutcomesAndOnlyTheFirstCounts() {
        assertSame(cipher, awaitPrompt(5_000) { report -> thread { report(PromptOutcome.Authenticated(cipher)) }; PromptHandle {} })
        assertFailsWith<KeyStoreException.Cancelled> { awaitPrompt(5_000) { it(PromptOutcome.Dismissed); PromptHandle {} } }
        val lockout = assertFailsWith<KeyStoreException.LockedOut> { awaitPrompt(5_000) { it(PromptOutcome.LockedOut("Too many attempts")); PromptHandle {} } }
        assertEquals("Too many attempts", lockout.detail)
        assertFailsWith<KeyStoreException.Failed> { awaitPrompt(5_000) { it(PromptOutcome.Failed("no screen")); PromptHandle {} } }
        // Success without the cipher is no success (the key's one operation was not authorised).
        assertFailsWith<KeyStoreException.Failed> { awaitPrompt(5_000) { it(PromptOutcome.Authenticated(null)); PromptHandle {} } }
        // A late answer after a dismissal changes nothing; nothing is cancelled twice.
        val cancels = AtomicInteger()
        assertFailsWith<KeyStoreException.Cancelled> {
            awaitPrompt(5_000) { report -> report(PromptOutcome.Dismissed); report(PromptOutcome.Authenticated(cipher)); PromptHandle { cancels.incrementAndGet() } }
        }
        assertEquals(0, cancels.get())
    }

    @Test fun recordsSurviveAsWholeFilesAndRefuseHostileSizes() {
        val records = FileRecords(dir.resolve("records").toFile())
        val label = "softtoken/v1/attempts/0123"
        assertNull(records.load(label))
        records.store(label, byteArrayOf(1, 2, 3))
        records.store(label, byteArrayOf(4, 5))
        assertContentEquals(byteArrayOf(4, 5), FileRecords(dir.resolve("records").toFile()).load(label))
        // An interrupted write leaves its temporary file; the record is the last whole one.
        val files = Files.list(dir.resolve("records")).use { s -> s.toList() }
        assertEquals(1, files.size)
        Files.write(Path.of(files.single().toString() + ".new"), byteArrayOf(9))
        assertContentEquals(byteArrayOf(4, 5), records.load(label))
        // A file no record can be (planted, damaged) is refused, not read into memory.
        Files.write(files.single(), ByteArray(70_000))
        assertFailsWith<KeyStoreException.Failed> { records.load(label) }
    }

    @Test fun afterARotationThePromptGoesToTheNewScreenAndNeverToABackgroundedOne() {
        val tracker = ForegroundTracker<String>()
        val before = String(charArrayOf('o', 'l', 'd'))
        val after = String(charArrayOf('n', 'e', 'w'))
        tracker.resumed(before)
        assertSame(before, tracker.current())
        // Rotation: the old activity pauses, the new one resumes, then the old one is destroyed.
        tracker.left(before)
        tracker.resumed(after)
        tracker.left(before)
        assertSame(after, tracker.current())
        // Home button: nothing is in the foreground, so no prompt can be shown.
        tracker.left(after)
        assertNull(tracker.current())
    }

    @Test fun aUnifiedPushEndpointIsAWebPushSubscriptionAndWakeUpsCarryOnlyIds() {
        assertEquals(
            """{"endpoint":"https://ntfy.example/upAbC?x=\"1\"","keys":{"p256dh":"BPk","auth":"c2VjcmV0"}}""",
            webPushSubscription("https://ntfy.example/upAbC?x=\"1\"", "BPk", "c2VjcmV0"),
        )
        val w = WakeUp.parse("""{"transaction_id": "tx-12", "serial": "6114-2021-9330"}""".toByteArray())!!
        assertEquals("tx-12" to "6114-2021-9330", w.transactionId to w.serial)
        assertNull(WakeUp.parse("""{"transaction_id": "tx-12"}""".toByteArray()))
        assertNull(WakeUp.parse("""{"transaction_id": "<script>", "serial": "1"}""".toByteArray()))
        assertNull(WakeUp.parse(ByteArray(5000) { 'a'.code.toByte() }))
    }
}
