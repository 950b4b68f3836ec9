// Portable part of the Android shell: compiled and tested on the JVM (tests/kotlin/run.sh).
package org.softtoken.android

import org.softtoken.Authenticator
import org.softtoken.TransactionInfo

/**
 * A push subscription as softtoken providers take it in `registerPushToken`: a Web Push
 * subscription (RFC 8030/8291) in its JSON form. A UnifiedPush endpoint and its public key set
 * (`PushEndpoint.url`, `pubKeySet.pubKey`, `pubKeySet.auth`: base64url) are exactly that, so the
 * provider encrypts each wake-up to the phone and the distributor carries it.
 */
fun webPushSubscription(endpoint: String, p256dh: String, auth: String): String =
    """{"endpoint":${jsonString(endpoint)},"keys":{"p256dh":${jsonString(p256dh)},"auth":${jsonString(auth)}}}"""

/**
 * The push token to register for FCM wake-ups (Android with Google services): `fcm:` and the token
 * from `FirebaseMessagingService.onNewToken`. Providers holding a service account of the app's
 * Firebase project send data-only wake-ups to it (`RemoteMessage.data` has `transaction_id` and
 * `serial`: [WakeUp.fromData]); one without says so and the app sees requests when it fetches.
 */
fun fcmPushToken(registrationToken: String): String = "fcm:$registrationToken"

private fun jsonString(s: String): String = buildString {
    append('"')
    for (c in s) {
        when {
            c == '"' -> append("\\\"")
            c == '\\' -> append("\\\\")
            c < ' ' -> append("\\u%04x".format(c.code))
            else -> append(c)
        }
    }
    append('"')
}

/**
 * What a wake-up says: which sign-in request, for which token. It carries only these two ids —
 * never who signs in or where — so the push service learns nothing; the details are fetched from
 * the provider with the vault's keys.
 */
class WakeUp(val transactionId: String, val serial: String) {
    companion object {
        private val FIELD = Regex("\"(transaction_id|serial)\"\\s*:\\s*\"([^\"]{0,256})\"")
        private val ID = Regex("[A-Za-z0-9._-]{1,128}")

        private fun of(tx: String?, serial: String?): WakeUp? =
            if (tx != null && serial != null && ID.matches(tx) && ID.matches(serial)) WakeUp(tx, serial) else null

        /** Reads a decrypted Web Push wake-up (`{"transaction_id": …, "serial": …}`); null for anything else. */
        fun parse(content: ByteArray): WakeUp? {
            if (content.size > 4096) return null
            val fields = FIELD.findAll(content.toString(Charsets.UTF_8)).associate { it.groupValues[1] to it.groupValues[2] }
            return of(fields["transaction_id"], fields["serial"])
        }

        /** The wake-up in an FCM data message (`RemoteMessage.data`); null for anything else. */
        fun fromData(data: Map<String, String>): WakeUp? = of(data["transaction_id"], data["serial"])
    }
}

/**
 * The sign-in requests to show after a wake-up: everything pending at the providers (a wake-up can
 * be late, duplicated or lost, so the pending list is the truth), the woken one first. Empty when
 * the vault is locked: then the notification can only say "open the app to see a sign-in request".
 */
suspend fun Authenticator.signInRequests(wakeUp: WakeUp?): List<TransactionInfo> {
    if (!isUnlocked()) return emptyList()
    val pending = pendingTransactions().transactions
    return pending.sortedByDescending { it.id == wakeUp?.transactionId }
}

/** What a sign-in notification may offer besides opening the app. */
enum class NoticeAction {
    /** "Not me, cancel": the sign-in is refused. */
    CANCEL,
    /** "Suspicious": refused and reported to the company. */
    SUSPICIOUS,
}

/**
 * What a sign-in notification says and offers. Confirm is never a notification button: approving
 * takes the app (the vault, the number to match), so a tap on a lock screen cannot let anyone in;
 * Cancel and Suspicious can be answered from the notification while the vault is unlocked.
 */
class SignInNotice(
    /** The request the notice is about (null: locked, or none found — the app shows them). */
    val transaction: TransactionInfo?,
    val title: String,
    val text: String,
    val actions: List<NoticeAction>,
)

/**
 * The notice for what [signInRequests] returned. Texts come from the core, which has already
 * neutralised control and bidi characters in everything a provider sent.
 */
fun signInNotice(requests: List<TransactionInfo>, unlocked: Boolean): SignInNotice {
    val tx = requests.firstOrNull()
        ?: return SignInNotice(null, "Sign-in request", if (unlocked) "Open the app to see it" else "Unlock the app to review it", emptyList())
    val lines = mutableListOf(tx.summary)
    tx.details.take(3).forEach { lines += "${it.key}: ${it.value}" }
    if (tx.numberMatch || tx.choices.isNotEmpty()) lines += "Open the app and enter the number the sign-in page shows"
    if (requests.size > 1) lines += "+${requests.size - 1} more"
    val actions = if (unlocked) listOf(NoticeAction.CANCEL, NoticeAction.SUSPICIOUS) else emptyList()
    return SignInNotice(tx, "Sign-in request for ${tx.identityName}", lines.joinToString("\n"), actions)
}
