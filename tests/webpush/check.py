"""Web Push wake-ups checked by an independent implementation: the receiver's side written with
`http_ece` (RFC 8188/8291 decryption) and `cryptography` (P-256 keys, the VAPID signature), against
the real `softtoken-provider serve` and `softtoken` CLI over loopback. The app registers a W3C
PushSubscription as its push token; each `softtoken-provider push` must reach the subscription's
endpoint as an aes128gcm body that decrypts to exactly {"transaction_id", "serial"}, signed by the
VAPID key `softtoken-provider vapid-key` prints, for the endpoint's origin. A 410 from the push
service clears the token; an endpoint off loopback over plain http is refused and reported.
Prints `webpush: N passed, M failed`. Usage: python3 check.py BIN_DIR"""

import base64, http.server, json, os, subprocess, sys, tempfile, threading, time, traceback
import http_ece
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

BIN = sys.argv[1]
work = tempfile.mkdtemp(prefix="softtoken-webpush-")
state = os.path.join(work, "provider.db")
env = dict(os.environ, SOFTTOKEN_VAULT=os.path.join(work, "vault.stv"), SOFTTOKEN_KEY_DIR=os.path.join(work, "keys"), SOFTTOKEN_PIN="2468", SOFTTOKEN_NEW_PIN="2468")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def run(name, *args):
    out = subprocess.run([os.path.join(BIN, name), *args, "--json"], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{name} {' '.join(args)}: {out.stderr.strip()}")
    return json.loads(out.stdout)


def provider(*args):
    # The push service here is on loopback: the operator's option lets wake-ups reach it (without
    # it only public addresses are contacted).
    return run("softtoken-provider", "--state", state, "--web-push-allow-loopback", *args)


received = []


class PushService(http.server.BaseHTTPRequestHandler):
    """A push service: keeps what it is sent; /gone/ answers 410 (the subscription expired)."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        received.append((self.path, {k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(410 if self.path.startswith("/gone/") else 201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


passed = failed = 0


def check(name, body):
    global passed, failed
    try:
        body()
        passed += 1
        print(f"ok   {name}")
    except Exception:
        failed += 1
        print(f"FAIL {name}: {traceback.format_exc()}")


def subscription(endpoint):
    key = ec.generate_private_key(ec.SECP256R1())
    auth = os.urandom(16)
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return key, auth, json.dumps({"endpoint": endpoint, "keys": {"p256dh": b64(public), "auth": b64(auth)}})


serve = None
try:
    service = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PushService)
    threading.Thread(target=service.serve_forever, daemon=True).start()
    push_base = f"http://127.0.0.1:{service.server_address[1]}"
    serve = subprocess.Popen([os.path.join(BIN, "softtoken-provider"), "--state", state, "serve", "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    base = serve.stdout.readline().strip().removeprefix("listening on ")
    run("softtoken", "init", "--key-store", "file", "--kdf-memory-mib", "19", "--kdf-passes", "2", "--kdf-lanes", "1")
    issued = provider("issue", "--online", "--base-url", base)
    serial = issued["serial"]
    receiver, auth, token = subscription(f"{push_base}/push/first-receiver")
    run("softtoken", "activate-link", issued["link"], "--name", "bank", "--push-token", token)
    public_key = provider("vapid-key")["public_key"]

    def delivered_and_decrypts():
        pushed = provider("push", "--serial", serial, "--summary", "Sign in to Example Bank", "--detail", "IP=192.0.2.7")
        assert pushed["wake_up"] == "sent 201", pushed
        path, headers, body = received[-1]
        assert path == "/push/first-receiver", path
        assert headers["content-encoding"] == "aes128gcm" and int(headers["ttl"]) > 0, headers
        plain = http_ece.decrypt(body, private_key=receiver, auth_secret=auth, version="aes128gcm")
        assert json.loads(plain) == {"transaction_id": pushed["transaction_id"], "serial": serial}, plain
        assert b"Example Bank" not in plain and b"192.0.2.7" not in plain, "the wake-up carries no content"

    def vapid_signed_for_the_origin():
        headers = received[-1][1]
        scheme, params = headers["authorization"].split(" ", 1)
        assert scheme == "vapid", scheme
        fields = dict(p.strip().split("=", 1) for p in params.split(","))
        assert fields["k"] == public_key, "signed by another key"
        header, claims, signature = fields["t"].split(".")
        assert json.loads(unb64(header)) == {"typ": "JWT", "alg": "ES256"}
        claims = json.loads(unb64(claims))
        assert claims["aud"] == push_base, claims
        assert time.time() < claims["exp"] <= time.time() + 24 * 3600, claims
        raw = unb64(signature)
        der = utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(fields["k"])).verify(der, f"{header}.{fields['t'].split('.')[1]}".encode(), ec.ECDSA(hashes.SHA256()))

    def a_tampered_body_does_not_decrypt():
        body = bytearray(received[-1][2])
        body[-1] ^= 1
        try:
            http_ece.decrypt(bytes(body), private_key=receiver, auth_secret=auth, version="aes128gcm")
        except Exception:
            return
        raise AssertionError("a changed tag decrypted")

    def another_receiver_cannot_read_it():
        other, other_auth, _ = subscription(f"{push_base}/push/other")
        try:
            http_ece.decrypt(received[-1][2], private_key=other, auth_secret=other_auth, version="aes128gcm")
        except Exception:
            return
        raise AssertionError("decrypted with another receiver's keys")

    def gone_subscription_is_cleared():
        _, _, gone = subscription(f"{push_base}/gone/old-receiver")
        run("softtoken", "register-push-token", gone)
        first = provider("push", "--serial", serial, "--summary", "Sign in")
        assert first["wake_up"].startswith("failed:") and "410" in first["wake_up"], first
        assert received[-1][0] == "/gone/old-receiver"
        count = len(received)
        second = provider("push", "--serial", serial, "--summary", "Sign in")
        assert second["push_token"] is None and second["wake_up"] == "no_token", second
        assert len(received) == count, "sent again to a subscription the push service said is gone"

    def plain_http_off_loopback_is_refused():
        _, _, remote = subscription("http://push.example/receiver")
        run("softtoken", "register-push-token", remote)
        count = len(received)
        pushed = provider("push", "--serial", serial, "--summary", "Sign in")
        assert pushed["wake_up"].startswith("failed:") and "plain http" in pushed["wake_up"], pushed
        assert len(received) == count

    check("a push reaches the subscription's endpoint and decrypts (http_ece) to the transaction id and serial only", delivered_and_decrypts)
    check("the wake-up is VAPID-signed (ES256, verified by cryptography) for the endpoint's origin by the provider's key", vapid_signed_for_the_origin)
    check("a wake-up changed in transit does not decrypt", a_tampered_body_does_not_decrypt)
    check("another receiver's keys do not decrypt it", another_receiver_cannot_read_it)
    check("a 410 from the push service is reported and clears the subscription", gone_subscription_is_cleared)
    check("an endpoint over plain http off loopback is refused and reported", plain_http_off_loopback_is_refused)
except Exception:
    failed += 1
    print(f"FAIL set-up: {traceback.format_exc()}")
finally:
    if serve:
        serve.kill()
print(f"webpush: {passed} passed, {failed} failed")
sys.exit(0 if failed == 0 and passed > 0 else 1)
