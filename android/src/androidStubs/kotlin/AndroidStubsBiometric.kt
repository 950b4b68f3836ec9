// Stubs of androidx.biometric / androidx.fragment / androidx.core (see AndroidStubs.kt).
@file:Suppress("unused", "UNUSED_PARAMETER")

package androidx.biometric

class BiometricPrompt(activity: androidx.fragment.app.FragmentActivity, executor: java.util.concurrent.Executor, callback: AuthenticationCallback) {
    fun authenticate(info: PromptInfo, crypto: CryptoObject) {}

    class CryptoObject(val cipher: javax.crypto.Cipher?)

    class AuthenticationResult {
        val cryptoObject: CryptoObject? = null
    }

    abstract class AuthenticationCallback {
        open fun onAuthenticationError(errorCode: Int, errString: CharSequence) {}
        open fun onAuthenticationSucceeded(result: AuthenticationResult) {}
        open fun onAuthenticationFailed() {}
    }

    class PromptInfo private constructor() {
        class Builder {
            fun setTitle(title: CharSequence): Builder = this
            fun setNegativeButtonText(text: CharSequence): Builder = this
            fun setAllowedAuthenticators(authenticators: Int): Builder = this
            fun build(): PromptInfo = PromptInfo()
        }
    }

    object Authenticators {
        const val BIOMETRIC_STRONG = 15
    }

    companion object {
        const val ERROR_CANCELED = 5
        const val ERROR_TIMEOUT = 3
        const val ERROR_USER_CANCELED = 10
        const val ERROR_NEGATIVE_BUTTON = 13
    }
}
