package org.softtoken.test

import java.security.KeyStore
import java.util.concurrent.ConcurrentHashMap
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import org.softtoken.DeviceKeyStore
import org.softtoken.KeyStoreException

/**
 * Test double of the Android Keystore store, on a standard JCE KeyStore: an AES-256 key held in a
 * KeyStore entry that this class never hands out, AES-GCM with the label as associated data, and
 * switches to fail the way a platform store does (key deleted, platform error, unexpected crash).
 */
class JceDeviceKeyStore : DeviceKeyStore {
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

    override fun seal(label: String, plaintext: ByteArray): ByteArray {
        val c = Cipher.getInstance("AES/GCM/NoPadding")
        c.init(Cipher.ENCRYPT_MODE, key())
        c.updateAAD(label.toByteArray())
        return c.iv + c.doFinal(plaintext)
    }

    override fun unseal(label: String, sealed: ByteArray): ByteArray {
        if (cancelBiometric && label.startsWith("softtoken/v1/biometric/")) throw KeyStoreException.Cancelled()
        val k = key()
        if (sealed.size < 28) throw KeyStoreException.Rejected()
        val c = Cipher.getInstance("AES/GCM/NoPadding")
        c.init(Cipher.DECRYPT_MODE, k, GCMParameterSpec(128, sealed, 0, 12))
        c.updateAAD(label.toByteArray())
        return try { c.doFinal(sealed, 12, sealed.size - 12) } catch (e: AEADBadTagException) { throw KeyStoreException.Rejected() }
    }

    override fun load(label: String): ByteArray? { check(); return records[label] }

    override fun store(label: String, bytes: ByteArray) { check(); records[label] = bytes }
}
