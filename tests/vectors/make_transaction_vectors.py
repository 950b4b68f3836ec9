#!/usr/bin/env python3
"""Writes fixtures/vectors/transactions.json: test vectors of softtoken's open transaction protocol
(docs/protocol.md §1-§5), computed from the document alone with the Python standard library (hmac,
hashlib), independently of the Rust code that core/src/transaction.rs tests against them.

Usage: python3 tests/vectors/make_transaction_vectors.py > fixtures/vectors/transactions.json
"""
import base64, hashlib, hmac, json, struct

SALT = b"softtoken transaction v1"


def hkdf_sha256(ikm, salt, info, length=32):
    prk = hmac.new(salt, ikm, hashlib.sha256).digest()  # RFC 5869 extract
    okm, t, i = b"", b"", 1
    while len(okm) < length:  # RFC 5869 expand
        t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest()
        okm += t
        i += 1
    return okm[:length]


def key(seed, serial, purpose):
    return hkdf_sha256(seed, SALT, f"softtoken/v1/{purpose}/{serial}".encode())


def s(x):
    b = x.encode("utf-8")
    return struct.pack(">I", len(b)) + b


def canonical(tx):
    out = b"softtoken-tx-v1" + s(tx["id"]) + s(tx["serial"]) + s(tx["summary"])
    out += struct.pack(">I", len(tx["details"]))
    for k, v in tx["details"]:
        out += s(k) + s(v)
    out += struct.pack(">QQ", tx["created_at"], tx["expires_at"]) + bytes([1 if tx["number_match"] else 0])
    return out


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def answer_mac(seed, tx, a):
    msg = canonical(tx) + s(a["response"]) + struct.pack(">Q", a["answered_at"]) + bytes([a["number"]])
    return b64url(hmac.new(key(seed, tx["serial"], "answer"), msg, hashlib.sha256).digest())


def confirmation_code(seed, serial, tx_id):
    msg = b"softtoken-confirm-v1" + s(serial) + s(tx_id)
    h = hmac.new(key(seed, serial, "confirmation"), msg, hashlib.sha256).digest()
    o = h[31] & 0x0F
    return "%08d" % ((struct.unpack(">I", h[o : o + 4])[0] & 0x7FFFFFFF) % 100_000_000)


def request_mac(seed, serial, label, at, extra=None):
    msg = label + s(serial) + struct.pack(">Q", at) + (s(extra) if extra is not None else b"")
    return b64url(hmac.new(key(seed, serial, "fetch"), msg, hashlib.sha256).digest())


def fetch_mac(seed, serial, at):
    return request_mac(seed, serial, b"softtoken-fetch-v1", at)


CASES = [
    (
        # The spec vector's seed with its policy (entrust.json, "seed_with_policy_hex").
        "bb9b6d72ae99b006de5e106935ec96da",
        {"id": "0123456789abcdef0123456789abcdef", "serial": "48244-13456", "summary": "Sign in to Example Bank",
         "details": [["IP", "192.0.2.7"], ["Browser", "Firefox 140"], ["Location", "Zürich"]],
         "created_at": 1800000000, "expires_at": 1800000120, "number_match": False},
        [{"response": "confirm", "answered_at": 1800000030, "number": 0},
         {"response": "cancel", "answered_at": 1800000031, "number": 0},
         {"response": "suspicious", "answered_at": 1800000032, "number": 0}],
    ),
    (
        "3132333435363738393031323334353637383930",
        {"id": "ffffffffffffffffffffffffffffffff", "serial": "otp-0001", "summary": "Approve payment of 1 200,00 € to ACME",
         "details": [], "created_at": 1700000000, "expires_at": 1700000060, "number_match": True},
        [{"response": "confirm", "answered_at": 1700000005, "number": 42}],
    ),
]


def main():
    cases = []
    for seed_hex, tx, answers in CASES:
        seed = bytes.fromhex(seed_hex)
        cases.append({
            "seed_hex": seed_hex,
            "transaction": tx,
            "canonical_hex": canonical(tx).hex(),
            "keys_hex": {p: key(seed, tx["serial"], p).hex() for p in ("answer", "confirmation", "fetch")},
            "confirmation_code": confirmation_code(seed, tx["serial"], tx["id"]),
            "offline_id": "3141592653",
            "offline_confirmation_code": confirmation_code(seed, tx["serial"], "3141592653"),
            "fetch_at": tx["created_at"] + 1,
            "fetch_mac": fetch_mac(seed, tx["serial"], tx["created_at"] + 1),
            "unregister_mac": request_mac(seed, tx["serial"], b"softtoken-unregister-v1", tx["created_at"] + 1),
            "push_token": "fcm:dGVzdC10b2tlbg",
            "push_token_mac": request_mac(seed, tx["serial"], b"softtoken-push-token-v1", tx["created_at"] + 1, "fcm:dGVzdC10b2tlbg"),
            "answers": [dict(a, mac=answer_mac(seed, tx, a)) for a in answers],
        })
    print(json.dumps({"source": "tests/vectors/make_transaction_vectors.py (docs/protocol.md, Python stdlib)", "cases": cases},
                     indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
