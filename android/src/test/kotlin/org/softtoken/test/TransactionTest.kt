package org.softtoken.test

import java.nio.file.Path
import java.util.concurrent.TimeUnit
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import org.softtoken.android.HttpUrlConnectionTransport
import org.softtoken.Authenticator
import org.softtoken.ProviderRefusal
import org.softtoken.android.codes
import org.softtoken.android.WakeUp
import org.softtoken.android.fcmPushToken
import org.softtoken.android.NoticeAction
import org.softtoken.android.signInNotice
import org.softtoken.android.signInRequests
import org.softtoken.android.webPushSubscription
import org.softtoken.HttpRequest
import org.softtoken.HttpResponse
import org.softtoken.SofttokenException
import org.softtoken.TransactionResponse
import org.softtoken.TransactionState
import org.softtoken.TransactionTransport
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue

/** The real reference provider (`softtoken-provider serve`) on a loopback port, and its CLI. */
class ReferenceProvider(dir: Path) : AutoCloseable {
    private val bin = System.getProperty("softtoken.provider") ?: error("run with -Dsofttoken.provider=PATH (tests/kotlin/run.sh does)")
    private val state = dir.resolve("provider.db").toString()
    private val server = ProcessBuilder(bin, "--state", state, "serve", "--listen", "127.0.0.1:0").redirectErrorStream(true).start()
    val baseUrl: String = server.inputStream.bufferedReader().readLine()?.removePrefix("listening on ") ?: error("the provider did not start")

    /** Runs a provider command with --json; its stdout, or an exception with its stderr. */
    fun cli(vararg args: String): String {
        val p = ProcessBuilder(listOf(bin, "--state", state, "--json") + args).start()
        val out = p.inputStream.readBytes().toString(Charsets.UTF_8)
        val err = p.errorStream.readBytes().toString(Charsets.UTF_8)
        check(p.waitFor(30, TimeUnit.SECONDS)) { "provider ${args.toList()} hung" }
        if (p.exitValue() != 0) throw IllegalStateException(err.trim())
        return out
    }

    override fun close() {
        server.destroy()
        server.waitFor(10, TimeUnit.SECONDS)
    }
}

/** A string or number field of a flat JSON object (enough for the provider's replies). */
fun field(json: String, key: String): String? =
    Regex("\"$key\":(?:\"([^\"]*)\"|(-?[0-9]+|true|false|null))").find(json)?.let { m -> m.groupValues[1].ifEmpty { m.groupValues[2] } }

class TransactionTest {
    @TempDir lateinit var dir: Path
    private lateinit var provider: ReferenceProvider

    @BeforeEach fun start() { provider = ReferenceProvider(dir) }
    @AfterEach fun stop() { provider.close() }

    private suspend fun activated(s: Authenticator, pushToken: String? = "fcm:kotlin-test"): Pair<String, String> {
        s.create("2468", FAST)
        s.setTransport(HttpUrlConnectionTransport())
        val link = field(provider.cli("issue", "--online", "--base-url", provider.baseUrl), "link")!!
        val done = s.activateLink(link, pushToken, "Example Bank")
        return done.identity.id to done.identity.serial!!
    }

    private fun push(serial: String, vararg extra: String) = provider.cli("push", "--serial", serial, "--summary", "Sign in to Example Bank", *extra)

    @Test fun onlineActivationByLinkNeedsNoTyping(): Unit = runBlocking {
        Authenticator(dir.resolve("v.stv").toString(), JceDeviceKeyStore()).use { s ->
            val (id, serial) = activated(s)
            val identity = s.identities().single()
            assertTrue(identity.online)
            assertEquals("Example Bank", identity.name)
            // The provider completed the activation itself and derives the same seed: today's code verifies.
            assertEquals("true", field(provider.cli("verify", "--serial", serial, "--otp", s.code(id).code), "valid"))
            // The push token given at activation is where the provider's wake-ups go.
            assertEquals("fcm:kotlin-test", field(push(serial), "push_token"))
            // A new FCM token (onNewToken) reaches the provider; sending the same one again sends nothing.
            val registered = s.registerPushToken("fcm:rotated")
            assertFalse(registered.keptUntilUnlock)
            assertEquals(listOf("Example Bank"), registered.registrations.map { it.identityName })
            assertNull(registered.registrations.single().error)
            assertEquals("fcm:rotated", field(push(serial), "push_token"))
            assertTrue(s.registerPushToken("fcm:rotated").registrations.isEmpty())
            // onNewToken while the vault is locked: the token is kept and registered after the unlock.
            s.lock()
            assertTrue(s.registerPushToken("fcm:while-locked").keptUntilUnlock)
            assertEquals("fcm:rotated", field(push(serial), "push_token"))
            s.unlock("2468")
            // Registered on its own thread after the unlock (a provider keeps 5 pending pushes: two looks).
            kotlinx.coroutines.delay(500)
            var seen = field(push(serial), "push_token")
            if (seen != "fcm:while-locked") {
                kotlinx.coroutines.delay(3000)
                seen = field(push(serial), "push_token")
            }
            assertEquals("fcm:while-locked", seen)
            // The link is single-use.
            val link = field(provider.cli("issue", "--online", "--base-url", provider.baseUrl), "link")!!
            s.activateLink(link, null, "second")
            val e = assertFailsWith<SofttokenException.Refused> { s.activateLink(link, null, "third") }
            assertEquals(ProviderRefusal.NOT_FOUND, e.refusal)
            assertEquals(2, s.identities().size)
        }
    }

    @Test fun aUnifiedPushWakeUpReachesThePhoneEncryptedAndNamesOnlyIds(): Unit = runBlocking {
        // The phone's side of RFC 8291, as the UnifiedPush connector holds it: a P-256 key and an auth secret.
        val keys = java.security.KeyPairGenerator.getInstance("EC").apply { initialize(java.security.spec.ECGenParameterSpec("secp256r1")) }.generateKeyPair()
        val auth = ByteArray(16).also { java.security.SecureRandom().nextBytes(it) }
        val received = java.util.concurrent.LinkedBlockingQueue<ByteArray>()
        val distributor = com.sun.net.httpserver.HttpServer.create(java.net.InetSocketAddress("127.0.0.1", 0), 0).apply {
            createContext("/up/phone") { ex -> received.add(ex.requestBody.readBytes()); ex.sendResponseHeaders(201, -1); ex.close() }
            start()
        }
        try {
            val b64 = java.util.Base64.getUrlEncoder().withoutPadding()
            val endpoint = "http://127.0.0.1:${distributor.address.port}/up/phone"
            val subscription = webPushSubscription(endpoint, b64.encodeToString(RFC8291.uncompressed(keys.public)), b64.encodeToString(auth))
            Authenticator(dir.resolve("v.stv").toString(), JceDeviceKeyStore()).use { s ->
                val (_, serial) = activated(s, subscription)
                val pushed = provider.cli("--web-push-allow-loopback", "push", "--serial", serial, "--summary", "Sign in to Example Bank", "--detail", "IP=192.0.2.7")
                assertTrue(field(pushed, "wake_up")!!.startsWith("sent 201"), pushed)
                val body = received.poll(10, TimeUnit.SECONDS) ?: error("no wake-up reached the distributor")
                val plain = RFC8291.decrypt(body, keys, auth)
                assertFalse(plain.toString(Charsets.UTF_8).contains("Example Bank") || plain.toString(Charsets.UTF_8).contains("192.0.2.7"), "the wake-up carries no content")
                val wakeUp = WakeUp.parse(plain)!!
                assertEquals(field(pushed, "transaction_id"), wakeUp.transactionId)
                assertEquals(serial, wakeUp.serial)
                // The app fetches the request itself, the woken one first, and answers it.
                val requests = s.signInRequests(wakeUp)
                assertEquals(wakeUp.transactionId, requests.first().id)
                assertEquals("Sign in to Example Bank", requests.first().summary)
                s.lock()
                assertTrue(s.signInRequests(wakeUp).isEmpty(), "locked: the notification can only say a request waits")
            }
        } finally {
            distributor.stop(0)
        }
    }

    @Test fun anFcmTokenIsRegisteredInTheFormProvidersSendTo(): Unit = runBlocking {
        Authenticator(dir.resolve("v.stv").toString(), JceDeviceKeyStore()).use { s ->
            val token = fcmPushToken("dQw4w9WgXcQ:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx")
            val (_, serial) = activated(s, token)
            val pushed = push(serial)
            assertEquals(token, field(pushed, "push_token"))
            // Recognised; without a service account of the app's project the provider says so.
            assertEquals("not_configured: fcm", field(pushed, "wake_up"))
            val wakeUp = WakeUp.fromData(mapOf("transaction_id" to field(pushed, "transaction_id")!!, "serial" to serial))!!
            assertEquals(field(pushed, "transaction_id"), s.signInRequests(wakeUp).first().id)
            assertNull(WakeUp.fromData(mapOf("transaction_id" to "\",\"x\":\"", "serial" to serial)))
        }
    }

    @Test fun theNotificationOffersNoApprovalAndNoButtonsWhileLocked(): Unit = runBlocking {
        Authenticator(dir.resolve("v.stv").toString(), JceDeviceKeyStore()).use { s ->
            val (id, serial) = activated(s)
            val plain = field(push(serial, "--detail", "IP=192.0.2.7"), "transaction_id")!!
            val numbered = field(push(serial, "--number-match"), "transaction_id")!!
            val notice = signInNotice(s.signInRequests(WakeUp(plain, serial)), s.isUnlocked())
            assertEquals("Sign-in request for Example Bank", notice.title)
            assertEquals("Sign in to Example Bank\nIP: 192.0.2.7\n+1 more", notice.text)
            // Confirm is never a button: approving takes the app. Cancel and Suspicious are, while unlocked.
            assertEquals(listOf(NoticeAction.CANCEL, NoticeAction.SUSPICIOUS), notice.actions)
            val numberNotice = signInNotice(s.signInRequests(WakeUp(numbered, serial)), true)
            assertEquals(numbered, numberNotice.transaction!!.id)
            assertTrue(numberNotice.text.contains("enter the number"), numberNotice.text)
            // What the Cancel button sends is an answer like any other.
            assertEquals(TransactionState.CANCELLED, s.respond(id, plain, TransactionResponse.CANCEL).state)
            s.lock()
            val locked = signInNotice(s.signInRequests(WakeUp(numbered, serial)), s.isUnlocked())
            assertNull(locked.transaction)
            assertTrue(locked.actions.isEmpty())
            assertEquals("Unlock the app to review it", locked.text)
        }
    }

    @Test fun confirmCancelSuspiciousAndTheLog(): Unit = runBlocking {
        Authenticator(dir.resolve("v.stv").toString(), JceDeviceKeyStore()).use { s ->
            val (id, serial) = activated(s)
            val ids = (1..3).map { field(push(serial, "--detail", "IP=192.0.2.$it", "--detail", "Browser=Firefox"), "transaction_id")!! }
            val pending = s.pendingTransactions()
            assertEquals(ids, pending.transactions.map { it.id })
            assertTrue(pending.failures.isEmpty())
            val first = pending.transactions.first()
            assertEquals("Sign in to Example Bank", first.summary)
            assertEquals(listOf("IP" to "192.0.2.1", "Browser" to "Firefox"), first.details.map { it.key to it.value })
            assertEquals(TransactionState.APPROVED, s.respond(id, ids[0], TransactionResponse.CONFIRM).state)
            assertEquals(TransactionState.CANCELLED, s.respond(id, ids[1], TransactionResponse.CANCEL).state)
            assertEquals(TransactionState.DENIED, s.respond(id, ids[2], TransactionResponse.SUSPICIOUS).state)
            for ((tx, state) in ids.zip(listOf("approved", "cancelled", "denied"))) {
                assertEquals(state, field(provider.cli("status", tx), "state"))
            }
            val log = provider.cli("log")
            assertTrue(log.contains(ids[0]) && log.contains("\"confirm\""))
            assertTrue(log.contains(ids[2]) && log.contains("\"suspicious\""))
            assertTrue(log.contains(ids[1]) && log.contains("\"cancel\""), "Cancel is logged too")
            assertTrue(s.pendingTransactions().transactions.isEmpty())
        }
    }

    @Test fun numberMatchingAndTheFirstAnswerIsFinal(): Unit = runBlocking {
        Authenticator(dir.resolve("v.stv").toString(), JceDeviceKeyStore()).use { s ->
            val (id, serial) = activated(s)
            val pushed = push(serial, "--number-match")
            val tx = field(pushed, "transaction_id")!!
            val number = field(pushed, "number")!!
            assertTrue(s.pendingTransactions().transactions.single().numberMatch)
            val missing = assertFailsWith<SofttokenException.InvalidCode> { s.respond(id, tx, TransactionResponse.CONFIRM) }
            assertEquals("transaction", missing.field)
            assertEquals(TransactionState.APPROVED, s.respond(id, tx, TransactionResponse.CONFIRM, number).state)
            val again = assertFailsWith<SofttokenException.Refused> { s.respond(id, tx, TransactionResponse.SUSPICIOUS) }
            assertEquals(ProviderRefusal.NOT_FOUND, again.refusal)
            assertEquals("approved", field(provider.cli("status", tx), "state"))
        }
    }

    @Test fun removingAnIdentityUnregistersItAtItsProvider(): Unit = runBlocking {
        Authenticator(dir.resolve("v.stv").toString(), JceDeviceKeyStore()).use { s ->
            val (id, serial) = activated(s)
            val waiting = field(push(serial), "transaction_id")!!
            val removed = s.remove(id)
            assertEquals(true, removed.unregistered)
            assertNull(removed.unregisterError)
            assertTrue(s.identities().isEmpty())
            assertEquals("cancelled", field(provider.cli("status", waiting), "state"))
            val refused = assertFailsWith<IllegalStateException> { push(serial) }
            assertTrue(refused.message!!.contains("unregistered"), refused.message)
        }
    }

    @Test fun aFailingTransportIsANetworkErrorAndLosesNothing(): Unit = runBlocking {
        Authenticator(dir.resolve("v.stv").toString(), JceDeviceKeyStore()).use { s ->
            val (id, serial) = activated(s)
            field(push(serial), "transaction_id")!!
            s.setTransport(object : TransactionTransport {
                override fun send(request: HttpRequest): HttpResponse = throw RuntimeException("radio off")
            })
            val fetched = s.pendingTransactions()
            assertTrue(fetched.transactions.isEmpty())
            assertTrue(fetched.failures.single().reason.contains("radio off"), fetched.failures.toString())
            assertFailsWith<SofttokenException.Network> { s.respond(id, "0123456789abcdef0123456789abcdef", TransactionResponse.CONFIRM) }
            // Removal still removes here, and says the provider was not told.
            val removed = s.remove(id)
            assertEquals(false, removed.unregistered)
            assertTrue(removed.unregisterError!!.contains("radio off"))
        }
    }

    @Test fun answersNeedTheUnlockedVault(): Unit = runBlocking {
        Authenticator(dir.resolve("v.stv").toString(), JceDeviceKeyStore()).use { s ->
            val (id, serial) = activated(s)
            val tx = field(push(serial), "transaction_id")!!
            s.lock()
            assertFailsWith<SofttokenException.Locked> { s.pendingTransactions() }
            assertFailsWith<SofttokenException.Locked> { s.respond(id, tx, TransactionResponse.CONFIRM) }
            assertFailsWith<SofttokenException.WrongPin> { s.unlock("1111") }
            s.unlock("2468")
            assertEquals(TransactionState.APPROVED, s.respond(id, tx, TransactionResponse.CONFIRM).state)
            assertEquals(8, s.confirmationCode(id, "31415-92653").length)
        }
    }
}

/** The receiving side of RFC 8291 (Web Push message encryption), what a UnifiedPush connector does for the app. */
object RFC8291 {
    fun uncompressed(key: java.security.PublicKey): ByteArray {
        val w = (key as java.security.interfaces.ECPublicKey).w
        fun fixed(n: java.math.BigInteger) = n.toByteArray().let { b -> ByteArray(32 - minOf(32, b.size)) + b.takeLast(32).toByteArray() }
        return byteArrayOf(4) + fixed(w.affineX) + fixed(w.affineY)
    }

    private fun hmac(key: ByteArray, data: ByteArray): ByteArray =
        javax.crypto.Mac.getInstance("HmacSHA256").run { init(javax.crypto.spec.SecretKeySpec(key, "HmacSHA256")); doFinal(data) }

    private fun hkdf(salt: ByteArray, ikm: ByteArray, info: ByteArray, length: Int): ByteArray =
        hmac(hmac(salt, ikm), info + byteArrayOf(1)).copyOf(length)

    fun decrypt(body: ByteArray, keys: java.security.KeyPair, auth: ByteArray): ByteArray {
        val salt = body.copyOfRange(0, 16)
        val idLen = body[20].toInt() and 0xff
        val senderPublic = body.copyOfRange(21, 21 + idLen)
        val params = (keys.public as java.security.interfaces.ECPublicKey).params
        val point = java.security.spec.ECPoint(java.math.BigInteger(1, senderPublic.copyOfRange(1, 33)), java.math.BigInteger(1, senderPublic.copyOfRange(33, 65)))
        val sender = java.security.KeyFactory.getInstance("EC").generatePublic(java.security.spec.ECPublicKeySpec(point, params))
        val shared = javax.crypto.KeyAgreement.getInstance("ECDH").run { init(keys.private); doPhase(sender, true); generateSecret() }
        val keyInfo = "WebPush: info".toByteArray() + byteArrayOf(0) + uncompressed(keys.public) + senderPublic
        val ikm = hkdf(auth, shared, keyInfo, 32)
        val cek = hkdf(salt, ikm, "Content-Encoding: aes128gcm".toByteArray() + byteArrayOf(0), 16)
        val nonce = hkdf(salt, ikm, "Content-Encoding: nonce".toByteArray() + byteArrayOf(0), 12)
        val padded = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding").run {
            init(javax.crypto.Cipher.DECRYPT_MODE, javax.crypto.spec.SecretKeySpec(cek, "AES"), javax.crypto.spec.GCMParameterSpec(128, nonce))
            doFinal(body, 21 + idLen, body.size - 21 - idLen)
        }
        val end = padded.indexOfLast { it != 0.toByte() }
        check(padded[end] == 2.toByte()) { "the last record's delimiter is missing" }
        return padded.copyOf(end)
    }
}
