#!/usr/bin/env python3
"""QR scanning benchmark: softtoken (`softtoken scan --json --verbose`) against zxing-cpp (PyPI
`zxing-cpp`), on the same images in the same run: the vendored photo corpus (fixtures/qr-photos) and a synthetic set made
by `scan/examples/synth.rs` (a fresh seed gives a held-out set).

Counts, for each reader: positive images read correctly (an expected text is compared after
turning CRLF into LF and trimming; `qrcode-7` and other images without a `.txt` count any decode),
false positives (any code in a `falsepositives-*` image, or a wrong text), and the median time of
detection and decoding on the luma image (file reading and image decoding excluded for both: the
image is decoded to luma by PIL before zxing-cpp's clock starts, and by `softtoken scan` before its
own). Prints ratios and softtoken's decoder and pass shares.

Usage: bench/scan.py SOFTTOKEN_BIN DIR... [--check]
"""
import json, os, statistics, subprocess, sys, time
from collections import Counter

import zxingcpp
from PIL import Image

# Each reader scans each image REPEAT times and the fastest run counts (same rule for both).
REPEAT = 3
EXTS = (".png", ".jpg", ".jpeg", ".webp", ".gif")


def norm(s):
    return s.replace("\r\n", "\n").strip()


def images(dirs):
    out = []
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in sorted(files):
                if f.lower().endswith(EXTS):
                    out.append(os.path.join(root, f))
    return sorted(out)


def expected(path):
    txt = os.path.splitext(path)[0] + ".txt"
    if os.path.exists(txt):
        with open(txt, "rb") as f:
            return norm(f.read().decode("utf-8", errors="replace"))
    return None


def negative(path):
    return "falsepositives" in path


def zxing_read(path):
    img = Image.open(path)
    img = img.convert("RGBA") if "A" in img.getbands() or img.mode == "P" else img
    if img.mode == "RGBA":  # composite over white, as softtoken does
        bg = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, img)
    luma = img.convert("L")
    luma.load()
    ms = float("inf")
    for _ in range(REPEAT):
        t = time.perf_counter()
        res = zxingcpp.read_barcodes(luma, formats=zxingcpp.BarcodeFormat.QRCode)
        ms = min(ms, (time.perf_counter() - t) * 1e3)
    return [r.text for r in res], ms


def softtoken_read(binary, paths):
    out = {}
    for i in range(0, len(paths), 200):
        chunk = paths[i : i + 200]
        p = subprocess.run([binary, "scan", "--json", "--verbose", "--repeat", str(REPEAT), *chunk], capture_output=True, text=True)
        for line in p.stdout.splitlines():
            o = json.loads(line)
            out[o["path"]] = o
    return out


def score(path, texts):
    """(counted positive, correct, false positive)"""
    if negative(path):
        return (0, 0, 1 if texts else 0)
    exp = expected(path)
    if exp is None:
        return (1, 1 if texts else 0, 0)
    got = [norm(t) for t in texts]
    ok = exp in got
    # A text that is not the expected one is a misread (counted as a false positive).
    wrong = any(g != exp for g in got) and not ok
    return (1, 1 if ok else 0, 1 if wrong else 0)


def main():
    args = [a for a in sys.argv[1:] if a != "--check"]
    check = "--check" in sys.argv
    # bench/run.sh --quick runs the test build's CLI: its decoding is optimised, but its checked
    # arithmetic is on, so its times are not compared with zxing-cpp's (decode rates still are).
    untimed = os.environ.get("SOFTTOKEN_BENCH_UNTIMED") == "1"
    binary, dirs = args[0], args[1:]
    paths = images(dirs)
    zxing_read(paths[0])  # warm-up
    st = softtoken_read(binary, paths)
    rows = []
    for p in paths:
        zt, zms = zxing_read(p)
        o = st.get(p, {"codes": [], "ms": 0, "error": "missing"})
        rows.append((p, zt, zms, [c["text"] for c in o["codes"]], o["ms"], o["codes"], o.get("error")))
    met = True
    for name, sel in [("photos", lambda p: "synth" not in p), ("synthetic", lambda p: "synth" in p), ("all", lambda p: True)]:
        sub = [r for r in rows if sel(r[0])]
        if not sub:
            continue
        zs = [score(r[0], r[1]) for r in sub]
        ss = [score(r[0], r[3]) for r in sub]
        npos = sum(s[0] for s in zs)
        z_ok, s_ok = sum(s[1] for s in zs), sum(s[1] for s in ss)
        z_fp, s_fp = sum(s[2] for s in zs), sum(s[2] for s in ss)
        z_med = statistics.median(r[2] for r in sub)
        s_med = statistics.median(r[4] for r in sub)
        ratio = s_med / z_med if z_med > 0 else float("inf")
        print(f"scan[{name}]: {len(sub)} images, {npos} with QR codes")
        print(f"scan[{name}]: decode rate softtoken {s_ok}/{npos} vs zxing-cpp {z_ok}/{npos}; "
              f"false positives softtoken {s_fp} vs zxing-cpp {z_fp}")
        print(f"scan[{name}]: median ms softtoken {s_med:.3f} vs zxing-cpp {z_med:.3f} = {ratio:.2f}x")
        # Thresholds for each set and for the two together. The median of the merged set mixes two
        # populations (small photos, larger synthetic images) and is printed as well.
        checks = [
            (f"scan[{name}]: decode rate {s_ok} >= zxing-cpp {z_ok}", s_ok >= z_ok),
            (f"scan[{name}]: false positives {s_fp} == 0", s_fp == 0),
        ]
        if untimed:
            print(f"scan[{name}]: median time: not compared (a test build's CLI; bench/run.sh without --quick compares release builds)")
        else:
            checks.append((f"scan[{name}]: median time {ratio:.2f}x zxing-cpp <= 1.5x", ratio <= 1.5))
        for line, good in checks:
            print(f"{line}: {'met' if good else 'MISSED'}")
            met &= good
    dec, pas = Counter(), Counter()
    for r in rows:
        if r[5]:
            dec[r[5][0].get("decoder", "?")] += 1
            pas[r[5][0].get("pass", "?")] += 1
    total = sum(dec.values()) or 1
    print("scan: softtoken decoder share: " + ", ".join(f"{k} {v} ({100*v/total:.0f}%)" for k, v in dec.most_common()))
    print("scan: softtoken pass share: " + ", ".join(f"{k} {v}" for k, v in pas.most_common()))
    for r in rows:
        zs, ss = score(r[0], r[1]), score(r[0], r[3])
        if zs[1] != ss[1] or ss[2] or r[6]:
            print(f"  diff {r[0]}: zxing-cpp {'ok' if zs[1] else '-'}, softtoken {'ok' if ss[1] else '-'}"
                  f"{' FALSE POSITIVE' if ss[2] else ''}{' error: ' + r[6] if r[6] else ''}")
    if check and not met:
        sys.exit(1)


if __name__ == "__main__":
    main()
