// Android-only: sign-in notifications (compile-checked here against the generated stubs).
package org.softtoken.android

import android.app.Notification
import android.app.NotificationChannel
import android.app.NotificationManager
import android.app.PendingIntent
import android.content.BroadcastReceiver
import android.content.Context
import android.content.Intent
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import org.softtoken.Authenticator
import org.softtoken.TransactionResponse

/**
 * Posts [SignInNotice]s: one notification a request (tagged with its id, gone when it expires),
 * on a high-importance channel, opening the app with [openApp] (where Confirm and number matching
 * happen), with Cancel and Suspicious buttons handled by the app's [receiver] (a
 * [SignInActionReceiver] subclass declared in the manifest, not exported). The app asks for
 * `POST_NOTIFICATIONS` first on Android 13+; without it nothing is shown and requests wait in the app.
 */
class SignInNotifications(
    context: Context,
    private val smallIcon: Int,
    private val openApp: PendingIntent,
    private val receiver: Class<out SignInActionReceiver>,
    channelName: CharSequence = "Sign-in requests",
) {
    private val context = context.applicationContext
    private val manager = this.context.getSystemService(Context.NOTIFICATION_SERVICE) as NotificationManager

    init {
        // minSdk 26: channels always exist. Creating an existing channel changes nothing.
        manager.createNotificationChannel(NotificationChannel(CHANNEL, channelName, NotificationManager.IMPORTANCE_HIGH))
    }

    /** Shows [notice]; `nowMillis` is the current time, for the notification's timeout. */
    fun show(notice: SignInNotice, nowMillis: Long = System.currentTimeMillis()) {
        val tx = notice.transaction
        val builder = Notification.Builder(context, CHANNEL)
            .setSmallIcon(smallIcon)
            .setContentTitle(notice.title)
            .setContentText(notice.text)
            .setCategory(Notification.CATEGORY_MESSAGE)
            .setContentIntent(openApp)
            .setAutoCancel(true)
        if (tx != null) {
            builder.setTimeoutAfter((tx.expiresAt.toLong() * 1000 - nowMillis).coerceAtLeast(1_000))
            for ((index, action) in notice.actions.withIndex()) {
                val intent = Intent(context, receiver)
                    .putExtra(EXTRA_IDENTITY, tx.identityId)
                    .putExtra(EXTRA_TRANSACTION, tx.id)
                    .putExtra(EXTRA_RESPONSE, action.name)
                val requestCode = (tx.id.hashCode() * 4) + index
                val pending = PendingIntent.getBroadcast(context, requestCode, intent, PendingIntent.FLAG_IMMUTABLE or PendingIntent.FLAG_UPDATE_CURRENT)
                // The icon-less form: the system shows the buttons as text (icons are ignored from Android 7).
                @Suppress("DEPRECATION")
                builder.addAction(0, if (action == NoticeAction.CANCEL) "Not me, cancel" else "Suspicious", pending)
            }
        }
        manager.notify(tx?.id ?: WAITING, ID, builder.build())
    }

    /** Removes the notification of [transactionId] (answered in the app, or expired). */
    fun dismiss(transactionId: String) = manager.cancel(transactionId, ID)

    companion object {
        const val CHANNEL = "org.softtoken.sign-in"
        const val EXTRA_IDENTITY = "org.softtoken.identity"
        const val EXTRA_TRANSACTION = "org.softtoken.transaction"
        const val EXTRA_RESPONSE = "org.softtoken.response"
        private const val WAITING = "org.softtoken.waiting"
        private const val ID = 1
    }
}

/**
 * Answers a notification's Cancel or Suspicious with the app's vault (it must be unlocked: the
 * notice offers the buttons only then; if it locked meanwhile the answer fails and the request
 * waits in the app). Subclass it, return the app's one [Authenticator], declare it in the manifest
 * with `android:exported="false"`.
 */
abstract class SignInActionReceiver : BroadcastReceiver() {
    /** The app's vault. */
    abstract fun authenticator(context: Context): Authenticator

    /** The answer went through or failed (`error`), for the app to tell the user. */
    open fun onAnswered(context: Context, transactionId: String, error: Exception?) {}

    override fun onReceive(context: Context, intent: Intent) {
        val identity = intent.getStringExtra(SignInNotifications.EXTRA_IDENTITY) ?: return
        val transaction = intent.getStringExtra(SignInNotifications.EXTRA_TRANSACTION) ?: return
        val response = when (intent.getStringExtra(SignInNotifications.EXTRA_RESPONSE)) {
            NoticeAction.CANCEL.name -> TransactionResponse.CANCEL
            NoticeAction.SUSPICIOUS.name -> TransactionResponse.SUSPICIOUS
            else -> return // Confirm is never answered from a notification
        }
        val pending = goAsync()
        val vault = authenticator(context)
        CoroutineScope(Dispatchers.IO).launch {
            val error = try {
                vault.respond(identity, transaction, response, null)
                null
            } catch (e: Exception) {
                e
            }
            try {
                onAnswered(context, transaction, error)
            } finally {
                pending.finish()
            }
        }
    }
}
