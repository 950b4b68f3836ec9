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

/**
 * The identity's TOTP code, re-read every [tickMillis] (for a screen showing a countdown).
 * Reading is not activity, so the vault still locks itself; the flow then ends.
 */
fun Authenticator.codes(id: String, tickMillis: Long = 1000): Flow<CodeInfo> = flow {
    while (isUnlocked()) {
        emit(code(id))
        delay(tickMillis)
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
