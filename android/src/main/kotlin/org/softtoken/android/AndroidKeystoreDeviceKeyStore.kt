// Android-only (compiled in an Android build; on these machines compile-checked against the stubs
// generated from the published API signature files, android/api).
package org.softtoken.android

import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import java.security.KeyStore
import javax.crypto.AEADBadTagException
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import org.softtoken.DeviceKeyStore
import org.softtoken.KeyStoreException

/**
 * The device key in the Android Keystore: AES-256-GCM, generated inside the Keystore (StrongBox
 * when the phone has one), never exportable. Labels of the biometric slot use a second key bound to
 * user authentication: each use goes through [authenticator] (BiometricPrompt with a CryptoObject,
 * see [BiometricPromptAuthenticator]); without one, biometric unlock cannot be enabled, and it
 * says why before a biometric key is made on a phone that cannot use it. Small records (the
 * wrong-PIN counter's generation) live in [records], sealed by the Rust core before they get here.
 */
class AndroidKeystoreDeviceKeyStore(
    private val records: FileRecords,
    private val createKeys: Boolean,
    private val authenticator: CipherAuthenticator? = null,
    private val alias: String = "softtoken-device-key",
    private val biometricAlias: String = "softtoken-biometric-key",
) : DeviceKeyStore {
    private val keyStore: KeyStore = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }
    private val sealing = CipherSealing(authenticator)

    override fun kind(): String = "android-keystore"

    private fun key(label: String): SecretKey {
        val biometric = isBiometricLabel(label)
        val name = if (biometric) biometricAlias else alias
        (keyStore.getKey(name, null) as? SecretKey)?.let { return it }
        if (!createKeys) throw KeyStoreException.KeyMissing("no key $name in the Android Keystore")
        if (biometric) {
            val a = authenticator ?: throw KeyStoreException.Failed("biometric unlock needs a CipherAuthenticator (BiometricPromptAuthenticator)")
            a.unavailableReason()?.let { throw KeyStoreException.Failed("biometric unlock cannot be turned on: $it") }
        }
        // StrongBox exists from API 28 (minSdk is 26).
        return generate(name, biometric, strongBox = Build.VERSION.SDK_INT >= 28)
    }

    private fun generate(name: String, biometric: Boolean, strongBox: Boolean): SecretKey {
        val builder = KeyGenParameterSpec.Builder(name, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .setUserAuthenticationRequired(biometric)
            .setInvalidatedByBiometricEnrollment(biometric)
        if (strongBox && Build.VERSION.SDK_INT >= 28) builder.setIsStrongBoxBacked(true)
        return try {
            KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore").run {
                init(builder.build())
                generateKey()
            }
        } catch (e: java.security.ProviderException) {
            // StrongBoxUnavailableException (API 28) is a ProviderException: fall back to the TEE.
            if (!strongBox) throw e
            generate(name, biometric, strongBox = false)
        }
    }

    private inline fun <T> guarded(block: () -> T): T = try {
        block()
    } catch (e: KeyPermanentlyInvalidatedException) {
        throw KeyStoreException.KeyMissing("the key was invalidated (lock screen removed or biometrics changed): restore a backup")
    } catch (e: AEADBadTagException) {
        throw KeyStoreException.Rejected()
    } catch (e: KeyStoreException) {
        throw e
    } catch (e: Exception) {
        throw KeyStoreException.Failed(e.toString())
    }

    override fun seal(label: String, plaintext: ByteArray): ByteArray = guarded {
        sealing.seal(key(label), label, plaintext, authenticated = isBiometricLabel(label))
    }

    override fun unseal(label: String, sealed: ByteArray): ByteArray = guarded {
        sealing.unseal(key(label), label, sealed, authenticated = isBiometricLabel(label))
    }

    override fun load(label: String): ByteArray? = guarded { records.load(label) }

    override fun store(label: String, bytes: ByteArray) = guarded { records.store(label, bytes) }
}
