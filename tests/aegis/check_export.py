#!/usr/bin/env python3
"""Reads softtoken's Aegis exports the way Aegis's published format (docs/vault.md of the Aegis
repository) says, with an independent implementation (Python's `cryptography`), not softtoken's
own reader: the encrypted export's password slot is unwrapped with scrypt(N, r, p, salt) and
AES-256-GCM, the database decrypted with the master key, and every entry compared with the tokens
of fixtures/imports/expected.json. The plain export is checked the same way.

Usage: python3 tests/aegis/check_export.py PATH/TO/softtoken   (prints `aegis-reader: N passed, M failed`)
"""
import base64
import json
import os
import subprocess
import sys
import tempfile

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
PASSWORD = "aegis export password"


def run(softtoken, env, *args):
    return subprocess.run([softtoken, *args], env=env, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout


def decrypt(doc):
    header = doc["header"]
    for slot in header["slots"]:
        if slot["type"] != 1:
            continue
        key = Scrypt(salt=bytes.fromhex(slot["salt"]), length=32, n=slot["n"], r=slot["r"], p=slot["p"]).derive(PASSWORD.encode())
        params = slot["key_params"]
        master = AESGCM(key).decrypt(bytes.fromhex(params["nonce"]), bytes.fromhex(slot["key"]) + bytes.fromhex(params["tag"]), None)
        p = header["params"]
        plain = AESGCM(master).decrypt(bytes.fromhex(p["nonce"]), base64.b64decode(doc["db"]) + bytes.fromhex(p["tag"]), None)
        return json.loads(plain)
    raise AssertionError("no password slot")


def check(db, tokens):
    assert db["version"] in (1, 2, 3), db["version"]
    entries = {(e["issuer"], e["name"]): e for e in db["entries"]}
    assert len(entries) == len(tokens), (len(entries), len(tokens))
    for t in tokens:
        e = entries[(t["issuer"], t["account"])]
        assert e["type"] == t["kind"], (e["type"], t)
        info = e["info"]
        secret = base64.b32decode(info["secret"] + "=" * (-len(info["secret"]) % 8))
        assert secret.hex() == t["secret"], t["id"]
        assert (info["algo"], info["digits"]) == (t["algorithm"], t["digits"]), (info, t)
        if t["kind"] == "hotp":
            assert info["counter"] == t["counter"], (info, t)
        else:
            assert info["period"] == t["period"], (info, t)
        assert len(e["uuid"]) == 36


def main():
    softtoken = os.path.abspath(sys.argv[1])
    expected = json.load(open(os.path.join(ROOT, "fixtures", "imports", "expected.json")))
    # The tokens the imported file holds (expected.json also lists tokens only other files hold).
    held = next(f["tokens"] for f in expected["files"] if f["file"] == "aegis-plain.json")
    tokens = [t for t in expected["tokens"] if t["id"] in held]
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, SOFTTOKEN_VAULT=os.path.join(tmp, "v.stv"), SOFTTOKEN_KEY_DIR=os.path.join(tmp, "keys"),
                   SOFTTOKEN_NEW_PIN="482913", SOFTTOKEN_PIN="482913", SOFTTOKEN_BACKUP_PASSWORD=PASSWORD)
        env.pop("SOFTTOKEN_IMPORT_PASSWORD", None)
        run(softtoken, env, "init", "--key-store", "file")
        run(softtoken, env, "import", os.path.join(ROOT, "fixtures", "imports", "aegis-plain.json"))
        for fmt, read in (("aegis", decrypt), ("aegis-plain", lambda d: d["db"])):
            out = os.path.join(tmp, fmt + ".json")
            try:
                run(softtoken, env, "export", "--format", fmt, "--out", out)
                doc = json.load(open(out))
                assert doc["version"] == 1
                if fmt == "aegis-plain":
                    assert doc["header"] == {"slots": None, "params": None}
                check(read(doc), tokens)
                passed += 1
            except Exception as e:  # reported, then counted
                print(f"aegis-reader: {fmt}: {e!r}", file=sys.stderr)
                failed += 1
    print(f"aegis-reader: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
