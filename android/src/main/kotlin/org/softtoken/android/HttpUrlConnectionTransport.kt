// Portable part of the Android shell: the protocol's HTTP through java.net.HttpURLConnection
// (Android's and the JVM's own stack; TLS and certificate checks are the platform's).
package org.softtoken.android

import java.net.HttpURLConnection
import java.net.URL
import org.softtoken.HttpRequest
import org.softtoken.HttpResponse
import org.softtoken.TransactionTransport
import org.softtoken.TransportException

/**
 * Sends softtoken's protocol requests with [HttpURLConnection]. Rust calls [send] on a background
 * thread; an HTTP error status is returned as a response, a network failure as [TransportException].
 */
class HttpUrlConnectionTransport(
    private val connectTimeoutMillis: Int = 10_000,
    private val readTimeoutMillis: Int = 15_000,
) : TransactionTransport {
    override fun send(request: HttpRequest): HttpResponse {
        // Error texts name only the host: a URL path may hold an activation token.
        val where = redactUrl(request.url)
        val connection = try {
            URL(request.url).openConnection() as HttpURLConnection
        } catch (e: Exception) {
            throw TransportException.Failed("cannot open $where: ${e.message}")
        }
        try {
            connection.requestMethod = request.method
            connection.connectTimeout = connectTimeoutMillis
            connection.readTimeout = readTimeoutMillis
            connection.instanceFollowRedirects = false
            connection.setRequestProperty("Accept", "application/json")
            // The request MAC travels in Authorization; never log these headers.
            request.headers.forEach { connection.setRequestProperty(it.name, it.value) }
            request.body?.let { body ->
                connection.doOutput = true
                connection.setRequestProperty("Content-Type", "application/json")
                connection.outputStream.use { it.write(body.toByteArray(Charsets.UTF_8)) }
            }
            val status = connection.responseCode
            val stream = if (status >= 400) connection.errorStream else connection.inputStream
            val body = stream?.use { it.readBytes().toString(Charsets.UTF_8) } ?: ""
            return HttpResponse(status.toUShort(), body)
        } catch (e: java.io.IOException) {
            throw TransportException.Failed("${request.method} $where: ${e.message}")
        } finally {
            connection.disconnect()
        }
    }
}

/** Scheme and host of a URL, for error texts. */
internal fun redactUrl(url: String): String {
    val scheme = url.substringBefore("://", "")
    if (scheme.isEmpty()) return "(address)"
    return scheme + "://" + url.substringAfter("://").takeWhile { it != '/' && it != '?' && it != '#' } + "/…"
}
