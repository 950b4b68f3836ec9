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
