package org.softtoken.test

import java.security.KeyStore
import java.util.concurrent.ConcurrentHashMap
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import org.softtoken.DeviceKeyStore
import org.softtoken.KeyStoreException
import org.softtoken.android.CipherAuthenticator
import org.softtoken.android.CipherSealing
import org.softtoken.android.isBiometricLabel

/**
 * Test double of the Android Keystore store, on a standard JCE KeyStore: an AES-256 key held in a
 * KeyStore entry that this class never hands out, AES-GCM with the label as associated data, and
 * switches to fail the way a platform store does (key deleted, platform error, unexpected crash).
 * With an [authenticator], the biometric slot's label goes through the shipped [CipherSealing]:
 * every use of that key asks the authenticator first, as the Keystore's auth-bound key does.
 */
class JceDeviceKeyStore(authenticator: CipherAuthenticator? = null) : DeviceKeyStore {
    private val sealing = CipherSealing(authenticator)
    private val authenticated = authenticator != null
    private val keyStore: KeyStore = KeyStore.getInstance("PKCS12").apply { load(null, null) }
    private val protection = KeyStore.PasswordProtection(CharArray(0))
    private val records = ConcurrentHashMap<String, ByteArray>()
    @Volatile var failure: String? = null
    @Volatile var crash: Boolean = false
    /** When set, opening with the biometric key fails as a dismissed BiometricPrompt does. */
    @Volatile var cancelBiometric: Boolean = false

    init {
        val key = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
        keyStore.setEntry("device", KeyStore.SecretKeyEntry(key), protection)
    }

    fun deleteKey() = keyStore.deleteEntry("device")

    private fun check() {
        if (crash) throw IllegalStateException("simulated crash inside the key store")
        failure?.let { throw KeyStoreException.Failed(it) }
    }

    private fun key(): SecretKey {
        check()
        return (keyStore.getEntry("device", protection) as? KeyStore.SecretKeyEntry)?.secretKey
            ?: throw KeyStoreException.KeyMissing("the device key was deleted")
    }

    override fun kind(): String = "jce-test"

    override fun seal(label: String, plaintext: ByteArray): ByteArray =
        sealing.seal(key(), label, plaintext, authenticated = authenticated && isBiometricLabel(label))

    override fun unseal(label: String, sealed: ByteArray): ByteArray {
        if (cancelBiometric && isBiometricLabel(label)) throw KeyStoreException.Cancelled()
        return sealing.unseal(key(), label, sealed, authenticated = authenticated && isBiometricLabel(label))
    }

    override fun load(label: String): ByteArray? { check(); return records[label] }

    override fun store(label: String, bytes: ByteArray) { check(); records[label] = bytes }
}
