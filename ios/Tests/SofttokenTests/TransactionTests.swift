import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
@testable import Softtoken

/// The real reference provider (`softtoken-provider serve`) on a loopback port, and its CLI.
final class ReferenceProvider {
    let bin: String
    let state: String
    let server = Process()
    let baseURL: String

    init(dir: URL) throws {
        bin = ProcessInfo.processInfo.environment["SOFTTOKEN_PROVIDER"] ?? "/softtoken/bin/softtoken-provider"
        state = dir.appendingPathComponent("provider.db").path
        server.executableURL = URL(fileURLWithPath: bin)
        server.arguments = ["--state", state, "serve", "--listen", "127.0.0.1:0"]
        let out = Pipe()
        server.standardOutput = out
        try server.run()
        var line = Data()
        while true {
            let byte = out.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty || byte == Data("\n".utf8) { break }
            line.append(byte)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("listening on ") else { throw NSError(domain: "provider did not start: \(text)", code: 1) }
        baseURL = String(text.dropFirst("listening on ".count))
    }

    /// Runs a provider command with --json and returns its JSON object (throws with its stderr).
    func cli(_ args: String...) throws -> [String: Any] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: bin)
        p.arguments = ["--state", state, "--json"] + args
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw NSError(domain: errText, code: Int(p.terminationStatus)) }
        return try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    }

    func stop() {
        server.terminate()
        server.waitUntilExit()
    }
}

final class FailingTransport: TransactionTransport, @unchecked Sendable {
    func send(request: HttpRequest) throws -> HttpResponse { throw TransportError.Failed(detail: "radio off") }
}

final class TransactionTests: XCTestCase {
    var dir: URL!
    var provider: ReferenceProvider!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("softtoken-tx-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        provider = try ReferenceProvider(dir: dir)
    }

    override func tearDownWithError() throws {
        provider.stop()
        try? FileManager.default.removeItem(at: dir)
    }

    func activated(_ s: Authenticator) async throws -> (id: String, serial: String) {
        try await s.create(pin: "2468", settings: fast)
        s.setTransport(transport: URLSessionTransport())
        let link = try provider.cli("issue", "--online", "--base-url", provider.baseURL)["link"] as! String
        let done = try await s.activateLink(link: link, pushToken: "apns:swift-test", name: "Example Bank")
        return (done.identity.id, done.identity.serial!)
    }

    func testOnlineActivationByLinkNeedsNoTyping() async throws {
        let s = Authenticator(path: dir.appendingPathComponent("v.stv").path, keyStore: try InMemoryDeviceKeyStore())
        let (id, serial) = try await activated(s)
        XCTAssertTrue(try s.identities().first!.online)
        let verified = try provider.cli("verify", "--serial", serial, "--otp", try s.code(id: id).code)
        XCTAssertEqual(verified["valid"] as? Bool, true)
        let pushed = try provider.cli("push", "--serial", serial, "--summary", "Sign in")
        XCTAssertEqual(pushed["push_token"] as? String, "apns:swift-test")
    }

    func testAnApnsDeviceTokenIsRegisteredInTheFormProvidersSendTo() async throws {
        let s = Authenticator(path: dir.appendingPathComponent("v.stv").path, keyStore: try InMemoryDeviceKeyStore())
        let (_, serial) = try await activated(s)
        let token = apnsPushToken(deviceToken: Data((0..<32).map { UInt8($0) }))
        XCTAssertEqual(token, "apns:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
        _ = try await s.registerPushToken(token: token)
        let pushed = try provider.cli("push", "--serial", serial, "--summary", "Sign in to Example Bank")
        XCTAssertEqual(pushed["push_token"] as? String, token)
        // The provider recognises it; without the app's APNs key it says so instead of sending.
        XCTAssertEqual(pushed["wake_up"] as? String, "not_configured: apns")
        // What the notification carries leads to the request, fetched with the vault.
        let wakeUp = WakeUp(userInfo: ["aps": ["mutable-content": 1], "transaction_id": pushed["transaction_id"] as! String, "serial": serial])
        XCTAssertNotNil(wakeUp)
        let requests = try await s.signInRequests(wakeUp: wakeUp)
        XCTAssertEqual(requests.first?.id, pushed["transaction_id"] as? String)
        XCTAssertEqual(requests.first?.summary, "Sign in to Example Bank")
        XCTAssertNil(WakeUp(userInfo: ["transaction_id": "<script>", "serial": serial]))
        s.lock()
        let locked = try await s.signInRequests(wakeUp: wakeUp)
        XCTAssertTrue(locked.isEmpty)
    }

    func testConfirmCancelSuspiciousAndTheLog() async throws {
        let s = Authenticator(path: dir.appendingPathComponent("v.stv").path, keyStore: try InMemoryDeviceKeyStore())
        let (id, serial) = try await activated(s)
        var ids: [String] = []
        for i in 1...3 {
            ids.append(try provider.cli("push", "--serial", serial, "--summary", "Sign in \(i)", "--detail", "IP=192.0.2.\(i)")["transaction_id"] as! String)
        }
        let pending = try await s.pendingTransactions()
        XCTAssertEqual(pending.transactions.map(\.id), ids)
        XCTAssertEqual(pending.transactions[0].details.map(\.value), ["192.0.2.1"])
        let confirmed = try await s.respond(identityId: id, transactionId: ids[0], response: .confirm).state
        let cancelled = try await s.respond(identityId: id, transactionId: ids[1], response: .cancel).state
        let denied = try await s.respond(identityId: id, transactionId: ids[2], response: .suspicious).state
        XCTAssertEqual([confirmed, cancelled, denied], [.approved, .cancelled, .denied])
        let events = try provider.cli("log")["events"] as! [[String: Any]]
        XCTAssertEqual(events.map { $0["transaction_id"] as! String }, ids, "every answer is logged, Cancel too")
        XCTAssertEqual(events.map { $0["response"] as! String }, ["confirm", "cancel", "suspicious"])
    }

    func testNumberMatchingAndTheFirstAnswerIsFinal() async throws {
        let s = Authenticator(path: dir.appendingPathComponent("v.stv").path, keyStore: try InMemoryDeviceKeyStore())
        let (id, serial) = try await activated(s)
        let pushed = try provider.cli("push", "--serial", serial, "--summary", "Pay", "--number-match")
        let tx = pushed["transaction_id"] as! String
        let number = pushed["number"] as! Int
        let missing = await expectError { try await s.respond(identityId: id, transactionId: tx, response: .confirm) }
        guard case .InvalidCode(let field, _)? = missing else { return XCTFail("\(String(describing: missing))") }
        XCTAssertEqual(field, "transaction")
        let state = try await s.respond(identityId: id, transactionId: tx, response: .confirm, number: String(number)).state
        XCTAssertEqual(state, .approved)
        let again = await expectError { try await s.respond(identityId: id, transactionId: tx, response: .suspicious) }
        guard case .Refused(let refusal, _)? = again else { return XCTFail("\(String(describing: again))") }
        XCTAssertEqual(refusal, .notFound)
    }

    func testRemovalUnregistersAndAFailingTransportIsANetworkError() async throws {
        let s = Authenticator(path: dir.appendingPathComponent("v.stv").path, keyStore: try InMemoryDeviceKeyStore())
        let (id, serial) = try await activated(s)
        let link = try provider.cli("issue", "--online", "--base-url", provider.baseURL)["link"] as! String
        let second = try await s.activateLink(link: link, name: "second").identity
        s.setTransport(transport: FailingTransport())
        let fetched = try await s.pendingTransactions()
        XCTAssertEqual(fetched.failures.count, 2)
        let e = await expectError { try await s.respond(identityId: id, transactionId: "0123456789abcdef0123456789abcdef", response: .confirm) }
        guard case .Network? = e else { return XCTFail("\(String(describing: e))") }
        let offline = try await s.remove(id: second.id)
        XCTAssertEqual(offline.unregistered, false)
        s.setTransport(transport: URLSessionTransport())
        let removed = try await s.remove(id: id)
        XCTAssertEqual(removed.unregistered, true)
        XCTAssertThrowsError(try provider.cli("push", "--serial", serial, "--summary", "x"))
        XCTAssertTrue(try s.identities().isEmpty)
    }
}
