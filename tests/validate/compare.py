#!/usr/bin/env python3
"""The validate API, side by side: sends the same requests, in privacyIDEA's formats, to a real
privacyIDEA server and to softtoken-provider, and compares the decisions and the fields the
plugins read (HTTP status, result.status, result.value, result.authentication, detail.message,
detail.serial, detail.type, error code, the challenge's shape). Then the push path, which only
softtoken-provider has for Entrust-style tokens: a challenge the softtoken CLI answers Confirm (with
the number), Cancel or Suspicious, polled and finalised as a plugin does.

Usage: PI_URL=… PI_ADMIN_PASSWORD=… python compare.py PROVIDER-BINARY SOFTTOKEN-BINARY
(the privacyIDEA server configured by tests/privacyidea/scenarios.py --configure-only: users,
realm `pirealm`, admin policies). Prints `validate: N passed, M failed`.
"""
import base64, hashlib, hmac, json, os, socket, struct, subprocess, sys, tempfile, time, traceback, urllib.parse

import requests

PI = os.environ["PI_URL"]
PROVIDER, SOFTTOKEN = (os.path.abspath(a) for a in sys.argv[1:3])
PIN = "482913"
CAROL_PIN = "carol-pin-1"


def code(secret, counter, digits=6, algorithm="sha1"):
    h = hmac.new(secret, struct.pack(">Q", counter), getattr(hashlib, algorithm)).digest()
    o = h[-1] & 15
    return str((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 10 ** digits).zfill(digits)


def secret_of(uri):
    q = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
    s = q["secret"][0]
    return base64.b32decode(s + "=" * (-len(s) % 8))


class Side:
    """One server: its URL, realm, the serials of the scenario's tokens, and how to reach its admin side."""

    def __init__(self, name, url, realm, auth):
        self.name, self.url, self.realm, self.auth = name, url, realm, auth
        self.serials, self.secrets = {}, {}

    def call(self, method, path, **kw):
        r = requests.request(method, self.url + path, timeout=60, **kw)
        try:
            body = r.json()
        except ValueError:
            body = None
        return r.status_code, body


def privacyidea_side():
    r = requests.post(f"{PI}/auth", data={"username": "admin", "password": os.environ["PI_ADMIN_PASSWORD"]}, timeout=30).json()
    side = Side("privacyIDEA", PI, "pirealm", r["result"]["value"]["token"])
    headers = {"Authorization": side.auth}
    for user in ["kate", "olga", "ivan", "pete", "carol"]:
        # Tokens of earlier runs on this server (it is shared with the Kotlin and Swift suites) go first.
        for t in requests.get(f"{PI}/token/", params={"user": user}, headers=headers, timeout=30).json()["result"]["value"]["tokens"]:
            requests.delete(f"{PI}/token/{t['serial']}", headers=headers, timeout=30)
    for user, kind, label in [("kate", "totp", "kate"), ("olga", "hotp", "olga"), ("ivan", "totp", "ivan-totp"), ("ivan", "hotp", "ivan-hotp")]:
        d = requests.post(f"{PI}/token/init", json={"type": kind, "genkey": 1, "user": user, "realm": "pirealm"}, headers=headers, timeout=30).json()["detail"]
        side.serials[label] = d["serial"]
        side.secrets[label] = secret_of(d["googleurl"]["value"])
    # carol's token has a PIN, typed before the code (otppin tokenpin, privacyIDEA's default).
    d = requests.post(f"{PI}/token/init", json={"type": "totp", "genkey": 1, "user": "carol", "realm": "pirealm", "pin": CAROL_PIN}, headers=headers, timeout=30).json()["detail"]
    side.serials["carol"], side.secrets["carol"] = d["serial"], secret_of(d["googleurl"]["value"])
    return side


def provider_side(state):
    db = os.path.join(state, "provider.db")
    run = lambda *a: subprocess.run([PROVIDER, "--database", db, *a, "--json"], check=True, stdout=subprocess.PIPE, text=True,
                                    env=dict(os.environ, SOFTTOKEN_PROVIDER_PASSWORD="a-long-password-1")).stdout
    for u in ["kate", "olga", "ivan", "pete", "dora", "sam", "carol"]:
        run("user", "add", u)
    token = json.loads(run("api-token", "create"))["token"]
    proc = subprocess.Popen([PROVIDER, "--database", db, "serve", "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    url = proc.stdout.readline().split()[-1]
    side = Side("softtoken-provider", url, "softtoken", token)
    side.proc, side.run = proc, run
    for user, kind, label in [("kate", "totp", "kate"), ("olga", "hotp", "olga"), ("ivan", "totp", "ivan-totp"), ("ivan", "hotp", "ivan-hotp")]:
        issued = json.loads(run("issue", "--user", user, "--kind", kind))
        side.serials[label] = issued["serial"]
        side.secrets[label] = secret_of(issued["uri"])
    issued = json.loads(run("issue", "--user", "carol", "--kind", "totp"))
    side.serials["carol"], side.secrets["carol"] = issued["serial"], secret_of(issued["uri"])
    subprocess.run([PROVIDER, "--database", db, "set-pin", issued["serial"]], check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, SOFTTOKEN_TOKEN_PIN=CAROL_PIN))
    return side


def totp_now(side, label, offset=0):
    return code(side.secrets[label], int(time.time()) // 30 + offset)


# What a plugin reads of a reply.
def shape(side, status, body):
    if body is None:
        return {"status": status}
    result, detail = body.get("result", {}), body.get("detail") or {}
    out = {"status": status, "result.status": result.get("status")}
    if "error" in result:
        out["error.code"] = result["error"]["code"]
        return out
    out["value"] = result.get("value")
    out["authentication"] = result.get("authentication")
    if "message" in detail:
        out["message"] = detail["message"]
    for key in ("serial", "type", "otplen", "challenge_status"):
        if key in detail:
            value = detail[key]
            if key == "serial":
                value = next((label for label, s in side.serials.items() if s == value), "?")
            out[key] = value
    if "multi_challenge" in detail:
        out["challenges"] = sorted((next((l for l, s in side.serials.items() if s == c["serial"]), "?"), c["type"], c["client_mode"], c["message"])
                                   for c in detail["multi_challenge"])
        out["one_transaction_id"] = len({c["transaction_id"] for c in detail["multi_challenge"]} | {detail.get("transaction_id")}) <= 1
    return out


def scenario(sides):
    """(name, request maker) pairs; each maker gets a side and returns (status, body)."""
    V = "/validate/check"
    steps = [
        ("a current TOTP code", lambda s: s.call("POST", V, data={"user": "kate", "pass": totp_now(s, "kate")})),
        ("the same code again", lambda s: s.call("POST", V, data={"user": "kate", "pass": totp_now(s, "kate")})),
        ("a wrong code", lambda s: s.call("POST", V, data={"user": "kate", "pass": "000000" if totp_now(s, "kate", 1) != "000000" else "111111"})),
        ("a code of another length", lambda s: s.call("POST", V, data={"user": "kate", "pass": "12345"})),
        ("an empty pass without push", lambda s: s.call("POST", V, data={"user": "kate", "pass": ""})),
        ("by serial, the next code", lambda s: s.call("POST", V, data={"serial": s.serials["kate"], "pass": totp_now(s, "kate", 1)})),
        ("JSON body, the code after", lambda s: s.call("POST", V, json={"user": "kate", "pass": totp_now(s, "kate", 2)})),
        ("GET, a wrong code", lambda s: s.call("GET", V, params={"user": "kate", "pass": "999999" if totp_now(s, "kate") != "999999" else "888888"})),
        ("the user's realm", lambda s: s.call("POST", V, data={"user": "kate", "realm": s.realm, "pass": "1"})),
        ("HOTP counter 0", lambda s: s.call("POST", V, data={"user": "olga", "pass": code(s.secrets["olga"], 0)})),
        ("HOTP counter 0 again", lambda s: s.call("POST", V, data={"user": "olga", "pass": code(s.secrets["olga"], 0)})),
        ("HOTP 5 ahead", lambda s: s.call("POST", V, data={"user": "olga", "pass": code(s.secrets["olga"], 5)})),
        ("HOTP 40 ahead", lambda s: s.call("POST", V, data={"user": "olga", "pass": code(s.secrets["olga"], 40)})),
        ("two tokens, the TOTP's code", lambda s: s.call("POST", V, data={"user": "ivan", "pass": totp_now(s, "ivan-totp")})),
        ("two tokens, a wrong code", lambda s: s.call("POST", V, data={"user": "ivan", "pass": "000000"})),
        ("a user without tokens", lambda s: s.call("POST", V, data={"user": "pete", "pass": "123456"})),
        ("an unknown user", lambda s: s.call("POST", V, data={"user": "nobody", "pass": "123456"})),
        ("an unknown realm", lambda s: s.call("POST", V, data={"user": "kate", "realm": "nope", "pass": "123456"})),
        ("neither user nor serial", lambda s: s.call("POST", V, data={"pass": "123456"})),
        ("an unknown serial", lambda s: s.call("POST", V, data={"serial": "NOPE0000", "pass": "123456"})),
        ("another user's serial", lambda s: s.call("POST", V, data={"serial": s.serials["kate"], "user": "ivan", "pass": "123456"})),
        ("radiuscheck, a good code", lambda s: s.call("POST", "/validate/radiuscheck", data={"user": "olga", "pass": code(s.secrets["olga"], 6)})),
        ("radiuscheck, a bad code", lambda s: s.call("POST", "/validate/radiuscheck", data={"user": "olga", "pass": "1"})),
        ("radiuscheck, no pass", lambda s: s.call("POST", "/validate/radiuscheck", data={"user": "olga"})),
        ("triggerchallenge without Authorization", lambda s: s.call("POST", "/validate/triggerchallenge", data={"user": "kate"})),
        ("triggerchallenge, a user without tokens", lambda s: s.call("POST", "/validate/triggerchallenge", data={"user": "pete"}, headers={"Authorization": s.auth})),
        ("triggerchallenge, no user", lambda s: s.call("POST", "/validate/triggerchallenge", data={}, headers={"Authorization": s.auth})),
        ("polltransaction, unknown id", lambda s: s.call("GET", "/validate/polltransaction", params={"transaction_id": "12345678901234567890"})),
        ("polltransaction, no id", lambda s: s.call("GET", "/validate/polltransaction")),
        ("PIN + the current code", lambda s: s.call("POST", V, data={"user": "carol", "pass": CAROL_PIN + totp_now(s, "carol")})),
        ("the next code without the PIN", lambda s: s.call("POST", V, data={"user": "carol", "pass": totp_now(s, "carol", 1)})),
        ("a wrong PIN + the next code", lambda s: s.call("POST", V, data={"user": "carol", "pass": "carol-pin-2" + totp_now(s, "carol", 1)})),
        ("the PIN alone (no push)", lambda s: s.call("POST", V, data={"user": "carol", "pass": CAROL_PIN})),
        ("PIN + the next code", lambda s: s.call("POST", V, data={"user": "carol", "pass": CAROL_PIN + totp_now(s, "carol", 1)})),
        ("check, unknown transaction", lambda s: s.call("POST", V, data={"user": "kate", "pass": "123456", "transaction_id": "11111111111111111111"})),
    ]
    return steps


def challenge_steps(side):
    """Challenge-response with codes: trigger for ivan (two tokens), a wrong answer, another user's, the right one, again."""
    out = []
    st, body = side.call("POST", "/validate/triggerchallenge", data={"user": "ivan"}, headers={"Authorization": side.auth})
    out.append(("triggerchallenge for two tokens", shape(side, st, body)))
    tid = body["detail"]["transaction_id"]
    out.append(("polltransaction of a code challenge", shape(side, *side.call("GET", "/validate/polltransaction", params={"transaction_id": tid}))))
    out.append(("a wrong answer", shape(side, *side.call("POST", "/validate/check", data={"user": "ivan", "pass": "000000", "transaction_id": tid}))))
    out.append(("another user answers it", shape(side, *side.call("POST", "/validate/check", data={"user": "kate", "pass": totp_now(side, "kate", 3), "transaction_id": tid}))))
    out.append(("the right answer", shape(side, *side.call("POST", "/validate/check", data={"user": "ivan", "pass": code(side.secrets["ivan-hotp"], 0), "transaction_id": tid}))))
    out.append(("answered again", shape(side, *side.call("POST", "/validate/check", data={"user": "ivan", "pass": code(side.secrets["ivan-hotp"], 1), "transaction_id": tid}))))
    return out


def fail_counter_steps(side):
    out = []
    for _ in range(11):
        st, body = side.call("POST", "/validate/check", data={"user": "olga", "pass": "000000"})
    out.append(("after 11 wrong codes", shape(side, st, body)))
    out.append(("then a right code", shape(side, *side.call("POST", "/validate/check", data={"user": "olga", "pass": code(side.secrets["olga"], 7)}))))
    return out


def push_scenarios(side, state, results):
    """softtoken-provider only: Entrust-style tokens activated online, answered by the softtoken CLI."""
    env = dict(os.environ, SOFTTOKEN_VAULT=os.path.join(state, "v.stv"), SOFTTOKEN_KEY_DIR=os.path.join(state, "keys"), SOFTTOKEN_NEW_PIN=PIN, SOFTTOKEN_PIN=PIN)
    st = lambda *a: json.loads(subprocess.run([SOFTTOKEN, *a, "--json"], env=env, check=True, stdout=subprocess.PIPE, text=True, timeout=120).stdout)
    subprocess.run([SOFTTOKEN, "init", "--key-store", "file"], env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for user in ["dora", "sam"]:
        issued = json.loads(side.run("issue", "--user", user, "--online", "--base-url", side.url))
        st("activate-link", issued["link"], "--name", user)

    def check(name, ok, detail=""):
        results.append((name, ok, detail))

    def pending(user):
        for _ in range(30):
            listed = [t for t in st("transactions")["transactions"] if t["identity"] == user]
            if listed:
                return listed[0]
            time.sleep(0.5)
        raise AssertionError(f"no transaction listed for {user}")

    # Confirm with the number shown to the login page.
    st_, body = side.call("POST", "/validate/check", data={"user": "dora", "pass": ""})
    mc = body["detail"]["multi_challenge"][0]
    check("an empty pass starts a push challenge", body["result"]["authentication"] == "CHALLENGE" and mc["type"] == "push" and mc["client_mode"] == "poll", json.dumps(body))
    check("the login side shows the number", "presence_answer" in mc and mc["presence_answer"] in mc["message"], json.dumps(mc))
    tid = body["detail"]["transaction_id"]
    poll = lambda t: side.call("GET", "/validate/polltransaction", params={"transaction_id": t})[1]
    check("polltransaction is false while pending", poll(tid)["result"]["value"] is False and poll(tid)["detail"]["challenge_status"] == "pending")
    tx = pending("dora")
    wrong = str(10 + (int(mc["presence_answer"]) - 9) % 90)
    r = subprocess.run([SOFTTOKEN, "respond", tx["id"], "confirm", "--identity", "dora", "--number", wrong, "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    check("a wrong number is refused by the provider", r.returncode != 0 and poll(tid)["result"]["value"] is False, r.stderr)
    check("and finalising it is rejected", side.call("POST", "/validate/check", data={"user": "dora", "pass": "", "transaction_id": tid})[1]["result"]["value"] is False)
    body = side.call("POST", "/validate/check", data={"user": "dora", "pass": ""})[1]
    tid, number = body["detail"]["transaction_id"], body["detail"]["multi_challenge"][0]["presence_answer"]
    tx = pending("dora")
    st("respond", tx["id"], "confirm", "--identity", "dora", "--number", number)
    p = poll(tid)
    check("polltransaction turns true after Confirm", p["result"]["value"] is True and p["detail"]["challenge_status"] == "accept", json.dumps(p))
    fin = side.call("POST", "/validate/check", data={"user": "dora", "pass": "", "transaction_id": tid})[1]
    check("finalising accepts once", fin["result"]["authentication"] == "ACCEPT" and fin["detail"]["message"] == "Found matching challenge", json.dumps(fin))
    again = side.call("POST", "/validate/check", data={"user": "dora", "pass": "", "transaction_id": tid})[1]
    check("a second finalise is rejected", again["result"]["value"] is False, json.dumps(again))
    stolen = side.call("POST", "/validate/check", data={"user": "sam", "pass": "", "transaction_id": tid})[1]
    check("another user cannot finalise it", stolen["result"]["value"] is False, json.dumps(stolen))
    # Suspicious and Cancel never pass.
    for response, status in [("suspicious", "declined"), ("cancel", "cancelled")]:
        body = side.call("POST", "/validate/triggerchallenge", data={"user": "sam"}, headers={"Authorization": side.auth})[1]
        tid = body["detail"]["transaction_id"]
        tx = pending("sam")
        st("respond", tx["id"], response, "--identity", "sam")
        p = poll(tid)
        ok = p["result"]["value"] is False and p["result"]["authentication"] == "DECLINED" and p["detail"]["challenge_status"] == status
        if response == "suspicious":
            ok = ok and p["detail"].get("suspicious") is True
        check(f"{response} is declined and never passes", ok and side.call("POST", "/validate/check", data={"user": "sam", "pass": "", "transaction_id": tid})[1]["result"]["value"] is False, json.dumps(p))
    # The audit log has every request.
    audit = [json.loads(l) for l in subprocess.run([PROVIDER, "--database", os.path.join(state, "provider.db"), "audit", "--jsonl", "--user", "sam"], check=True, stdout=subprocess.PIPE, text=True).stdout.splitlines()]
    check("the audit log records the declined pushes", sum(1 for e in audit if e["decision"] == "DECLINED") >= 2 and all(e["address"] == "127.0.0.1" for e in audit), json.dumps(audit[-3:]))


def main():
    results = []
    with tempfile.TemporaryDirectory() as state:
        pi, st = privacyidea_side(), provider_side(state)
        try:
            for name, make in scenario([pi, st]):
                got = [shape(s, *make(s)) for s in (pi, st)]
                results.append((name, got[0] == got[1], f"privacyIDEA {got[0]}\n    softtoken  {got[1]}"))
            for (name, a), (_, b) in zip(challenge_steps(pi), challenge_steps(st)):
                results.append((name, a == b, f"privacyIDEA {a}\n    softtoken  {b}"))
            for (name, a), (_, b) in zip(fail_counter_steps(pi), fail_counter_steps(st)):
                results.append((name, a == b, f"privacyIDEA {a}\n    softtoken  {b}"))
            try:
                push_scenarios(st, state, results)
            except Exception:
                results.append(("push scenarios", False, traceback.format_exc()))
        finally:
            st.proc.terminate()
    failed = 0
    for name, ok, detail in results:
        print(("ok   " if ok else "FAIL ") + name)
        if not ok:
            failed += 1
            print("    " + detail)
    print(f"validate: {len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
