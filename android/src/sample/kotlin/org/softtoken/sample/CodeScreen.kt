// The minimal screen of android/README.md. It is compile-checked by tests/kotlin/run.sh against
// the android.* stubs with the real generated bindings, so the README's code cannot rot; it is not
// part of the library.
package org.softtoken.sample

import androidx.fragment.app.FragmentActivity
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.flow.collect
import kotlinx.coroutines.launch
import org.softtoken.Authenticator
import org.softtoken.SofttokenException
import org.softtoken.TransactionResponse
import org.softtoken.android.AndroidClipboard
import org.softtoken.android.AndroidKeystoreDeviceKeyStore
import org.softtoken.android.BiometricPromptAuthenticator
import org.softtoken.android.HttpUrlConnectionTransport
import org.softtoken.android.codes
import org.softtoken.android.copyWithAutoClear
import org.softtoken.defaultVaultSettings

/** One vault for the app's lifetime: create it on first start, unlock it, show codes, answer pushes. */
class CodeScreen(private val activity: FragmentActivity, private val scope: CoroutineScope, private val show: (String) -> Unit) {
    private val store = AndroidKeystoreDeviceKeyStore(
        records = activity.getSharedPreferences("softtoken-records", 0),
        createKeys = true,
        authenticator = BiometricPromptAuthenticator(activity, title = "Unlock your tokens", negativeButton = "Use PIN"),
    )
    val vault = Authenticator(activity.noBackupFilesDir.resolve("vault.stv").path, store).apply {
        setTransport(HttpUrlConnectionTransport())
    }

    /** First start: a PIN-protected vault; later starts: unlock with the PIN. */
    fun open(pin: String) = scope.launch {
        try {
            if (vault.exists()) vault.unlock(pin) else vault.create(pin, defaultVaultSettings())
        } catch (e: SofttokenException.WrongPin) {
            show("Wrong PIN: ${e.attemptsLeft} attempts left before the vault locks for good")
        } catch (e: SofttokenException.Locked) {
            show(if (e.retryAfterS == 0uL) "Enter your PIN" else "Try again in ${e.retryAfterS} s")
        }
    }

    /** Biometric unlock once enabled (`vault.setBiometric(pin, true)`); a dismissal asks for the PIN. */
    fun openWithBiometrics() = scope.launch {
        try {
            vault.unlockBiometric()
        } catch (e: SofttokenException.Cancelled) {
            show("Enter your PIN")
        }
    }

    /** The code of the first identity, refreshed every second until the vault locks itself. */
    fun showCodes() = scope.launch {
        val id = vault.identities().firstOrNull()?.id ?: return@launch
        vault.codes(id).collect { show("${it.code} (${it.remainingS} s)") }
    }

    /** Copies a code; the clipboard forgets it after 30 s. */
    fun copy(code: String) = scope.launch { copyWithAutoClear(AndroidClipboard(activity), code) }

    /** From FirebaseMessagingService.onNewToken: kept while locked, sent after the next unlock. */
    fun onNewToken(token: String) = scope.launch { vault.registerPushToken(token) }

    /** From onMessageReceived: fetch the sign-in requests and answer the first one. */
    fun onPush(confirm: Boolean) = scope.launch {
        val tx = vault.pendingTransactions().transactions.firstOrNull() ?: return@launch
        show(tx.summary)
        vault.respond(tx.identityId, tx.id, if (confirm) TransactionResponse.CONFIRM else TransactionResponse.CANCEL)
    }
}
