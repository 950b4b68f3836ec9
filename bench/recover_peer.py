#!/usr/bin/env python3
"""The peer for `softtoken entrust recover`: the same search (spec §5) in plain Python with hashlib.

usage: recover_peer.py SERIAL ACTIVATION_CODE [--policy P] CODE@UNIXTIME...
Tries every device random (with the policy and, if one is given, without it), keeps those whose
TOTP-SHA256 matches every code within ±1 step of 30 s, prints the matches as JSON.
"""
import hashlib, hmac, json, struct, sys

def main(argv):
    policy = None
    if "--policy" in argv:
        i = argv.index("--policy"); policy = argv[i + 1]; del argv[i:i + 2]
    serial, activation, otps = argv[0], argv[1], argv[2:]
    salt = serial.replace("-", "").encode()
    act = int(activation.replace("-", "")[:15]).to_bytes(7, "big")
    targets = []
    for o in otps:
        code, t = o.split("@")
        step = int(t) // 30
        targets.append((code, len(code), [struct.pack(">Q", s) for s in (step - 1, step, step + 1)]))
    variants = [policy.encode(), b""] if policy is not None else [b""]
    found = []
    for pol in variants:
        for r in range(65536):
            seed = hashlib.pbkdf2_hmac("sha256", act + r.to_bytes(2, "big") + pol, salt, 8, 16)
            ok = True
            for code, digits, counters in targets:
                hit = False
                for c in counters:
                    mac = hmac.new(seed, c, hashlib.sha256).digest()
                    off = mac[-1] & 15
                    v = (struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 10 ** digits
                    if "%0*d" % (digits, v) == code:
                        hit = True; break
                if not hit:
                    ok = False; break
            if ok:
                found.append({"device_random": "%04x" % r, "policy_used": bool(pol)})
    print(json.dumps({"matches": found}))

if __name__ == "__main__":
    main(sys.argv[1:])
