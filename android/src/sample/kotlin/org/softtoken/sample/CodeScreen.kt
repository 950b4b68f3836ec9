// The screens of android/README.md. They are compile-checked by tests/kotlin/run.sh against the
// stubs generated from the published API signature files, with the real generated bindings, so the
// README's code cannot rot; they are not part of the library.
package org.softtoken.sample

import android.app.Application
import android.content.Context
import androidx.fragment.app.FragmentActivity
import java.io.InputStream
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.launch
import org.softtoken.Authenticator
import org.softtoken.SofttokenException
import org.softtoken.TransactionInfo
import org.softtoken.TransactionResponse
import org.softtoken.android.AndroidClipboard
import org.softtoken.android.AndroidKeystoreDeviceKeyStore
import org.softtoken.android.BiometricPromptAuthenticator
import org.softtoken.android.FileRecords
import org.softtoken.android.HttpUrlConnectionTransport
import org.softtoken.android.ResumedActivities
import org.softtoken.android.SignInActionReceiver
import org.softtoken.android.SignInNotifications
import org.softtoken.android.SofttokenPushReceiver
import org.softtoken.android.WakeUp
import org.softtoken.android.codes
import org.softtoken.android.scanPickedImage
import org.softtoken.android.signInNotice
import org.softtoken.android.signInRequests
import org.softtoken.defaultVaultSettings

/** The app's one vault, made in `Application.onCreate` and kept for the process's lifetime. */
class SofttokenApp(application: Application) {
    val activities = ResumedActivities.install(application)
    private val store = AndroidKeystoreDeviceKeyStore(
        records = FileRecords(application.noBackupFilesDir.resolve("softtoken-records")),
        createKeys = true,
        authenticator = BiometricPromptAuthenticator(application, activities, title = "Unlock your tokens", negativeButton = "Use PIN"),
    )
    val vault = Authenticator(application.noBackupFilesDir.resolve("vault.stv").path, store).apply {
        setTransport(HttpUrlConnectionTransport())
    }
}

/** One screen: unlock, live codes, scanning, approving. */
class CodeScreen(private val app: SofttokenApp, private val activity: FragmentActivity, private val scope: CoroutineScope, private val show: (String) -> Unit) {
    private val vault get() = app.vault

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

    /** Turns biometric unlock on (needs the PIN; says why when the phone cannot). */
    fun enableBiometrics(pin: String) = scope.launch {
        try {
            vault.setBiometric(pin, true)
        } catch (e: SofttokenException.Platform) {
            show(e.detail)
        }
    }

    /** Biometric unlock once enabled; a dismissal or a lockout asks for the PIN. */
    fun openWithBiometrics() = scope.launch {
        try {
            vault.unlockBiometric()
        } catch (e: SofttokenException.Cancelled) {
            show("Enter your PIN")
        } catch (e: SofttokenException.BiometricLockedOut) {
            show("Too many tries: enter your PIN")
        }
    }

    /** The code of the first identity, refreshed as each period ends, until the vault locks itself. */
    fun showCodes() = scope.launch {
        val id = vault.identities().firstOrNull()?.id ?: return@launch
        vault.codes(id).collect { show("${it.code} (${it.remainingS} s)") }
    }

    /** Copies a code; WorkManager clears the clipboard after 30 s. */
    fun copy(code: String) = AndroidClipboard(activity).copyCode(code)

    /** "Scan from a screenshot": the QR code in a picked image, with the password from the letter. */
    fun scanPicked(input: InputStream, password: String) = scope.launch {
        val text = scanPickedImage(input).firstOrNull() ?: return@launch show("No QR code in that picture")
        val pending = vault.beginQrActivation(text, password)
        show("Token ${pending.serial()}: type ${pending.registrationCode()} into your company's page, then confirm")
        vault.commitActivation(pending)
    }

    /** A sign-in request as the user sees it: what, where from, and whether a number must be typed. */
    fun describe(tx: TransactionInfo): String =
        tx.summary + tx.details.joinToString("") { "\n${it.key}: ${it.value}" } +
            (if (tx.numberMatch) "\nType the number the sign-in page shows" else "") +
            (if (tx.choices.isNotEmpty()) "\nPick the number the sign-in page shows: ${tx.choices.joinToString()}" else "")

    /** Answers: Confirm with the number the user typed (when asked), Cancel, or Suspicious (reported). */
    fun answer(tx: TransactionInfo, response: TransactionResponse, number: String?) = scope.launch {
        try {
            val answered = vault.respond(tx.identityId, tx.id, response, number)
            answered.displayCode?.let { show("Type $it into the sign-in page") }
        } catch (e: SofttokenException.Refused) {
            show("The provider refused: ${e.detail}")
        }
    }

    /** A backup file only this password opens (export needs the current PIN). */
    fun backup(pin: String, password: String, to: java.io.File) = scope.launch {
        to.writeBytes(vault.exportBackup(pin, password))
    }
}

/** The manifest's UnifiedPush receiver: subscriptions go to the providers, wake-ups to a notification. */
class PushReceiver : SofttokenPushReceiver() {
    override fun onSubscription(context: Context, subscription: String) {
        val app = appOf(context)
        app.scope.launch { app.softtoken.vault.registerPushToken(subscription) }
    }

    override fun onWakeUp(context: Context, wakeUp: WakeUp) {
        val app = appOf(context)
        app.scope.launch {
            val vault = app.softtoken.vault
            app.notifications.show(signInNotice(vault.signInRequests(wakeUp), vault.isUnlocked()))
        }
    }
}

/** The manifest's receiver of the notification's Cancel and Suspicious buttons (not exported). */
class SignInActions : SignInActionReceiver() {
    override fun authenticator(context: Context): Authenticator = appOf(context).softtoken.vault

    override fun onAnswered(context: Context, transactionId: String, error: Exception?) {
        appOf(context).notifications.dismiss(transactionId)
    }
}

/** What the sample's Application class offers the receivers. */
interface SampleApp {
    val softtoken: SofttokenApp
    val scope: CoroutineScope
    /** `SignInNotifications(this, R.drawable.ic_notification, openAppIntent, SignInActions::class.java)` */
    val notifications: SignInNotifications
}

private fun appOf(context: Context): SampleApp = context.applicationContext as SampleApp
