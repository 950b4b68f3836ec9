// Android-only (compiled in an Android build; on these machines only compile-checked against the
// stubs in src/androidStubs).
package org.softtoken.android

import androidx.biometric.BiometricPrompt
import androidx.core.content.ContextCompat
import androidx.fragment.app.FragmentActivity
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import javax.crypto.Cipher
import org.softtoken.KeyStoreException

/**
 * [CipherAuthenticator] over BiometricPrompt: shows the prompt on [activity]'s main thread with a
 * CryptoObject holding the cipher, and blocks the calling thread (the Rust core's background
 * thread, where `unlockBiometric` and `setBiometric` run) until the user answers. Dismissing the
 * prompt — Cancel, back, the negative button, the app going away — is [KeyStoreException.Cancelled].
 */
class BiometricPromptAuthenticator(
    private val activity: FragmentActivity,
    private val title: String,
    private val negativeButton: String,
    private val timeoutSeconds: Long = 120,
) : CipherAuthenticator {
    override fun authenticate(cipher: Cipher, reason: AuthenticationReason): Cipher {
        val done = CountDownLatch(1)
        var result: Cipher? = null
        var error: String? = null
        val callback = object : BiometricPrompt.AuthenticationCallback() {
            override fun onAuthenticationSucceeded(r: BiometricPrompt.AuthenticationResult) {
                result = r.cryptoObject?.cipher
                done.countDown()
            }
            override fun onAuthenticationError(errorCode: Int, errString: CharSequence) {
                error = if (errorCode in CANCELLED) null else errString.toString()
                done.countDown()
            }
            // onAuthenticationFailed: a finger not recognised; the prompt stays up for another try.
        }
        val info = BiometricPrompt.PromptInfo.Builder()
            .setTitle(title)
            .setNegativeButtonText(negativeButton)
            .setAllowedAuthenticators(BiometricPrompt.Authenticators.BIOMETRIC_STRONG)
            .build()
        val executor = ContextCompat.getMainExecutor(activity)
        executor.execute { BiometricPrompt(activity, executor, callback).authenticate(info, BiometricPrompt.CryptoObject(cipher)) }
        if (!done.await(timeoutSeconds, TimeUnit.SECONDS)) throw KeyStoreException.Cancelled()
        error?.let { throw KeyStoreException.Failed("biometric prompt: $it") }
        return result ?: throw KeyStoreException.Cancelled()
    }

    private companion object {
        val CANCELLED = setOf(
            BiometricPrompt.ERROR_USER_CANCELED,
            BiometricPrompt.ERROR_NEGATIVE_BUTTON,
            BiometricPrompt.ERROR_CANCELED,
            BiometricPrompt.ERROR_TIMEOUT,
        )
    }
}
