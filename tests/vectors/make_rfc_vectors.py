#!/usr/bin/env python3
"""Regenerates fixtures/vectors/rfc4226.json and rfc6238.json from the RFC tables shipped in the
PyPI package `cryptography-vectors` (pip install cryptography-vectors). Run from the repo root."""
import json, pathlib
import cryptography_vectors as cv

def blocks(rel):
    text = pathlib.Path(cv.__file__).parent.joinpath(rel).read_text()
    out, cur = [], {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            if cur: out.append(cur); cur = {}
            continue
        k, v = [p.strip() for p in line.split("=", 1)]
        cur[k] = v
    if cur: out.append(cur)
    return [b for b in out if "SECRET" in b]

h = blocks("twofactor/rfc-4226.txt")
rfc4226 = {"source": "RFC 4226 Appendix D (cryptography-vectors twofactor/rfc-4226.txt)",
           "secret_ascii": h[0]["SECRET"],
           "codes": [{"counter": int(b["COUNTER"]), "hmac_hex": b["INTERMEDIATE"], "code": b["HOTP"]} for b in h]}
t = blocks("twofactor/rfc-6238.txt")
seeds = {}
for b in t: seeds[b["MODE"]] = b["SECRET"]
rfc6238 = {"source": "RFC 6238 Appendix B (cryptography-vectors twofactor/rfc-6238.txt); SHA256 uses a 32-byte seed, SHA512 a 64-byte one",
           "seeds": seeds,
           "codes": [{"time": int(b["TIME"]), "algorithm": b["MODE"], "code": b["TOTP"]} for b in t],
           "negative": {"sha256_with_20_byte_seed": {"seed_ascii": seeds["SHA1"], "time": 59, "code": "32247374", "correct_code": "46119246"}}}
root = pathlib.Path("fixtures/vectors")
root.joinpath("rfc4226.json").write_text(json.dumps(rfc4226, indent=2) + "\n")
root.joinpath("rfc6238.json").write_text(json.dumps(rfc6238, indent=2) + "\n")
