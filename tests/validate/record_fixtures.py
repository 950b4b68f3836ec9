#!/usr/bin/env python3
"""Records privacyIDEA's replies to the validate API requests that provider/tests/validate.rs
compares softtoken-provider's with (fixtures/validate/privacyidea-3.14.json). Run against a server
configured by tests/privacyidea/scenarios.py --configure-only (tests/privacyidea/run.sh --serve):
    PI_URL=… PI_ADMIN_PASSWORD=… python tests/validate/record_fixtures.py > fixtures/validate/privacyidea-3.14.json
The replies are kept as privacyIDEA sent them, less `time`, `signature`, `id`, `jsonrpc`,
`version`, `versionnumber` and `detail.threadid` (values of the moment)."""
import base64, hashlib, hmac, json, os, struct, time, urllib.parse

import requests

PI = os.environ["PI_URL"]
auth = requests.post(f"{PI}/auth", data={"username": "admin", "password": os.environ["PI_ADMIN_PASSWORD"]}, timeout=30).json()
H = {"Authorization": auth["result"]["value"]["token"]}
for user in ["erin", "dave"]:
    for t in requests.get(f"{PI}/token/", params={"user": user}, headers=H, timeout=30).json()["result"]["value"]["tokens"]:
        requests.delete(f"{PI}/token/{t['serial']}", headers=H, timeout=30)
d = requests.post(f"{PI}/token/init", json={"type": "totp", "genkey": 1, "user": "erin", "realm": "pirealm"}, headers=H, timeout=30).json()["detail"]
serial = d["serial"]
q = urllib.parse.parse_qs(urllib.parse.urlparse(d["googleurl"]["value"]).query)
key = base64.b32decode(q["secret"][0] + "=" * (-len(q["secret"][0]) % 8))


def code(offset=0):
    h = hmac.new(key, struct.pack(">Q", int(time.time()) // 30 + offset), hashlib.sha1).digest()
    o = h[-1] & 15
    return str((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 10 ** 6).zfill(6)


cases = []


def record(case, request, r):
    body = r.json() if r.content else None
    if isinstance(body, dict):
        for k in ("time", "signature", "id", "jsonrpc", "version", "versionnumber"):
            body.pop(k, None)
        if isinstance(body.get("detail"), dict):
            body["detail"].pop("threadid", None)
    cases.append({"case": case, "request": request, "status": r.status_code, "body": body})


V = f"{PI}/validate/check"
wrong = "000000" if code() != "000000" else "111111"
record("current_code", "user with one TOTP token, its current code", requests.post(V, data={"user": "erin", "pass": code()}))
record("replayed_code", "the same code again", requests.post(V, data={"user": "erin", "pass": code()}))
record("wrong_code", "a wrong code of the right length", requests.post(V, data={"user": "erin", "pass": wrong}))
record("other_length", "a pass of another length", requests.post(V, data={"user": "erin", "pass": "12345"}))
record("no_tokens", "a user without tokens", requests.post(V, data={"user": "dave", "pass": "123456"}))
record("unknown_user", "an unknown user", requests.post(V, data={"user": "nobody", "pass": "123456"}))
record("no_user_or_serial", "neither user nor serial", requests.post(V, data={"pass": "123456"}))
record("unknown_serial", "an unknown serial", requests.post(V, data={"serial": "NOPE0000", "pass": "123456"}))
record("trigger_without_authorization", "triggerchallenge without Authorization", requests.post(f"{PI}/validate/triggerchallenge", data={"user": "erin"}))
r = requests.post(f"{PI}/validate/triggerchallenge", data={"user": "erin"}, headers=H)
record("trigger", "triggerchallenge for a user with one TOTP token", r)
tid = r.json()["detail"]["transaction_id"]
record("poll_code_challenge", "polltransaction of that challenge", requests.get(f"{PI}/validate/polltransaction", params={"transaction_id": tid}))
record("answer_wrong", "check with the challenge's transaction_id and a wrong code", requests.post(V, data={"user": "erin", "pass": wrong, "transaction_id": tid}))
record("answer_right", "check with the challenge's transaction_id and the next code", requests.post(V, data={"user": "erin", "pass": code(1), "transaction_id": tid}))
record("poll_unknown", "polltransaction of an unknown id", requests.get(f"{PI}/validate/polltransaction", params={"transaction_id": "12345678901234567890"}))
record("poll_without_id", "polltransaction without transaction_id", requests.get(f"{PI}/validate/polltransaction"))
record("radius_accept", "radiuscheck with the code after", requests.post(f"{PI}/validate/radiuscheck", data={"user": "erin", "pass": code(2)}))
record("radius_reject", "radiuscheck with a wrong code", requests.post(f"{PI}/validate/radiuscheck", data={"user": "erin", "pass": wrong}))
print(json.dumps({"server": "privacyIDEA 3.14 (PyPI, tests/privacyidea/constraints.txt)", "cases": cases}, indent=1, sort_keys=True))
