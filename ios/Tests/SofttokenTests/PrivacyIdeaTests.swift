import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
@testable import Softtoken

/// A real privacyIDEA (`tests/privacyidea/run.sh --serve`, configured with poll-only push), reached
/// over its REST API as its administrator and a relying party would.
final class PrivacyIdeaServer {
    let url: String
    private var adminToken = ""

    init() throws {
        let env = ProcessInfo.processInfo.environment
        guard let url = env["SOFTTOKEN_PRIVACYIDEA_URL"], let password = env["SOFTTOKEN_PRIVACYIDEA_PASSWORD"] else {
            throw NSError(domain: "set SOFTTOKEN_PRIVACYIDEA_URL and _PASSWORD (tests/swift/run.sh does)", code: 1)
        }
        self.url = url
        adminToken = try string(request("POST", "/auth", ["username": "admin", "password": password]), "token")
    }

    private func request(_ method: String, _ path: String, _ form: [String: String] = [:], admin: Bool = false) throws -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed)!)" }.joined(separator: "&")
        var r = URLRequest(url: URL(string: url + path + (method == "GET" && !body.isEmpty ? "?\(body)" : ""))!)
        r.httpMethod = method
        if admin { r.setValue(adminToken, forHTTPHeaderField: "Authorization") }
        if method == "POST" {
            r.httpBody = Data(body.utf8)
            r.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        }
        let done = DispatchSemaphore(value: 0)
        let box = TextBox()
        URLSession.shared.dataTask(with: r) { data, _, error in
            box.text = error == nil ? String(decoding: data ?? Data(), as: UTF8.self) : nil
            done.signal()
        }.resume()
        done.wait()
        guard let text = box.text else { throw NSError(domain: "\(method) \(path) failed", code: 1) }
        return text
    }

    /// A string value anywhere in a reply (the keys used here are unique in their replies).
    private func string(_ json: String, _ key: String) throws -> String {
        let pattern = try NSRegularExpression(pattern: "\"\(key)\": ?\"([^\"]*)\"")
        guard let m = pattern.firstMatch(in: json, range: NSRange(json.startIndex..., in: json)), let r = Range(m.range(at: 1), in: json) else {
            throw NSError(domain: "no \(key) in \(json)", code: 1)
        }
        return String(json[r])
    }

    /// Enrollment step 1 for `user`: the link a QR code would carry.
    func enrollmentLink(_ user: String) throws -> String {
        let detail = try request("POST", "/token/init", ["type": "push", "genkey": "1", "user": user, "realm": "pirealm", "pin": "\(user)-pin"], admin: true)
        let link = try string(detail, "value")
        guard link.hasPrefix("otpauth://pipush/") else { throw NSError(domain: "no push link in \(detail)", code: 1) }
        return link
    }

    /// A login at a relying party with the token's PIN: starts a push challenge; its transaction id.
    func login(_ user: String) throws -> String {
        try string(request("POST", "/validate/check", ["user": user, "pass": "\(user)-pin"]), "transaction_id")
    }

    /// What the relying party learns: `accept`, `declined`, `cancelled` or `pending`.
    func status(_ transactionId: String) throws -> String {
        try string(request("GET", "/validate/polltransaction", ["transaction_id": transactionId]), "challenge_status")
    }
}

private final class TextBox: @unchecked Sendable {
    var text: String?
}

final class PrivacyIdeaTests: XCTestCase {
    func testEnrollmentThenEachAnswerAsTheServerSeesIt() async throws {
        let server = try PrivacyIdeaServer()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("softtoken-pi-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = Authenticator(path: dir.appendingPathComponent("v.stv").path, keyStore: try InMemoryDeviceKeyStore())
        try await s.create(pin: "2468", settings: fast)
        s.setTransport(transport: URLSessionTransport())
        let identity = try await s.enrollPush(link: try server.enrollmentLink("swift"), name: "Company login")
        XCTAssertEqual(identity.kind, "push")
        XCTAssertTrue(identity.online)
        let answers: [(TransactionResponse, TransactionState, String)] = [(.confirm, .approved, "accept"), (.cancel, .cancelled, "cancelled"), (.suspicious, .denied, "declined")]
        for (response, state, atServer) in answers {
            let transactionId = try server.login("swift")
            let listed = try await s.pendingTransactions().transactions.filter { $0.identityId == identity.id }
            XCTAssertEqual(listed.count, 1)
            XCTAssertTrue(listed[0].summary.hasPrefix("Login from"), listed[0].summary)
            let answer = try await s.respond(identityId: identity.id, transactionId: listed[0].id, response: response)
            XCTAssertEqual(answer.state, state)
            XCTAssertEqual(try server.status(transactionId), atServer)
        }
        let left = try await s.pendingTransactions().transactions.filter { $0.identityId == identity.id }
        XCTAssertTrue(left.isEmpty, "answered requests are gone")
        let gone = try await s.remove(id: identity.id)
        XCTAssertTrue(gone.leftAtServer?.contains("stays enrolled at privacyIDEA") == true, String(describing: gone.leftAtServer))
    }
}
