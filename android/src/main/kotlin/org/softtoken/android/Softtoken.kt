// Portable part of the Android shell: compiled and tested on the JVM (tests/kotlin/run.sh).
package org.softtoken.android

import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import uniffi.softtoken_ffi.Authenticator
import uniffi.softtoken_ffi.CodeInfo
import uniffi.softtoken_ffi.DeviceKeyStore
import uniffi.softtoken_ffi.IdentityInfo
import uniffi.softtoken_ffi.ImportResult
import uniffi.softtoken_ffi.ObservedCode
import uniffi.softtoken_ffi.PendingActivation
import uniffi.softtoken_ffi.SofttokenException
import uniffi.softtoken_ffi.OnlineActivationResult
import uniffi.softtoken_ffi.PendingTransactions
import uniffi.softtoken_ffi.PushRegistration
import uniffi.softtoken_ffi.RemovedIdentity
import uniffi.softtoken_ffi.TransactionResponse
import uniffi.softtoken_ffi.TransactionState
import uniffi.softtoken_ffi.TransactionTransport
import uniffi.softtoken_ffi.VaultSettings
import uniffi.softtoken_ffi.defaultVaultSettings

/** Errors a UI acts on: the generated sealed hierarchy (WrongPin, Locked, CorruptData, …). */
typealias SofttokenError = SofttokenException

/**
 * One vault on this device. Thin: every call goes to the Rust core. Close it (or use `use {}`)
 * to lock the vault and free the native object.
 */
class Softtoken(path: String, keyStore: DeviceKeyStore) : AutoCloseable {
    private val inner = Authenticator(path, keyStore)

    /** Whether the vault file exists. */
    val exists: Boolean get() = inner.exists()

    /** Whether the vault is unlocked (after the idle lock). */
    val isUnlocked: Boolean get() = inner.isUnlocked()

    /** Creates the vault (PIN optional, required when a policy demands one) and leaves it unlocked. */
    suspend fun create(pin: String?, settings: VaultSettings = defaultVaultSettings()) = inner.create(pin, settings)

    /** Unlocks with the PIN; throws [SofttokenException.WrongPin], [SofttokenException.Locked], … */
    suspend fun unlock(pin: String?) = inner.unlock(pin)

    /** Unlocks with the biometric slot (the key store prompts); refused while wrong PINs have the vault waiting. */
    suspend fun unlockBiometric() = inner.unlockBiometric()

    /** Whether biometric unlock is enabled. */
    fun hasBiometric(): Boolean = inner.hasBiometric()

    /** Turns biometric unlock on (needs the current [pin], counted like an unlock) or off. */
    suspend fun setBiometric(pin: String?, enabled: Boolean) = inner.setBiometric(pin, enabled)

    /** Locks now. */
    fun lock() = inner.lock()

    /** Whether unlocking needs a PIN. */
    fun hasPin(): Boolean = inner.hasPin()

    /** Seconds of inactivity before the vault locks itself (0: never). */
    fun setAutoLock(seconds: Long) = inner.setAutoLock(seconds.toULong())

    /** All identities (never their seeds). */
    fun identities(): List<IdentityInfo> = inner.identities()

    /** The current TOTP code of an identity (a read: it does not keep the vault unlocked; HOTP is refused). */
    fun code(id: String): CodeInfo = inner.code(id)

    /** The TOTP code at a Unix time. */
    fun codeAt(id: String, unixTime: Long): CodeInfo = inner.codeAt(id, unixTime.toULong())

    /** The next HOTP code: call it only when the user taps "next code" (it advances the counter). */
    fun nextHotp(id: String): CodeInfo = inner.nextHotp(id)

    /**
     * The identity's TOTP code, re-read every [tickMillis] (for a screen showing a countdown).
     * Reading is not activity, so the vault still locks itself; the flow then ends.
     */
    fun codes(id: String, tickMillis: Long = 1000): Flow<CodeInfo> = flow {
        while (inner.isUnlocked()) {
            emit(inner.code(id))
            delay(tickMillis)
        }
    }

    /** Previews an activation from a scanned QR code and its password. */
    fun beginQrActivation(uri: String, password: String, digits: Int? = null): PendingActivation =
        inner.beginQrActivation(uri, password, digits?.toUByte())

    /** Previews an activation from a typed serial number and activation code. */
    fun beginManualActivation(serial: String, activationCode: String, digits: Int? = null): PendingActivation =
        inner.beginManualActivation(serial, activationCode, digits?.toUByte())

    /** Stores a previewed activation. */
    fun commitActivation(pending: PendingActivation, name: String? = null): IdentityInfo = inner.commitActivation(pending, name)

    /** Adds an otpauth:// URI. */
    fun addOtpauth(uri: String, name: String? = null): IdentityInfo = inner.addOtpauth(uri, name)

    /** Moves a token activated in the official app (its registration code, or codes it showed). */
    suspend fun importExisting(
        serial: String,
        activationCode: String,
        policy: String? = null,
        registrationCode: String? = null,
        codes: List<ObservedCode> = emptyList(),
        digits: Int? = null,
        name: String? = null,
    ): IdentityInfo = inner.importExisting(serial, activationCode, policy, registrationCode, codes, digits?.toUByte(), name)

    /** Renames an identity. */
    fun rename(id: String, name: String) = inner.rename(id, name)

    /** Removes an identity; one activated online is unregistered at its provider first. */
    suspend fun remove(id: String): RemovedIdentity = inner.remove(id)

    /** How requests reach providers (e.g. [HttpUrlConnectionTransport], or one over OkHttp). */
    fun setTransport(transport: TransactionTransport) = inner.setTransport(transport)

    /** Activates from an online activation link: no typing; the registration code is sent for the user. */
    suspend fun activateLink(link: String, pushToken: String? = null, name: String? = null): OnlineActivationResult =
        inner.activateLink(link, pushToken, name)

    /** Pending sign-in requests of the identities activated online (call it when a push arrives). */
    suspend fun pendingTransactions(): PendingTransactions = inner.pendingTransactions()

    /** Answers a sign-in request; [number] is the one the website shows, for Confirm only (Cancel and Suspicious need none). */
    suspend fun respond(transactionId: String, response: TransactionResponse, number: Int? = null): TransactionState =
        inner.respond(transactionId, response, number?.let { require(it in 0..255) { "number out of range" }; it.toUByte() })

    /** The 8-digit offline confirmation code for a transaction id shown by a website. */
    fun confirmationCode(identityId: String, transactionId: String): String = inner.confirmationCode(identityId, transactionId)

    /** Registers a new FCM token with every online identity's provider (from onNewToken). */
    suspend fun registerPushToken(token: String): List<PushRegistration> = inner.registerPushToken(token)

    /**
     * Sets, changes or (null) removes the PIN; [currentPin] is the PIN in force (a wrong one counts
     * like a failed unlock). Returns true when biometric unlock was turned off by the change.
     */
    suspend fun changePin(currentPin: String?, newPin: String?): Boolean = inner.changePin(currentPin, newPin)

    /** The explicit, PIN-confirmed export (the PIN is checked like an unlock): an encrypted backup. */
    suspend fun exportBackup(pin: String?, password: String): ByteArray = inner.exportBackup(pin, password)

    /** Stores what an otpauth or otpauth-migration link holds (preview it first with handleLink). */
    fun importLink(link: String): ImportResult = inner.importLink(link)

    /** Imports a softtoken backup. */
    suspend fun importBackup(bytes: ByteArray, password: String): ImportResult = inner.importBackup(bytes, password)

    private val closed = java.util.concurrent.atomic.AtomicBoolean(false)

    /** Locks the vault and frees the native object; later calls throw IllegalStateException. */
    override fun close() {
        if (closed.compareAndSet(false, true)) {
            inner.lock()
            inner.close()
        }
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
