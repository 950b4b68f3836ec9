// Portable part of the Android shell: compiled and tested on the JVM (tests/kotlin/run.sh).
//
// The API is the generated `org.softtoken.Authenticator` (suspend functions for everything that
// runs Argon2 or the network, `AutoCloseable`, errors as the sealed `SofttokenException`). This
// file adds only what Kotlin's idiom asks for on top: a Flow of codes and a clipboard that clears
// itself.
package org.softtoken.android

import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import org.softtoken.Authenticator
import org.softtoken.CodeInfo
import org.softtoken.SofttokenException

/**
 * The identity's code now, then each new code as its period ends: the Rust-side ticker
 * ([Authenticator.nextCode]) wakes on period edges only, so a screen counts `remainingS` down
 * itself. TOTP and Steam only (HOTP is never advanced by a stream). Reading is not activity, so the
 * vault still locks itself; the flow then ends. Cancelling the collector stops the wait.
 */
fun Authenticator.codes(id: String): Flow<CodeInfo> = flow {
    if (!isUnlocked()) return@flow
    emit(code(id))
    while (true) {
        val next = try {
            nextCode(id)
        } catch (e: SofttokenException.Locked) {
            return@flow
        }
        emit(next)
    }
}

/** The platform clipboard, seen through what the auto-clear needs. */
interface SecretClipboard {
    /** Puts text on the clipboard, marked sensitive where the platform supports it. */
    fun set(text: String)
    /** What the clipboard holds now (null when empty or not text). */
    fun current(): String?
    /** Empties the clipboard. */
    fun clear()
}

/**
 * Copies a code and clears it after [clearAfterMillis] — but only if the clipboard still holds that
 * code, so something the user copied since is never wiped.
 */
suspend fun copyWithAutoClear(clipboard: SecretClipboard, code: String, clearAfterMillis: Long = 30_000) {
    clipboard.set(code)
    delay(clearAfterMillis)
    if (clipboard.current() == code) clipboard.clear()
}
