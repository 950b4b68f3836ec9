#!/usr/bin/env python3
"""softtoken-provider with users from a real slapd (tests/ldap/run.sh starts it).
Usage: scenarios.py BIN_DIR SLAPD_DIR LDAP_PORT LDAPS_PORT. Prints `ldap: N passed, M failed`."""
import base64, hashlib, hmac, json, os, re, struct, subprocess, sys, tempfile, time, traceback, urllib.parse, urllib.request, http.cookiejar

BIN, SLAPD, LDAP_PORT, LDAPS_PORT = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
PROVIDER = os.path.join(BIN, "softtoken-provider")
work = tempfile.mkdtemp()
state = os.path.join(work, "provider.db")
secret = os.path.join(work, "directory-password")
with open(os.open(secret, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
    f.write("service-account-password\n")
results = []


def provider(*args, ok=True):
    p = subprocess.run([PROVIDER, "--database", state, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    if ok and p.returncode != 0:
        raise AssertionError(f"softtoken-provider {' '.join(args)}: {p.stderr.strip()}")
    return p


def check(name, ok, detail=""):
    results.append((name, bool(ok), detail))


def directory_set(*extra, ok=True, url=None):
    return provider("directory", "set", "--url", url or f"ldap://127.0.0.1:{LDAP_PORT}", "--bind-dn", "cn=softtoken,dc=example,dc=org",
                    "--password-file", secret, "--base-dn", "dc=example,dc=org", *extra, ok=ok)


def code(uri, offset=0):
    q = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)
    key = base64.b32decode(q["secret"][0] + "=" * (-len(q["secret"][0]) % 8))
    h = hmac.new(key, struct.pack(">Q", int(time.time()) // 30 + offset), hashlib.sha1).digest()
    o = h[-1] & 15
    return str((struct.unpack(">I", h[o:o + 4])[0] & 0x7FFFFFFF) % 10 ** 6).zfill(6)


def scenarios():
    # Settings: refused without the right password or a trusted certificate; then plain, StartTLS, ldaps.
    with open(os.open(os.path.join(work, "wrong"), os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
        f.write("not-the-password\n")
    p = provider("directory", "set", "--url", f"ldap://127.0.0.1:{LDAP_PORT}", "--bind-dn", "cn=softtoken,dc=example,dc=org",
                 "--password-file", os.path.join(work, "wrong"), "--base-dn", "dc=example,dc=org", ok=False)
    check("a wrong service password is refused when the directory is set", p.returncode != 0 and "refused the service account" in p.stderr, p.stderr)
    os.chmod(secret, 0o644)
    p = directory_set(ok=False)
    check("a password file others can read is refused", p.returncode != 0 and "other users" in p.stderr, p.stderr)
    os.chmod(secret, 0o600)
    p = directory_set(url=f"ldaps://localhost:{LDAPS_PORT}", ok=False)
    check("ldaps:// with a certificate of an unknown CA is refused", p.returncode != 0, p.stderr)
    p = directory_set("--ca-file", os.path.join(SLAPD, "ca.pem"), url=f"ldaps://localhost:{LDAPS_PORT}", ok=False)
    check("ldaps:// with the directory's CA binds", p.returncode == 0, p.stderr)
    p = directory_set("--start-tls", "--ca-file", os.path.join(SLAPD, "ca.pem"), url=f"ldap://localhost:{LDAP_PORT}", ok=False)
    check("StartTLS with the directory's CA binds", p.returncode == 0, p.stderr)
    p = provider("directory", "set", "--url", "ldap://ldap.example.org", "--bind-dn", "cn=x", "--password-file", secret, "--base-dn", "dc=x", ok=False)
    check("a remote directory without TLS is refused", p.returncode != 0 and "in clear" in p.stderr, p.stderr)
    # Lookups.
    alice = json.loads(provider("directory", "lookup", "alice", "--json").stdout)
    check("a directory user is found with their e-mail", alice["found"] and alice["email"] == "alice@example.org" and alice["dn"].startswith("uid=alice,"), json.dumps(alice))
    check("an unknown name is not found", not json.loads(provider("directory", "lookup", "nobody", "--json").stdout)["found"])
    p = provider("directory", "lookup", "twin", ok=False)
    check("a name matching two entries is refused", p.returncode != 0 and "2 directory entries" in p.stderr, p.stderr)
    p = provider("directory", "lookup", "*", "--json", ok=False)
    check("a filter character in a name finds nothing (filter injection)", p.returncode == 0 and not json.loads(p.stdout)["found"], p.stdout + p.stderr)
    # A token for a directory user never added locally, checked over HTTP.
    issued = json.loads(provider("issue", "--user", "alice", "--kind", "totp", "--json").stdout)
    users = json.loads(provider("user", "list", "--json").stdout)["users"]
    check("the directory user became known with their e-mail", any(u["name"] == "alice" and u["email"] == "alice@example.org" for u in users), json.dumps(users))
    serve = subprocess.Popen([PROVIDER, "--database", state, "serve", "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        url = serve.stdout.readline().split()[-1]
        post = lambda path, data, headers=None: json.loads(urllib.request.urlopen(urllib.request.Request(url + path, data=urllib.parse.urlencode(data).encode(), headers=headers or {}), timeout=30).read())
        r = post("/validate/check", {"user": "alice", "pass": code(issued["uri"])})
        check("/validate/check accepts the directory user's code", r["result"]["authentication"] == "ACCEPT", json.dumps(r))
        r = post("/validate/check", {"user": "ALICE", "pass": code(issued["uri"], 1)})
        check("the name in another case is the same user (one user per entry)", r["result"]["authentication"] == "ACCEPT" and r["detail"]["serial"] == issued["serial"], json.dumps(r))
        users = json.loads(provider("user", "list", "--json").stdout)["users"]
        check("no second user was made for ALICE", [u["name"] for u in users].count("ALICE") == 0, json.dumps(users))
        try:
            post("/validate/check", {"user": "nobody", "pass": "123456"})
            check("an unknown directory name is ERR904", False)
        except urllib.error.HTTPError as e:
            body = json.loads(e.read())
            check("an unknown directory name is ERR904", e.code == 400 and body["result"]["error"]["code"] == 904, json.dumps(body))
        # The portal's sign-in with the directory password.
        def sign_in(name, password):
            jar = http.cookiejar.CookieJar()
            opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())
            page = opener.open(url + "/portal/login", timeout=30).read().decode()
            csrf = re.search(r'name="login_csrf" value="([0-9a-f]+)"', page).group(1)
            req = urllib.request.Request(url + "/portal/login", data=urllib.parse.urlencode({"name": name, "password": password, "login_csrf": csrf}).encode(),
                                         headers={"Origin": url, "Content-Type": "application/x-www-form-urlencoded"})
            try:
                return opener.open(req, timeout=30).status
            except urllib.error.HTTPError as e:
                return e.code
        check("the portal signs a directory user in with the directory password", sign_in("bob", "bob-directory-password") == 303)
        check("a wrong directory password does not sign in", sign_in("bob", "wrong-password-1") == 401)
        check("an empty password never signs in (LDAP's anonymous bind)", sign_in("alice", "") in (400, 401))
        check("another entry's password does not sign in", sign_in("alice", "bob-directory-password") == 401)
    finally:
        serve.terminate()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k):
        return None

    def http_error_303(self, req, fp, code, msg, headers):
        return fp


try:
    scenarios()
except Exception:
    results.append(("scenarios", False, traceback.format_exc()))
failed = 0
for name, ok, detail in results:
    print(("ok   " if ok else "FAIL ") + name)
    if not ok:
        failed += 1
        print("    " + detail.strip().replace("\n", "\n    "))
print(f"ldap: {len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
