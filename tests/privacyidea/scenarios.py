#!/usr/bin/env python3
"""Drives the `softtoken` CLI against a real privacyIDEA server, or eduMFA with FLAVOUR=edumfa (started by
tests/privacyidea/run.sh):
configures users, realm and policies through its REST API, then checks push enrollment, Confirm,
Cancel, Suspicious, presence matching, code to the phone, expiry, a tampered challenge, a wrong
value picked, bad links, TOTP, HOTP and both two-step enrollments, each from the server's side
(/validate/polltransaction, /validate/check), never from softtoken's own word alone.

Usage: PI_URL=… PI_ADMIN_PASSWORD=… python scenarios.py PATH/TO/softtoken
       PI_URL=… PI_ADMIN_PASSWORD=… PI_STATE=DIR python scenarios.py --configure-only   (users, realm and
       policies only, for the Kotlin and Swift tests; the users file stays in DIR)
Prints `privacyidea: N passed, M failed` (`edumfa: …`). eduMFA has no presence matching, no code to the
phone, no decline reasons and no pia:// links: those scenarios run against privacyIDEA only.
"""
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse

import requests
from passlib.hash import sha512_crypt

PI = os.environ["PI_URL"]
FLAVOUR = os.environ.get("FLAVOUR", "privacyidea")
EDU = FLAVOUR == "edumfa"
# The push token type; its policies, endpoint and admin right are named after it.
PUSH = "edupush" if EDU else "push"
SERVER = "eduMFA" if EDU else "privacyIDEA"
SOFTTOKEN = os.path.abspath(sys.argv[1])
CONFIGURE_ONLY = sys.argv[1] == "--configure-only"
PIN = "482913"
USERS = ["alice", "bob", "carol", "dave", "erin", "grace", "heidi", "ivan", "judy", "kate", "olga", "pete", "kotlin", "swift", "demo"]


class Softtoken:
    """The CLI on a vault of its own."""

    def __init__(self, tmp):
        self.env = dict(os.environ, SOFTTOKEN_VAULT=os.path.join(tmp, "v.stv"), SOFTTOKEN_KEY_DIR=os.path.join(tmp, "keys"),
                        SOFTTOKEN_NEW_PIN=PIN, SOFTTOKEN_PIN=PIN)

    def run(self, *args, ok=True):
        p = subprocess.run([SOFTTOKEN, *args], env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=180)
        if ok and p.returncode != 0:
            raise AssertionError(f"softtoken {' '.join(args[:2])} exited {p.returncode}: {p.stderr.strip()}")
        return p

    def json(self, *args):
        return json.loads(self.run(*args, "--json").stdout)


class Admin:
    def __init__(self):
        r = requests.post(f"{PI}/auth", data={"username": "admin", "password": os.environ["PI_ADMIN_PASSWORD"]}, timeout=30)
        r.raise_for_status()
        self.headers = {"Authorization": r.json()["result"]["value"]["token"]}

    def call(self, method, path, **kw):
        r = requests.request(method, f"{PI}{path}", headers=self.headers, timeout=60, **kw)
        body = r.json()
        assert r.status_code == 200 and body["result"]["status"], (path, r.status_code, body)
        return body

    def init_token(self, **params):
        return self.call("POST", "/token/init", json=params)["detail"]

    def token(self, serial):
        return self.call("GET", "/token/", params={"serial": serial})["result"]["value"]["tokens"][0]


def configure(admin, tmp):
    users = os.path.join(tmp, "users.txt")
    with open(users, "w") as f:
        for i, u in enumerate(USERS):
            f.write(f"{u}:{sha512_crypt.hash(u + '-password')}:{1000 + i}:{1000 + i}:{u.title()},,,,{u}@example.org:/home/{u}:/bin/sh\n")
    admin.call("POST", "/resolver/flatusers", json={"type": "passwdresolver", "fileName": users})
    admin.call("POST", "/realm/pirealm", json={"resolvers": "flatusers"})
    admin.call("POST", "/defaultrealm/pirealm")
    p = PUSH + "_"
    policies = [
        ("push_enroll", {"scope": "enrollment", "action": f"{p}firebase_configuration=poll only, {p}registration_url={PI}/ttype/{PUSH}, {p}ttl=10, {p}ssl_verify=0"}),
        ("push_auth", {"scope": "authentication", "action": f"{p}text_on_mobile=Login from {{client_ip}} for {{serial}}?, {p}title_on_mobile=PI Test, {p}ssl_verify=0, {p}allow_polling=allow"}),
        ("twostep_params", {"scope": "enrollment", "action": "hotp_2step_clientsize=8, hotp_2step_serversize=20, hotp_2step_difficulty=10000, totp_2step_clientsize=10, totp_2step_serversize=16, totp_2step_difficulty=12000"}),
    ]
    if not EDU:
        policies += [
            ("presence_grace", {"scope": "authentication", "user": "grace", "action": "push_require_presence, push_presence_options=ALPHABETIC, push_presence_num_options=4"}),
            ("c2p_heidi", {"scope": "authentication", "user": "heidi", "action": "push_code_to_phone, push_code_to_phone_message=Type this code"}),
            ("pia_judy", {"scope": "enrollment", "user": "judy", "action": "tokenlabel={user}@{realm} #{serial}, tokenissuer=PI Test & Co/x, push_use_pia_scheme"}),
        ]
    # Last: once an admin policy exists, admins may do only what admin policies list.
    policies.append(("admin_all", {"scope": "admin", "action": f"enroll{PUSH.upper()}, enrollHOTP, enrollTOTP, enrollpin, hotp_2step=allow, totp_2step=allow, tokenlist, delete, triggerchallenge, configwrite, setpin"}))
    for name, body in policies:
        # eduMFA wants every condition named, empty when it does not apply.
        conditions = {"realm": "", "resolver": "", "user": "", "client": ""} if EDU else {}
        admin.call("POST", f"/policy/{name}", json=dict(conditions, **body, active=True))


def trigger(user):
    """A login at a relying party: the user's PIN starts a push challenge."""
    r = requests.post(f"{PI}/validate/check", data={"user": user, "pass": f"{user}-pin"}, timeout=60).json()
    assert r["result"]["authentication"] == "CHALLENGE", r
    return r["detail"]["transaction_id"], r["detail"]["multi_challenge"][0]


def poll_transaction(tid):
    return requests.get(f"{PI}/validate/polltransaction", params={"transaction_id": tid}, timeout=30).json()


def finalize(user, tid, password=""):
    return requests.post(f"{PI}/validate/check", data={"user": user, "pass": password, "transaction_id": tid}, timeout=60).json()


def pending(st, name):
    """The CLI's pending list, this identity's items."""
    out = st.json("transactions")
    return [t for t in out["transactions"] if t["identity"] == name], out.get("errors", [])


def wait_listed(st, name, count=1):
    for _ in range(20):
        items, _ = pending(st, name)
        if len(items) >= count:
            return items
        time.sleep(0.5)
    raise AssertionError(f"no challenge listed for {name}")


def enroll_push(admin, st, user, name, **extra):
    d = admin.init_token(type=PUSH, genkey=1, user=user, realm="pirealm", pin=f"{user}-pin", **extra)
    uri = d["pushurl"]["value"]
    assert uri.startswith("edumfa-push://edumfa/" if EDU else "otpauth://pipush/"), uri
    out = st.json("add", "--uri", uri, "--name", name)
    assert out["name"] == name and out["serial"] == d["serial"], out
    tok = admin.token(d["serial"])
    assert tok["rollout_state"] == "enrolled" and tok["active"], tok
    return d["serial"], uri


def proxy(tamper):
    """A proxy on the way to the server, as a started HTTP server. It adds up the time the server
    takes (`upstream_s`) and, with `tamper`, rewrites the question of every polled challenge."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def forward(self, method):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) if method == "POST" else None
            headers = {"Content-Type": self.headers["Content-Type"]} if body else {}
            started = time.perf_counter()
            r = requests.request(method, PI + self.path, data=body, headers=headers, timeout=60)
            server.upstream_s += time.perf_counter() - started
            payload = r.content
            if method == "GET" and tamper:
                doc = r.json()
                for c in doc["result"].get("value") or []:
                    c["question"] = "Login from your own office?"
                payload = json.dumps(doc).encode()
            self.send_response(r.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self):
            self.forward("GET")

        def do_POST(self):
            self.forward("POST")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.upstream_s = 0.0
    server.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def through(uri, server):
    """The enrollment link with its URL pointing at `server` (a proxy) instead."""
    return uri.replace(urllib.parse.quote(PI, safe="/"), urllib.parse.quote(server.url, safe="/"))


def main():
    if CONFIGURE_ONLY:
        configure(Admin(), os.environ["PI_STATE"])
        return
    results = []

    def check(name, fn):
        started = time.time()
        try:
            fn()
            results.append((name, True))
            print(f"ok    {name} ({time.time() - started:.1f} s)")
        except Exception as e:  # reported, then counted
            results.append((name, False))
            print(f"FAIL  {name}: {e!r}")
            traceback.print_exc(file=sys.stdout)

    admin = Admin()
    with tempfile.TemporaryDirectory() as tmp:
        configure(admin, tmp)
        st = Softtoken(tmp)
        st.run("init", "--key-store", "file")
        state = {}

        def push_enrollment():
            state["alice"] = enroll_push(admin, st, "alice", "alice-push")
            listed = {i["name"]: i for i in st.json("list")["identities"]}
            assert listed["alice-push"]["type"] == "push", listed

        def confirm():
            tid, _ = trigger("alice")
            items = wait_listed(st, "alice-push")
            # eduMFA does not fill in the text's placeholders.
            want = "Login from {client_ip} for {serial}?" if EDU else f"Login from 127.0.0.1 for {state['alice'][0]}?"
            assert items[-1]["summary"] == want, items
            out = st.json("respond", items[-1]["id"], "confirm", "--identity", "alice-push")
            assert out["state"] == "approved", out
            p = poll_transaction(tid)
            assert p["result"]["value"] is True and p["detail"]["challenge_status"] == "accept", p
            f = finalize("alice", tid)
            assert f["result"]["authentication"] == "ACCEPT", f

        def declined(response, status):
            def run():
                tid, _ = trigger("alice")
                items = wait_listed(st, "alice-push")
                out = st.json("respond", items[-1]["id"], response, "--identity", "alice-push")
                assert out["state"] in ("cancelled", "denied"), out
                p = poll_transaction(tid)
                assert p["result"]["authentication"] == "DECLINED" and p["detail"]["challenge_status"] == status, p
                assert finalize("alice", tid)["result"]["authentication"] == "REJECT"
            return run

        def presence():
            enroll_push(admin, st, "grace", "grace-push")
            tid, mc = trigger("grace")
            shown = mc["presence_answer"]
            items = wait_listed(st, "grace-push")
            choices = items[0]["choices"]
            assert shown in choices and len(choices) == 4, (shown, choices)
            wrong = next(c for c in choices if c != shown)
            p = st.run("respond", items[0]["id"], "confirm", "--identity", "grace-push", "--number", wrong, "--json", ok=False)
            assert p.returncode != 0 and "did not take" in p.stderr, (p.returncode, p.stderr)
            p = st.run("respond", items[0]["id"], "confirm", "--identity", "grace-push", ok=False)
            assert p.returncode != 0 and "pick the value" in p.stderr, p.stderr
            out = st.json("respond", items[0]["id"], "confirm", "--identity", "grace-push", "--number", shown.lower())
            assert out["state"] == "approved", out
            assert finalize("grace", tid)["result"]["authentication"] == "ACCEPT"

        def code_to_phone():
            enroll_push(admin, st, "heidi", "heidi-push")
            tid, _ = trigger("heidi")
            items = wait_listed(st, "heidi-push")
            out = st.json("respond", items[0]["id"], "confirm", "--identity", "heidi-push")
            code = out["display_code"]
            assert code and code.isdigit(), out
            f = finalize("heidi", tid, code)
            assert f["result"]["authentication"] == "ACCEPT", f

        def expiry():
            validity = PUSH.capitalize() + "ChallengeValidityTime"
            admin.call("POST", "/system/setConfig", json={validity: "3"})
            try:
                tid, _ = trigger("alice")
                items = wait_listed(st, "alice-push")
                time.sleep(4.5)
                p = st.run("respond", items[-1]["id"], "confirm", "--identity", "alice-push", "--json", ok=False)
                assert p.returncode != 0 and ("expired" in p.stderr), (p.returncode, p.stderr)
                assert poll_transaction(tid)["result"]["value"] is False
            finally:
                admin.call("POST", "/system/setConfig", json={validity: "120"})

        def tampered():
            server = proxy(tamper=True)
            try:
                d = admin.init_token(type=PUSH, genkey=1, user="ivan", realm="pirealm", pin="ivan-pin")
                uri = through(d["pushurl"]["value"], server)
                assert server.url in urllib.parse.unquote(uri), uri
                st.json("add", "--uri", uri, "--name", "ivan-push")
                tid, _ = trigger("ivan")
                time.sleep(0.5)
                items, errors = pending(st, "ivan-push")
                assert items == [], items
                assert any("not signed by its server" in e["error"] for e in errors), errors
                assert poll_transaction(tid)["detail"]["challenge_status"] == "pending"
                st.json("remove", "ivan-push", "--yes")
            finally:
                server.shutdown()
                server.server_close()

        def pia_scheme_and_label():
            d = admin.init_token(type="push", genkey=1, user="judy", realm="pirealm", pin="judy-pin")
            uri = d["pushurl"]["value"]
            assert uri.startswith("pia://pipush/"), uri
            out = st.json("add", "--uri", uri)
            assert out["name"] == f"judy@pirealm #{d['serial']}", out

        def bad_links():
            before = len(st.json("list")["identities"])
            d = admin.init_token(type=PUSH, genkey=1, user="kate", realm="pirealm", pin="kate-pin")
            uri = d["pushurl"]["value"]
            cases = [
                (uri.replace("v=1", "v=2"), "version"),
                (uri.replace("&serial=", "&x="), "has no serial"),
                (uri.replace("url=http%3A//127.0.0.1", "url=http%3A//10.9.9.9"), "plain http"),
                (uri.replace(urllib.parse.quote(PI, safe="/"), "http%3A//127.0.0.1%3A9"), "unreachable"),
                (uri.replace("enrollment_credential=", "enrollment_credential=00"), "Invalid enrollment credential"),
            ]
            for bad, words in cases:
                p = st.run("add", "--uri", bad, ok=False)
                assert p.returncode != 0 and words in p.stderr, (words, p.returncode, p.stderr)
            assert len(st.json("list")["identities"]) == before, "nothing stored half-way"
            # The good link still works after all of that.
            st.json("add", "--uri", uri, "--name", "kate-push")

        def otp(kind, user, **extra):
            def run():
                d = admin.init_token(type=kind, genkey=1, user=user, realm="pirealm", pin=f"{user}-pin", **extra)
                out = st.json("add", "--uri", d["googleurl"]["value"], "--name", f"{user}-{kind}")
                code = st.json("code", f"{user}-{kind}")["codes"][0]["code"]
                r = requests.post(f"{PI}/validate/check", data={"user": user, "pass": f"{user}-pin{code}"}, timeout=60).json()
                assert r["result"]["authentication"] == "ACCEPT", (out, r)
            return run

        def two_step(kind, user):
            def run():
                d = admin.init_token(type=kind, genkey=1, user=user, realm="pirealm", pin=f"{user}-pin", **{"2stepinit": 1})
                uri = d["googleurl"]["value"]
                assert "2step_salt=" in uri, uri
                out = st.json("add", "--uri", uri, "--name", f"{user}-{kind}")
                part = out["client_part"]
                assert part and len(part) >= 16, out
                admin.init_token(serial=d["serial"], type=kind, otpkey=part, otpkeyformat="base32check", user=user, realm="pirealm")
                token = admin.token(d["serial"])
                assert token["active"] and token["rollout_state"] in ("enrolled", ""), token
                code = st.json("code", f"{user}-{kind}")["codes"][0]["code"]
                r = requests.post(f"{PI}/validate/check", data={"user": user, "pass": f"{user}-pin{code}"}, timeout=60).json()
                assert r["result"]["authentication"] == "ACCEPT", r
            return run

        def timed_path():
            """The whole path timed once: enrollment (key, step 2, first poll), a login's trigger, the
            list, the Confirm and the server's verdict; the server's share measured by a proxy."""
            server = proxy(tamper=False)
            try:
                d = admin.init_token(type=PUSH, genkey=1, user="pete", realm="pirealm", pin="pete-pin")
                started = time.perf_counter()
                st.json("add", "--uri", through(d["pushurl"]["value"], server), "--name", "pete-push")
                enrolled = time.perf_counter()
                t0 = time.perf_counter()
                tid, _ = trigger("pete")
                trigger_s = time.perf_counter() - t0
                items = wait_listed(st, "pete-push")
                out = st.json("respond", items[-1]["id"], "confirm", "--identity", "pete-push")
                t0 = time.perf_counter()
                assert out["state"] == "approved" and poll_transaction(tid)["result"]["value"] is True
                verdict_s = time.perf_counter() - t0
                total = time.perf_counter() - started
                at_server = server.upstream_s + trigger_s + verdict_s
                print(f"bench: {FLAVOUR} enrollment -> sign-in -> Confirm: {total:.2f} s in all (enrollment {enrolled - started:.2f} s), "
                      f"{at_server:.2f} s of it at the server ({100 * at_server / total:.0f}%; its login check {trigger_s:.2f} s)")
            finally:
                server.shutdown()
                server.server_close()

        def demo():
            env = dict(st.env, SOFTTOKEN_PRIVACYIDEA_ADMIN_PASSWORD=os.environ["PI_ADMIN_PASSWORD"])
            p = subprocess.run([SOFTTOKEN, "demo", "--json", "--privacyidea", PI, "--privacyidea-user", "demo"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
            assert p.returncode == 0, p.stderr
            out = json.loads(p.stdout)["privacyidea"]
            assert out["state"] == "approved" and out["challenge_status"] == "accept" and out["login"] == "ACCEPT", out

        def remove():
            out = st.json("remove", "kate-push", "--yes")
            assert f"stays enrolled at {SERVER}" in (out.get("left_at_server") or ""), out

        check("push enrollment (4096-bit key, first poll)", push_enrollment)
        check("confirm: accepted at the server, login finalised", confirm)
        # eduMFA reads no decline reasons: both declines end as "declined" there.
        check("cancel: declined as cancelled", declined("cancel", "declined" if EDU else "cancelled"))
        check("suspicious: declined (unknown_trigger)", declined("suspicious", "declined"))
        if not EDU:
            check("presence: the value shown must be picked", presence)
            check("code to phone: the code shown finishes the login", code_to_phone)
        check("expired challenge: reported, not answered", expiry)
        check("tampered challenge: refused, never listed", tampered)
        if not EDU:
            check("pia:// scheme, encoded label and issuer", pia_scheme_and_label)
        check("bad links: each a clear error, nothing stored", bad_links)
        check("TOTP token", otp("totp", "bob"))
        check("TOTP SHA256, 8 digits, 60 s", otp("totp", "olga", hashlib="sha256", otplen=8, timeStep=60))
        check("HOTP token", otp("hotp", "carol"))
        check("two-step HOTP", two_step("hotp", "dave"))
        check("two-step TOTP", two_step("totp", "erin"))
        check("the whole path, timed (the server's share measured)", timed_path)
        check("remove says what stays at the server", remove)
        if not EDU:
            check("softtoken demo --privacyidea: a sign-in shown end to end", demo)

    passed = sum(1 for _, ok in results if ok)
    print(f"{FLAVOUR}: {passed} passed, {len(results) - passed} failed")
    sys.exit(0 if passed == len(results) else 1)


if __name__ == "__main__":
    main()
