// Minimal hand-written stubs of the few android.* APIs the Android-only files use, so that
// tests/kotlin/run.sh can compile-check those files on a plain JVM. Test-only: never packaged, never
// run. Signatures follow the Android SDK reference.
@file:Suppress("unused", "UNUSED_PARAMETER")

package android.security.keystore

class KeyGenParameterSpec private constructor() : java.security.spec.AlgorithmParameterSpec {
    class Builder(keystoreAlias: String, purposes: Int) {
        fun setBlockModes(vararg modes: String): Builder = this
        fun setEncryptionPaddings(vararg paddings: String): Builder = this
        fun setKeySize(size: Int): Builder = this
        @android.Since(28) fun setIsStrongBoxBacked(flag: Boolean): Builder = this
        fun setUserAuthenticationRequired(flag: Boolean): Builder = this
        fun setInvalidatedByBiometricEnrollment(flag: Boolean): Builder = this
        fun build(): KeyGenParameterSpec = KeyGenParameterSpec()
    }
}

object KeyProperties {
    const val PURPOSE_ENCRYPT = 1
    const val PURPOSE_DECRYPT = 2
    const val BLOCK_MODE_GCM = "GCM"
    const val ENCRYPTION_PADDING_NONE = "NoPadding"
    const val KEY_ALGORITHM_AES = "AES"
}

class KeyPermanentlyInvalidatedException : java.security.InvalidKeyException()
@android.Since(28) class StrongBoxUnavailableException : java.security.ProviderException()
