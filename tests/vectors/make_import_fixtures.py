#!/usr/bin/env python3
"""Builds fixtures/imports/: one export file per format and version softtoken imports, written from
each app's published format description with independent tools (Python's `cryptography`,
`argon2-cffi` and `pynacl`), never copied from those apps' test files. The same seven tokens go in
every format that can hold them; fixtures/imports/expected.json lists the tokens and, per file,
its format, password and which tokens it holds. softtoken's tests import every file and compare
each token's type, secret, algorithm, digits, period or counter and name to that list.

Usage: python3 -m venv /tmp/v && /tmp/v/bin/pip install cryptography argon2-cffi pynacl
       /tmp/v/bin/python tests/vectors/make_import_fixtures.py
"""
import base64
import csv
import hashlib
import io
import json
import os
import random
import struct
import uuid

import argon2.low_level
import nacl.bindings as sodium
import nacl.pwhash
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "imports")
PASSWORD = "correct horse battery"
rng = random.Random(20261202)  # the secrets are fixed; salts and nonces are fresh each run

TOKENS = [
    dict(id="t1", kind="totp", issuer="GitHub", account="alice@example.com", algorithm="SHA1", digits=6, period=30),
    dict(id="t2", kind="totp", issuer="Example Bank", account="bob", algorithm="SHA256", digits=7, period=20),
    dict(id="t3", kind="totp", issuer="Mail", account="carol", algorithm="SHA512", digits=8, period=50),
    dict(id="t4", kind="totp", issuer="VPN", account="dave", algorithm="SHA1", digits=8, period=45),
    dict(id="h1", kind="hotp", issuer="Server", account="erin", algorithm="SHA1", digits=6, counter=7),
    dict(id="h2", kind="hotp", issuer="Door", account="frank", algorithm="SHA512", digits=8, counter=1000),
    dict(id="s1", kind="steam", issuer="Steam", account="gaben", algorithm="SHA1", digits=5, period=30),
]
for t in TOKENS:
    t["secret"] = bytes(rng.randrange(256) for _ in range(20 if t["algorithm"] == "SHA1" else 32))
TOTP = [t for t in TOKENS if t["kind"] == "totp"]
HOTP = [t for t in TOKENS if t["kind"] == "hotp"]
STEAM = [t for t in TOKENS if t["kind"] == "steam"]


def b32(b):
    return base64.b32encode(b).decode().rstrip("=")


def b64(b):
    return base64.b64encode(b).decode()


def gcm(key, nonce, data):
    return AESGCM(key).encrypt(nonce, data, None)


def pbkdf2(algorithm, password, salt, iterations):
    return PBKDF2HMAC(algorithm=algorithm, length=32, salt=salt, iterations=iterations).derive(password.encode())


def otpauth(t, steam_style="encoder"):
    from urllib.parse import quote
    label = f"{quote(t['issuer'])}:{quote(t['account'])}"
    if t["kind"] == "steam":
        if steam_style == "type":
            return f"otpauth://steam/{label}?secret={b32(t['secret'])}&issuer={quote(t['issuer'])}&algorithm=SHA1&digits=5&period=30"
        return f"otpauth://totp/{label}?secret={b32(t['secret'])}&issuer={quote(t['issuer'])}&algorithm=SHA1&digits=5&period=30&encoder=steam"
    tail = f"period={t['period']}" if t["kind"] == "totp" else f"counter={t['counter']}"
    return f"otpauth://{t['kind']}/{label}?secret={b32(t['secret'])}&issuer={quote(t['issuer'])}&algorithm={t['algorithm']}&digits={t['digits']}&{tail}"


files = []


def write(name, data, fmt, tokens, password=None):
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(os.path.join(OUT, name), mode) as f:
        f.write(data)
    files.append(dict(file=name, format=fmt, password=password, tokens=[t["id"] for t in tokens]))


# --- Aegis (docs/vault.md): database version 3, plain and with one scrypt password slot ---
def aegis_db(tokens):
    group = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    entries = []
    for t in tokens:
        info = dict(secret=b32(t["secret"]), algo=t["algorithm"], digits=t["digits"])
        info.update(counter=t["counter"]) if t["kind"] == "hotp" else info.update(period=t["period"])
        entries.append(dict(type=t["kind"], uuid=str(uuid.uuid4()), name=t["account"], issuer=t["issuer"], note="", favorite=False,
                            icon=None, info=info, groups=[group] if t["id"] == "t1" else []))
    return dict(version=3, entries=entries, groups=[dict(uuid=group, name="Work")], icons_optimized=True)


db = aegis_db(TOKENS)
write("aegis-plain.json", json.dumps(dict(version=1, header=dict(slots=None, params=None), db=db), indent=4), "aegis", TOKENS)
master, salt, slot_nonce, db_nonce = os.urandom(32), os.urandom(32), os.urandom(12), os.urandom(12)
kek = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(PASSWORD.encode())
wrapped = gcm(kek, slot_nonce, master)
sealed = gcm(master, db_nonce, json.dumps(db).encode())
header = dict(slots=[dict(type=1, uuid=str(uuid.uuid4()), key=wrapped[:-16].hex(), key_params=dict(nonce=slot_nonce.hex(), tag=wrapped[-16:].hex()),
                          n=2**15, r=8, p=1, salt=salt.hex(), repaired=True, is_backup=False)],
              params=dict(nonce=db_nonce.hex(), tag=sealed[-16:].hex()))
write("aegis-encrypted.json", json.dumps(dict(version=1, header=header, db=b64(sealed[:-16])), indent=4), "aegis", TOKENS, PASSWORD)


# --- 2FAS (.2fas): services with tokenType TOTP / HOTP / STEAM; encrypted = data+tag:salt:iv ---
def twofas_services(tokens):
    out = []
    for i, t in enumerate(tokens):
        otp = dict(account=t["account"], issuer=t["issuer"], digits=t["digits"], algorithm=t["algorithm"],
                   tokenType=t["kind"].upper(), source="Manual")
        otp.update(counter=t["counter"]) if t["kind"] == "hotp" else otp.update(period=t["period"])
        out.append(dict(name=t["issuer"], secret=b32(t["secret"]), updatedAt=1700000000000 + i, otp=otp, order=dict(position=i),
                        icon=dict(selected="Label", label=dict(text=t["issuer"][:2].upper(), backgroundColor="Indigo"))))
    return out


services = twofas_services(TOKENS)
write("2fas-plain.2fas", json.dumps(dict(services=services, groups=[], updatedAt=1700000000000, schemaVersion=4, appVersionCode=5000000,
                                         appVersionName="5.0.0", appOrigin="android"), indent=2), "2fas", TOKENS)
salt, iv, ref_iv = os.urandom(256), os.urandom(12), os.urandom(12)
key = pbkdf2(hashes.SHA256(), PASSWORD, salt, 10_000)
reference = gcm(key, ref_iv, b"tRViSsLKzd86Hprh4ceC2OP7xazn4rrt4xhfEUbOjxLX8Rc3mkISXE0lWbmnWfggogbBJhtYgpK6fMl1D6mtsy92R3HkdGfwuXbzLebqVFJsR7IZ2w58t938iymwG4824igYy1wi6n2WDpO1Q1P69zwJGs2F5a1qP4MyIiDSD7NCV2OvidXQCBnDlGfmz0f1BQySRkkt4ryiJeCjD2o4QsveJ9uDBUn8ELyOrESv5R5DMDkD4iAF8TXEGW4Tmb5")
data = gcm(key, iv, json.dumps(services).encode())
write("2fas-encrypted.2fas", json.dumps(dict(services=[], groups=[], updatedAt=1700000000000, schemaVersion=4, appVersionCode=5000000,
                                             appVersionName="5.0.0", appOrigin="android",
                                             servicesEncrypted=f"{b64(data)}:{b64(salt)}:{b64(iv)}",
                                             reference=f"{b64(reference)}:{b64(salt)}:{b64(ref_iv)}"), indent=2), "2fas", TOKENS, PASSWORD)
write("2fas-schema1.2fas", json.dumps(dict(services=[dict(name=t["issuer"], secret=b32(t["secret"]), type="ManualService",
                                                          otp=dict(account=t["account"], digits=t["digits"], period=t["period"], algorithm=t["algorithm"]))
                                                     for t in TOTP], schemaVersion=1), indent=2), "2fas", TOTP)


# --- Ente Auth: otpauth lines with codeDisplay; encrypted = Argon2id + secretstream, base64 ---
def ente_lines(tokens):
    from urllib.parse import quote
    lines = []
    for i, t in enumerate(tokens):
        display = dict(pinned=False, trashed=False, lastUsedAt=0, tapCount=0, tags=["Work"] if t["id"] == "t1" else [], note="", position=i)
        lines.append(otpauth(t, steam_style="type") + "&codeDisplay=" + quote(json.dumps(display, separators=(",", ":")), safe=""))
    return "\n".join(lines) + "\n"


text = ente_lines(TOKENS)
write("ente-plain.txt", text, "ente", TOKENS)
salt = os.urandom(16)
ops, mem = nacl.pwhash.argon2id.OPSLIMIT_INTERACTIVE, nacl.pwhash.argon2id.MEMLIMIT_INTERACTIVE
key = nacl.pwhash.argon2id.kdf(32, PASSWORD.encode(), salt, opslimit=ops, memlimit=mem)
state = sodium.crypto_secretstream_xchacha20poly1305_state()
stream_header = sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)
sealed = sodium.crypto_secretstream_xchacha20poly1305_push(state, text.encode(), None, sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL)
write("ente-encrypted.txt", json.dumps(dict(version=1, kdfParams=dict(memLimit=mem, opsLimit=ops, salt=b64(salt)),
                                            encryptedData=b64(sealed), encryptionNonce=b64(stream_header)), indent=2), "ente", TOKENS, PASSWORD)

# --- Bitwarden: JSON and CSV; totp = otpauth URI, bare secret (t1: the defaults) or steam:// ---
BW = TOTP + STEAM


def bw_totp(t):
    if t["kind"] == "steam":
        return "steam://" + b32(t["secret"])
    if t["id"] == "t1":
        return b32(t["secret"])
    return otpauth(t)


items = [dict(id=str(uuid.uuid4()), organizationId=None, folderId=None, type=1, reprompt=0, name=t["issuer"], notes=None, favorite=False,
              login=dict(uris=[], username=t["account"], password="hunter2", totp=bw_totp(t)), collectionIds=None) for t in BW]
items.append(dict(id=str(uuid.uuid4()), type=1, name="Forum", login=dict(username="x", password="y", totp=None)))
write("bitwarden.json", json.dumps(dict(encrypted=False, folders=[], items=items), indent=2), "bitwarden", BW)
buf = io.StringIO()
w = csv.writer(buf, lineterminator="\n")
w.writerow(["folder", "favorite", "type", "name", "notes", "fields", "reprompt", "login_uri", "login_username", "login_password", "login_totp"])
for t in BW:
    w.writerow(["", "", "login", t["issuer"], "a note, with a comma", "", "0", "https://example.com", t["account"], "hunter2", bw_totp(t)])
w.writerow(["", "", "login", "Forum", "", "", "0", "", "x", "y", ""])
write("bitwarden.csv", buf.getvalue(), "bitwarden", BW)


# --- Stratum / Authenticator Pro: plain JSON, AUTHENTICATORPRO (Argon2id + GCM), legacy (PBKDF2 + CBC) ---
def stratum_json(tokens):
    alg = dict(SHA1=0, SHA256=1, SHA512=2)
    typ = dict(hotp=1, totp=2, steam=4)
    auths = [dict(Type=typ[t["kind"]], Icon=None, Issuer=t["issuer"], Username=t["account"], Secret=b32(t["secret"]), Pin=None,
                  Algorithm=alg[t["algorithm"]], Digits=t["digits"], Period=t.get("period", 30), Counter=t.get("counter", 0), CopyCount=0, Ranking=i)
             for i, t in enumerate(tokens)]
    return dict(Authenticators=auths, Categories=[dict(Id="c1", Name="Work", Ranking=0)],
                AuthenticatorCategories=[dict(CategoryId="c1", AuthenticatorSecret=auths[0]["Secret"], Ranking=0)], CustomIcons=[], IconPacks=[])


doc = json.dumps(stratum_json(TOKENS)).encode()
write("stratum-plain.json", doc.decode(), "stratum", TOKENS)
salt, iv = os.urandom(16), os.urandom(12)
key = argon2.low_level.hash_secret_raw(PASSWORD.encode(), salt, time_cost=3, memory_cost=65536, parallelism=4, hash_len=32, type=argon2.low_level.Type.ID)
write("stratum-encrypted.bin", b"AUTHENTICATORPRO" + salt + iv + gcm(key, iv, doc), "stratum", TOKENS, PASSWORD)
salt, iv = os.urandom(20), os.urandom(16)
key = pbkdf2(hashes.SHA1(), PASSWORD, salt, 64_000)
padder = padding.PKCS7(128).padder()
enc = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
write("stratum-legacy.bin", b"AuthenticatorPro" + salt + iv + enc.update(padder.update(doc) + padder.finalize()) + enc.finalize(), "stratum", TOKENS, PASSWORD)


# --- andOTP: plain JSON list, encrypted (iterations, salt, nonce, GCM), old (SHA-256 key) ---
def andotp_json(tokens):
    out = []
    for t in tokens:
        e = dict(secret=b32(t["secret"]), issuer=t["issuer"], label=t["account"], digits=t["digits"], type=t["kind"].upper(),
                 algorithm=t["algorithm"], thumbnail="Default", last_used=0, used_frequency=0, tags=["Work"] if t["id"] == "t1" else [])
        e.update(counter=t["counter"]) if t["kind"] == "hotp" else e.update(period=t["period"])
        out.append(e)
    # The oldest andOTP lists wrote "Issuer - Account" into the label, without an issuer field.
    out[1]["label"] = f"{out[1].pop('issuer')} - {out[1]['label']}"
    return out


doc = json.dumps(andotp_json(TOKENS)).encode()
write("andotp-plain.json", doc.decode(), "andotp", TOKENS)
iterations, salt, nonce = 150_000, os.urandom(12), os.urandom(12)
key = pbkdf2(hashes.SHA1(), PASSWORD, salt, iterations)
write("andotp-encrypted.json.aes", struct.pack(">I", iterations) + salt + nonce + gcm(key, nonce, doc), "andotp", TOKENS, PASSWORD)
nonce = os.urandom(12)
write("andotp-old.json.aes", nonce + gcm(hashlib.sha256(PASSWORD.encode()).digest(), nonce, doc), "andotp", TOKENS, PASSWORD)


# --- FreeOTP+: signed byte secrets; HOTP counters stored one below the next code's counter ---
def signed(b):
    return [x - 256 if x > 127 else x for x in b]


toks = []
for t in TOKENS:
    toks.append(dict(algo=t["algorithm"], counter=t["counter"] - 1 if t["kind"] == "hotp" else 0, digits=t["digits"], issuerExt=t["issuer"],
                     issuerInt=t["issuer"], label=t["account"], period=t.get("period", 30), secret=signed(t["secret"]),
                     type="HOTP" if t["kind"] == "hotp" else "TOTP"))
write("freeotp-plus.json", json.dumps(dict(tokenOrder=[f"{t['issuer']}:{t['account']}" for t in TOKENS], tokens=toks)), "freeotp+", TOKENS)

# --- Proton Authenticator: entries with an otpauth or steam:// URI ---
PR = TOTP + STEAM
entries = [dict(id=str(uuid.uuid4()), content=dict(uri=("steam://" + b32(t["secret"])) if t["kind"] == "steam" else otpauth(t),
                                                    entry_type="Steam" if t["kind"] == "steam" else "Totp", name=t["account"]),
                note="backup codes in the drawer" if t["id"] == "t2" else None) for t in PR]
write("proton.json", json.dumps(dict(version=1, entries=entries), indent=2), "proton", PR)

# --- LastPass Authenticator: TOTP accounts ---
accounts = [dict(accountID=str(uuid.uuid4()), issuerName=t["issuer"], originalIssuerName=t["issuer"], userName=t["account"], originalUserName=t["account"],
                 pushNotification=False, secret=b32(t["secret"]), timeStep=t["period"], digits=t["digits"], creationTimestamp=1700000000000,
                 isFavorite=False, algorithm=t["algorithm"], folderData=dict(folderId=0, position=i)) for i, t in enumerate(TOTP)]
write("lastpass.json", json.dumps(dict(version=3, deviceName="phone", deviceSecret="", localDeviceId="", accounts=accounts,
                                       folders=[dict(id=0, name="Favorites", isOpened=True)]), indent=2), "lastpass", TOTP)

# --- Steam Guard .maFile ---
s = STEAM[0]
write("steam.maFile", json.dumps(dict(shared_secret=b64(s["secret"]), serial_number="1234567890", revocation_code="R12345", uri=otpauth(s),
                                      server_time=1700000000, account_name=s["account"], token_gid="abc", identity_secret=b64(os.urandom(20)),
                                      secret_1=b64(os.urandom(20)), status=1, device_id="android:x", fully_enrolled=True,
                                      Session=dict(SteamID=76561197960287930))), "steam", STEAM)

# --- Tokens only some files hold (their own generator, so the seven above stay as they were) ---
extra_rng = random.Random(20261206)
S2 = dict(id="s2", kind="steam", issuer="Steam", account="gordon", algorithm="SHA1", digits=5, period=30)
T5 = dict(id="t5", kind="totp", issuer="Forum", account="grace", algorithm="SHA1", digits=6, period=30)
for t in (S2, T5):
    t["secret"] = bytes(extra_rng.randrange(256) for _ in range(20))
EXTRA = [S2, T5]

# --- The Steam mobile app's own account file: {"accounts": {key: {the .maFile fields}}} ---
def steam_account(t, steamid):
    return dict(steamid=str(steamid), shared_secret=b64(t["secret"]), serial_number=str(steamid * 7), revocation_code="R" + str(steamid)[-5:],
                uri=otpauth(t), server_time="0", account_name=t["account"], token_gid=os.urandom(6).hex(),
                identity_secret=b64(os.urandom(20)), secret_1=b64(os.urandom(20)), status=1, steamguard_scheme="2")


write("steam-accounts.json", json.dumps(dict(accounts={"first": steam_account(STEAM[0], 76561197960287930),
                                                       "second": steam_account(S2, 76561197960287931)})), "steam", STEAM + [S2])

# --- An encrypted Ente export whose secret has a base32 length no encoder writes (33
# characters: a stray character typed after a 20-byte secret). Ente and Proton Authenticator
# drop the character that cannot complete a byte; so does softtoken, and says so. ---
odd_line = otpauth(T5).replace("secret=" + b32(T5["secret"]), "secret=" + b32(T5["secret"]) + "A")
assert len(b32(T5["secret"]) + "A") % 8 == 1
lenient_text = ente_lines([TOKENS[0]]) + odd_line + "\n"
salt = os.urandom(16)
key = nacl.pwhash.argon2id.kdf(32, PASSWORD.encode(), salt, opslimit=ops, memlimit=mem)
state = sodium.crypto_secretstream_xchacha20poly1305_state()
stream_header = sodium.crypto_secretstream_xchacha20poly1305_init_push(state, key)
sealed = sodium.crypto_secretstream_xchacha20poly1305_push(state, lenient_text.encode(), None, sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL)
write("ente-encrypted-lenient.txt", json.dumps(dict(version=1, kdfParams=dict(memLimit=mem, opsLimit=ops, salt=b64(salt)),
                                                    encryptedData=b64(sealed), encryptionNonce=b64(stream_header)), indent=2), "ente",
      [TOKENS[0], T5], PASSWORD)

# --- otpauth text (Google's key URI format), every kind ---
write("otpauth.txt", "# softtoken import fixture\n" + "\n".join(otpauth(t) for t in TOKENS) + "\n", "otpauth", TOKENS)

expected = dict(
    comment="Built by tests/vectors/make_import_fixtures.py; secrets are hex. counter is the next code's counter.",
    tokens=[{k: (v.hex() if k == "secret" else v) for k, v in t.items()} for t in TOKENS + EXTRA],
    files=files,
)
with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=2)
    f.write("\n")
print(f"wrote {len(files)} files to {os.path.normpath(OUT)}")
