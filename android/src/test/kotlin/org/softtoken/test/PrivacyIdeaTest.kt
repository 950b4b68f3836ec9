package org.softtoken.test

import java.io.File
import java.net.HttpURLConnection
import java.net.URI
import java.net.URLEncoder
import java.nio.file.Path
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir
import org.softtoken.Authenticator
import org.softtoken.TransactionResponse
import org.softtoken.TransactionState
import org.softtoken.android.HttpUrlConnectionTransport
import kotlin.test.assertEquals
import kotlin.test.assertTrue

/**
 * A real privacyIDEA (`tests/privacyidea/run.sh --serve`, configured with poll-only push), reached
 * over its REST API as its administrator and a relying party would.
 */
class PrivacyIdeaServer {
    val url: String
    private val adminToken: String

    init {
        val file = System.getProperty("softtoken.privacyidea") ?: error("run with -Dsofttoken.privacyidea=FILE (tests/kotlin/run.sh does)")
        val (u, password) = File(file).readText().trim().split(" ")
        url = u
        adminToken = string(request("POST", "/auth", mapOf("username" to "admin", "password" to password)), "token")
    }

    private fun request(method: String, path: String, form: Map<String, String> = emptyMap(), admin: Boolean = false): String {
        val body = form.entries.joinToString("&") { (k, v) -> "$k=${URLEncoder.encode(v, "UTF-8")}" }
        val c = URI(url + path + if (method == "GET" && body.isNotEmpty()) "?$body" else "").toURL().openConnection() as HttpURLConnection
        c.requestMethod = method
        if (admin) c.setRequestProperty("Authorization", adminToken)
        if (method == "POST") {
            c.doOutput = true
            c.setRequestProperty("Content-Type", "application/x-www-form-urlencoded")
            c.outputStream.use { it.write(body.toByteArray()) }
        }
        val stream = if (c.responseCode < 400) c.inputStream else c.errorStream
        return stream.bufferedReader().readText()
    }

    /** A string value anywhere in a reply (the replies' keys used here are unique). */
    private fun string(json: String, key: String): String =
        Regex("\"$key\": ?\"([^\"]*)\"").find(json)?.groupValues?.get(1) ?: error("no $key in $json")

    /** Enrollment step 1 for `user`: the link a QR code would carry. */
    fun enrollmentLink(user: String): String {
        val detail = request("POST", "/token/init", mapOf("type" to "push", "genkey" to "1", "user" to user, "realm" to "pirealm", "pin" to "$user-pin"), admin = true)
        return Regex("\"value\": ?\"(otpauth://pipush/[^\"]+)\"").find(detail)?.groupValues?.get(1) ?: error("no push link in $detail")
    }

    /** A login at a relying party with the token's PIN: starts a push challenge; its transaction id. */
    fun login(user: String): String = string(request("POST", "/validate/check", mapOf("user" to user, "pass" to "$user-pin")), "transaction_id")

    /** What the relying party learns: `accept`, `declined`, `cancelled` or `pending`. */
    fun status(transactionId: String): String =
        string(request("GET", "/validate/polltransaction", mapOf("transaction_id" to transactionId)), "challenge_status")
}

class PrivacyIdeaTest {
    @TempDir lateinit var dir: Path

    @Test fun enrollmentThenEachAnswerAsTheServerSeesIt(): Unit = runBlocking {
        val server = PrivacyIdeaServer()
        Authenticator(dir.resolve("v.stv").toString(), JceDeviceKeyStore()).use { s ->
            s.create("2468", FAST)
            s.setTransport(HttpUrlConnectionTransport())
            val identity = s.enrollPush(server.enrollmentLink("kotlin"), "Company login")
            assertEquals("push", identity.kind)
            assertTrue(identity.online)
            val answers = listOf(
                Triple(TransactionResponse.CONFIRM, TransactionState.APPROVED, "accept"),
                Triple(TransactionResponse.CANCEL, TransactionState.CANCELLED, "cancelled"),
                Triple(TransactionResponse.SUSPICIOUS, TransactionState.DENIED, "declined"),
            )
            for ((response, state, atServer) in answers) {
                val transactionId = server.login("kotlin")
                val tx = s.pendingTransactions().transactions.single { it.identityId == identity.id }
                assertTrue(tx.summary.startsWith("Login from"), tx.summary)
                assertEquals(state, s.respond(identity.id, tx.id, response).state)
                assertEquals(atServer, server.status(transactionId))
            }
            assertTrue(s.pendingTransactions().transactions.none { it.identityId == identity.id }, "answered requests are gone")
            val gone = s.remove(identity.id)
            assertTrue(gone.leftAtServer!!.contains("stays enrolled at privacyIDEA"), gone.leftAtServer)
        }
    }
}
