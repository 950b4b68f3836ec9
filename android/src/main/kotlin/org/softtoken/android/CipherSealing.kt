// Portable part of the Android shell: compiled and tested on the JVM (tests/kotlin/run.sh).
package org.softtoken.android

import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import java.util.concurrent.atomic.AtomicReference
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import org.softtoken.KeyStoreException

/** Why the user is asked to authenticate. */
enum class AuthenticationReason {
    /** Turning biometric unlock on: the vault's key is sealed under the biometric key. */
    ENABLE_BIOMETRIC_UNLOCK,
    /** Unlocking the vault with biometrics. */
    UNLOCK,
}

/**
 * Shows the platform's user authentication (BiometricPrompt with a CryptoObject) for a cipher whose
 * key requires it. It is called on the Rust core's background thread, never the main thread: it
 * shows the prompt where the UI needs it and blocks until the user answers. Returns the cipher,
 * authenticated for one operation; throws [KeyStoreException.Cancelled] when the user dismisses
 * the prompt and [KeyStoreException.LockedOut] after too many tries (never `Rejected`: neither is
 * a damaged vault). [awaitPrompt] does the waiting.
 */
fun interface CipherAuthenticator {
    /** Authenticates [cipher] (already initialised with the key and IV) for [reason]. */
    fun authenticate(cipher: Cipher, reason: AuthenticationReason): Cipher

    /**
     * Why user authentication cannot be used on this device now (no sensor, nothing enrolled, a
     * security update needed), in words for the user; null when it can. Asked before a key bound
     * to it is made, so turning biometric unlock on fails with the reason instead of a key error.
     */
    fun unavailableReason(): String? = null
}

/** What a platform authentication prompt answered. */
sealed interface PromptOutcome {
    /** The user authenticated; [cipher] is the one the prompt unlocked (null if it gave none). */
    class Authenticated(val cipher: Cipher?) : PromptOutcome
    /** Dismissed: Cancel, back, the negative button, the system taking the prompt away, a timeout. */
    object Dismissed : PromptOutcome
    /** Too many failed tries: the sensor is locked out for a while or until the device's passcode. */
    class LockedOut(val why: String) : PromptOutcome
    /** The prompt could not be shown or failed otherwise. */
    class Failed(val why: String) : PromptOutcome
}

/** Takes a prompt that is still up away (`BiometricPrompt.cancelAuthentication`). */
fun interface PromptHandle {
    fun cancel()
}

/**
 * Shows a prompt with [show] and blocks the calling thread (never the main thread) until it answers
 * or [timeoutMillis] pass. [show] gets the function to report the answer with and returns a handle
 * that takes the prompt away; on timeout the prompt is taken away (never left on screen with
 * nobody waiting) and the answer is [KeyStoreException.Cancelled]. Only the first answer counts.
 * A lockout is [KeyStoreException.LockedOut], a dismissal [KeyStoreException.Cancelled]: neither is
 * ever `Rejected`, which would read as a damaged vault.
 */
fun awaitPrompt(timeoutMillis: Long, show: (report: (PromptOutcome) -> Unit) -> PromptHandle): Cipher {
    val done = CountDownLatch(1)
    val answer = AtomicReference<PromptOutcome?>(null)
    val handle = show { outcome -> if (answer.compareAndSet(null, outcome)) done.countDown() }
    if (!done.await(timeoutMillis, TimeUnit.MILLISECONDS) && answer.compareAndSet(null, PromptOutcome.Dismissed)) {
        handle.cancel()
    }
    return when (val outcome = answer.get()) {
        is PromptOutcome.Authenticated -> outcome.cipher ?: throw KeyStoreException.Failed("the prompt reported success without the authenticated cipher")
        is PromptOutcome.LockedOut -> throw KeyStoreException.LockedOut(outcome.why)
        is PromptOutcome.Failed -> throw KeyStoreException.Failed(outcome.why)
        PromptOutcome.Dismissed, null -> throw KeyStoreException.Cancelled()
    }
}

/**
 * AES-256-GCM sealing as the device key stores do it: a 12-byte IV, then ciphertext and tag, with
 * the label as associated data. For a key bound to user authentication the initialised cipher goes
 * through [authenticator] first, so its one operation is the authenticated one.
 */
class CipherSealing(private val authenticator: CipherAuthenticator?) {
    /** Seals [plaintext] for [label]; [authenticated] keys ask the user first. */
    fun seal(key: SecretKey, label: String, plaintext: ByteArray, authenticated: Boolean): ByteArray {
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, key)
        val ready = if (authenticated) authenticate(cipher, AuthenticationReason.ENABLE_BIOMETRIC_UNLOCK) else cipher
        ready.updateAAD(label.toByteArray())
        return ready.iv + ready.doFinal(plaintext)
    }

    /** Opens what [seal] made; altered bytes are `Rejected`. */
    fun unseal(key: SecretKey, label: String, sealed: ByteArray, authenticated: Boolean): ByteArray {
        if (sealed.size < IV_BYTES + TAG_BYTES) throw KeyStoreException.Rejected()
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BYTES * 8, sealed, 0, IV_BYTES))
        val ready = if (authenticated) authenticate(cipher, AuthenticationReason.UNLOCK) else cipher
        ready.updateAAD(label.toByteArray())
        return try {
            ready.doFinal(sealed, IV_BYTES, sealed.size - IV_BYTES)
        } catch (e: AEADBadTagException) {
            throw KeyStoreException.Rejected()
        }
    }

    private fun authenticate(cipher: Cipher, reason: AuthenticationReason): Cipher {
        val a = authenticator ?: throw KeyStoreException.Failed("this key needs user authentication, and the key store was given no CipherAuthenticator")
        return a.authenticate(cipher, reason)
    }

    private companion object {
        const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val IV_BYTES = 12
        const val TAG_BYTES = 16
    }
}

/** Whether a key-store label is the biometric slot's (sealed under the authentication-bound key). */
fun isBiometricLabel(label: String): Boolean = label.startsWith("softtoken/v1/biometric/")
