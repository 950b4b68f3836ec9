// Portable part of the Android shell: the protocol's HTTP through java.net.HttpURLConnection
// (Android's and the JVM's own stack; TLS and certificate checks are the platform's).
package org.softtoken.android

import java.net.HttpURLConnection
import java.net.URL
import uniffi.softtoken_ffi.HttpRequest
import uniffi.softtoken_ffi.HttpResponse
import uniffi.softtoken_ffi.TransactionTransport
import uniffi.softtoken_ffi.TransportException

/**
 * Sends softtoken's protocol requests with [HttpURLConnection]. Rust calls [send] on a background
 * thread; an HTTP error status is returned as a response, a network failure as [TransportException].
 */
class HttpUrlConnectionTransport(
    private val connectTimeoutMillis: Int = 10_000,
    private val readTimeoutMillis: Int = 15_000,
) : TransactionTransport {
    override fun send(request: HttpRequest): HttpResponse {
        val connection = try {
            URL(request.url).openConnection() as HttpURLConnection
        } catch (e: Exception) {
            throw TransportException.Failed("cannot open ${request.url}: ${e.message}")
        }
        try {
            connection.requestMethod = request.method
            connection.connectTimeout = connectTimeoutMillis
            connection.readTimeout = readTimeoutMillis
            connection.instanceFollowRedirects = false
            connection.setRequestProperty("Accept", "application/json")
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
            throw TransportException.Failed("${request.method} ${request.url}: ${e.message}")
        } finally {
            connection.disconnect()
        }
    }
}
