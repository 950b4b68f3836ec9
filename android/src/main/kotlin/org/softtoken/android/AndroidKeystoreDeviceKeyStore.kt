// Android-only (compiled in an Android build; on these machines only compile-checked against the
// stubs in src/androidStubs).
package org.softtoken.android

import android.content.SharedPreferences
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.util.Base64
import java.security.KeyStore
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import org.softtoken.DeviceKeyStore
import org.softtoken.KeyStoreException

/**
 * The device key in the Android Keystore: AES-256-GCM, generated inside the Keystore (StrongBox
 * when the phone has one), never exportable. Labels of the biometric slot use a second key bound to
 * user authentication (the app unlocks it with BiometricPrompt first). Small records (the wrong-PIN
 * counter's generation) live in [records], sealed by the Rust core before they get here.
 */
class AndroidKeystoreDeviceKeyStore(
    private val records: SharedPreferences,
    private val createKeys: Boolean,
    private val alias: String = "softtoken-device-key",
    private val biometricAlias: String = "softtoken-biometric-key",
) : DeviceKeyStore {
    private val keyStore: KeyStore = KeyStore.getInstance("AndroidKeyStore").apply { load(null) }

    override fun kind(): String = "android-keystore"

    private fun key(label: String): SecretKey {
        val biometric = label.startsWith("softtoken/v1/biometric/")
        val name = if (biometric) biometricAlias else alias
        (keyStore.getKey(name, null) as? SecretKey)?.let { return it }
        if (!createKeys) throw KeyStoreException.KeyMissing("no key $name in the Android Keystore")
        return generate(name, biometric, strongBox = true)
    }

    private fun generate(name: String, biometric: Boolean, strongBox: Boolean): SecretKey {
        val spec = KeyGenParameterSpec.Builder(name, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
            .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
            .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
            .setKeySize(256)
            .setIsStrongBoxBacked(strongBox)
            .setUserAuthenticationRequired(biometric)
            .setInvalidatedByBiometricEnrollment(biometric)
            .build()
        return try {
            KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, "AndroidKeyStore").run {
                init(spec)
                generateKey()
            }
        } catch (e: StrongBoxUnavailableException) {
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
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, key(label))
        cipher.updateAAD(label.toByteArray())
        cipher.iv + cipher.doFinal(plaintext)
    }

    override fun unseal(label: String, sealed: ByteArray): ByteArray = guarded {
        if (sealed.size < 12 + 16) throw KeyStoreException.Rejected()
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, key(label), GCMParameterSpec(128, sealed, 0, 12))
        cipher.updateAAD(label.toByteArray())
        cipher.doFinal(sealed, 12, sealed.size - 12)
    }

    override fun load(label: String): ByteArray? = guarded {
        records.getString(label, null)?.let { Base64.decode(it, Base64.NO_WRAP) }
    }

    override fun store(label: String, bytes: ByteArray) = guarded {
        if (!records.edit().putString(label, Base64.encodeToString(bytes, Base64.NO_WRAP)).commit()) {
            throw KeyStoreException.Failed("could not write the record $label")
        }
    }
}
