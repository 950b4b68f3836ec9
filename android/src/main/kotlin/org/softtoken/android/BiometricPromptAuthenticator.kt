// Android-only (compiled in an Android build; on these machines compile-checked against the stubs
// generated from the published API signature files, android/api).
package org.softtoken.android

import android.content.Context
import androidx.biometric.BiometricManager
import androidx.biometric.BiometricPrompt
import javax.crypto.Cipher
import org.softtoken.KeyStoreException

/**
 * [CipherAuthenticator] over androidx BiometricPrompt with a CryptoObject holding the cipher.
 *
 * The prompt is shown over the activity in the foreground *at the time of the call* ([activities],
 * fed by the app's `Application.ActivityLifecycleCallbacks`), never over one remembered from
 * earlier: after a rotation or a return from the background the old activity has saved its state
 * and androidx would refuse to show the prompt without ever calling back. With no activity of the
 * app in the foreground the call fails at once. The calling thread (the Rust core's background
 * thread, where `unlockBiometric` and `setBiometric` run) waits at most [timeoutMillis]; then the
 * prompt is taken away and the answer is [KeyStoreException.Cancelled].
 *
 * Answers: a dismissal (Cancel, back, the negative button, the system closing it) is `Cancelled`;
 * too many unrecognised tries (`ERROR_LOCKOUT`, `ERROR_LOCKOUT_PERMANENT`) is `LockedOut` — the
 * app asks for the PIN; other errors are `Failed` with the system's text. None is `Rejected`.
 */
class BiometricPromptAuthenticator(
    private val context: Context,
    private val activities: ResumedActivities,
    private val title: String,
    private val negativeButton: String,
    private val timeoutMillis: Long = 60_000,
) : CipherAuthenticator {
    override fun unavailableReason(): String? =
        when (BiometricManager.from(context).canAuthenticate(BiometricManager.Authenticators.BIOMETRIC_STRONG)) {
            BiometricManager.BIOMETRIC_SUCCESS -> null
            BiometricManager.BIOMETRIC_ERROR_NONE_ENROLLED -> "no fingerprint or face is set up on this phone: add one in the system settings first"
            BiometricManager.BIOMETRIC_ERROR_NO_HARDWARE -> "this phone has no biometric sensor strong enough to protect a key (class 3)"
            BiometricManager.BIOMETRIC_ERROR_HW_UNAVAILABLE -> "the biometric sensor is not available right now: try again later"
            BiometricManager.BIOMETRIC_ERROR_SECURITY_UPDATE_REQUIRED -> "the biometric sensor needs a security update first"
            else -> "biometric unlock is not supported on this phone"
        }

    override fun authenticate(cipher: Cipher, reason: AuthenticationReason): Cipher {
        val activity = activities.current()
            ?: throw KeyStoreException.Failed("no screen of the app is in the foreground to show the biometric prompt on")
        val info = BiometricPrompt.PromptInfo.Builder()
            .setTitle(title)
            .setNegativeButtonText(negativeButton)
            .setAllowedAuthenticators(BiometricManager.Authenticators.BIOMETRIC_STRONG)
            .build()
        return awaitPrompt(timeoutMillis) { report ->
            var prompt: BiometricPrompt? = null
            activity.runOnUiThread {
                if (activity.isFinishing || activity.isDestroyed || activity.supportFragmentManager.isStateSaved) {
                    report(PromptOutcome.Failed("the screen went away before the biometric prompt could be shown"))
                } else {
                    prompt = BiometricPrompt(activity, Callback(report)).also { it.authenticate(info, BiometricPrompt.CryptoObject(cipher)) }
                }
            }
            PromptHandle { activity.runOnUiThread { prompt?.cancelAuthentication() } }
        }
    }

    private class Callback(private val report: (PromptOutcome) -> Unit) : BiometricPrompt.AuthenticationCallback() {
        override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
            report(PromptOutcome.Authenticated(result.cryptoObject?.cipher))
        }

        override fun onAuthenticationError(errorCode: Int, errString: CharSequence) {
            report(
                when (errorCode) {
                    BiometricPrompt.ERROR_USER_CANCELED, BiometricPrompt.ERROR_NEGATIVE_BUTTON,
                    BiometricPrompt.ERROR_CANCELED, BiometricPrompt.ERROR_TIMEOUT -> PromptOutcome.Dismissed
                    BiometricPrompt.ERROR_LOCKOUT, BiometricPrompt.ERROR_LOCKOUT_PERMANENT -> PromptOutcome.LockedOut(errString.toString())
                    else -> PromptOutcome.Failed("biometric prompt: $errString")
                },
            )
        }
        // onAuthenticationFailed: a finger or face not recognised; the prompt stays up for another try.
    }
}
