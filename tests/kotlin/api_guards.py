"""API-level guards of the Android shell: every stubbed API marked `@android.Since(N)` (N above
minSdk) may be used in android/src/main only under a `Build.VERSION.SDK_INT >= M` guard with M >= N,
on the line of the use or within the three lines before it. Prints `api guards: ...`; exits 1 on
an unguarded use."""
import pathlib
import re
import sys

MIN_SDK = 26
root = pathlib.Path(__file__).resolve().parents[2]
stubs = root / "android/src/androidStubs/kotlin"
main = root / "android/src/main/kotlin"

since = {}
for f in stubs.glob("*.kt"):
    for line in f.read_text().splitlines():
        m = re.search(r"@android\.Since\((\d+)\)\s*(?:(?:override|abstract|open|final|const) )*(?:fun|class|val|var)\s+([A-Za-z_][A-Za-z0-9_]*)", line)
        if m and int(m.group(1)) > MIN_SDK:
            since[m.group(2)] = int(m.group(1))

uses, bad = 0, []
for f in sorted(main.rglob("*.kt")):
    lines = f.read_text().splitlines()
    for i, line in enumerate(lines):
        code = line.split("//", 1)[0]
        if code.lstrip().startswith(("import ", "*", "/*")):
            continue
        for name, level in since.items():
            if not re.search(rf"\b{name}\b", code):
                continue
            uses += 1
            window = "\n".join(lines[max(0, i - 3): i + 1])
            guards = [int(g) for g in re.findall(r"SDK_INT\s*>=\s*(\d+)", window)]
            if not any(g >= level for g in guards):
                bad.append(f"{f.relative_to(root)}:{i + 1}: {name} needs API {level} (minSdk {MIN_SDK}) and has no `Build.VERSION.SDK_INT >= {level}` guard")
print(f"api guards: {uses} uses of {len(since)} APIs newer than minSdk {MIN_SDK} checked, {len(bad)} unguarded")
for b in bad:
    print("  " + b)
sys.exit(1 if bad else 0)
