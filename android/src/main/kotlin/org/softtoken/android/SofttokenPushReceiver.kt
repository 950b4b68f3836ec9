// Android-only: UnifiedPush wake-ups (compile-checked here against stubs written from the
// connector's public source, android/api/unifiedpush.txt).
package org.softtoken.android

import android.content.Context
import org.unifiedpush.android.connector.FailedReason
import org.unifiedpush.android.connector.MessagingReceiver
import org.unifiedpush.android.connector.data.PushEndpoint
import org.unifiedpush.android.connector.data.PushMessage

/**
 * Push approvals without Google services: the UnifiedPush connector's receiver (declare it in the
 * manifest as the connector documents). A new endpoint becomes a Web Push subscription
 * ([webPushSubscription]) that the app registers with `Authenticator.registerPushToken` — providers
 * encrypt each wake-up to it (RFC 8291) and the connector decrypts it; a wake-up names only the
 * sign-in request and the token ([WakeUp]). The app then fetches the request with the vault
 * ([signInRequests]) and shows its notification. Receivers must return within seconds: hand the
 * work to WorkManager or a coroutine scope that outlives the receiver.
 */
abstract class SofttokenPushReceiver : MessagingReceiver() {
    /** Register [subscription] with `registerPushToken` (kept while locked, sent after unlock). */
    abstract fun onSubscription(context: Context, subscription: String)

    /** A sign-in request is waiting: fetch it with [signInRequests] and notify the user. */
    abstract fun onWakeUp(context: Context, wakeUp: WakeUp)

    /** The distributor refused or dropped the registration; approvals arrive when the app fetches. */
    open fun onNoWakeUps(context: Context, why: String) {}

    override fun onNewEndpoint(context: Context, endpoint: PushEndpoint, instance: String) {
        val keys = endpoint.pubKeySet
        if (keys == null) {
            onNoWakeUps(context, "the distributor gave no encryption keys: providers only send encrypted wake-ups")
            return
        }
        onSubscription(context, webPushSubscription(endpoint.url, keys.pubKey, keys.auth))
    }

    override fun onMessage(context: Context, message: PushMessage, instance: String) {
        // A message that was not decrypted did not come from a provider holding the keys: ignore it.
        if (!message.decrypted) return
        WakeUp.parse(message.content)?.let { onWakeUp(context, it) }
    }

    override fun onRegistrationFailed(context: Context, reason: FailedReason, instance: String) =
        onNoWakeUps(context, "the push distributor refused the registration ($reason)")

    override fun onUnregistered(context: Context, instance: String) =
        onNoWakeUps(context, "the push distributor ended the registration")
}
