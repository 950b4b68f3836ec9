// The protocol's HTTP through URLSession (the platform's stack: its TLS, proxies and ATS rules).
// Portable: compiled and tested on Linux with FoundationNetworking (tests/swift/run.sh).
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Sends softtoken's protocol requests with `URLSession`. Rust calls `send` on a background thread
/// and waits; an HTTP error status is a response, a network failure a `TransportError`.
public final class URLSessionTransport: TransactionTransport, @unchecked Sendable {
    private let session: URLSession

    /// An ephemeral session (no cookies, no cache) with `timeout` seconds per request.
    public init(timeout: TimeInterval = 15) {
        let config = URLSessionConfiguration.ephemeral
        config.timeoutIntervalForRequest = timeout
        config.timeoutIntervalForResource = timeout
        session = URLSession(configuration: config, delegate: NoRedirects(), delegateQueue: nil)
    }

    public func send(request: HttpRequest) throws -> HttpResponse {
        // Error texts name only the host: a URL path may hold an activation token.
        let place = redactedURL(request.url)
        guard let url = URL(string: request.url) else { throw TransportError.Failed(detail: "not a URL: \(place)") }
        var r = URLRequest(url: url)
        r.httpMethod = request.method
        r.setValue("application/json", forHTTPHeaderField: "Accept")
        // The request MAC travels in Authorization; never log these headers.
        for h in request.headers { r.setValue(h.value, forHTTPHeaderField: h.name) }
        if let body = request.body {
            r.httpBody = Data(body.utf8)
            r.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox()
        session.dataTask(with: r) { data, response, error in
            if let error {
                box.result = .failure(TransportError.Failed(detail: "\(request.method) \(place): \(error.localizedDescription)"))
            } else if let http = response as? HTTPURLResponse {
                box.result = .success(HttpResponse(status: UInt16(clamping: http.statusCode), body: String(decoding: data ?? Data(), as: UTF8.self)))
            } else {
                box.result = .failure(TransportError.Failed(detail: "\(request.method) \(place): no HTTP response"))
            }
            done.signal()
        }.resume()
        done.wait()
        return try box.result.get()
    }
}

private final class ResultBox: @unchecked Sendable {
    var result: Result<HttpResponse, Error> = .failure(TransportError.Failed(detail: "no response"))
}

/// Refuses every redirect: it would carry the request (and its MAC) to another host.
private final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}

/// Scheme and host of a URL, for error texts.
func redactedURL(_ url: String) -> String {
    guard let r = url.range(of: "://") else { return "(address)" }
    let host = url[r.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
    return String(url[..<r.lowerBound]) + "://" + host + "/…"
}
