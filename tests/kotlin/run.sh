#!/usr/bin/env bash
# Compiles the generated Kotlin bindings, the Android shell's portable code and the JUnit 5 tests
# with the real kotlinc, compile-checks the Android-only files against stubs, runs the tests on the
# JVM against the host libsofttoken_ffi.so, and prints `kotlin: N passed, M failed`.
# Installs what it needs (Debian: libjna-java junit5, a JRE; npm: kotlin-compiler), caching kotlinc
# outside the clone in ${SOFTTOKEN_CACHE:-~/.cache/softtoken}.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
missing=""
[ -f /usr/share/java/jna.jar ] || missing="$missing libjna-java"
[ -f /usr/share/java/junit-platform-console-standalone.jar ] || missing="$missing junit5"
command -v java >/dev/null || missing="$missing default-jre-headless"
if [ -n "$missing" ]; then
  apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
cache=${SOFTTOKEN_CACHE:-$HOME/.cache/softtoken}/kotlin
if ! cmp -s tests/kotlin/package-lock.json "$cache/package-lock.json" || [ ! -x "$cache/node_modules/kotlin-compiler/bin/kotlinc" ]; then
  mkdir -p "$cache"
  cp tests/kotlin/package.json tests/kotlin/package-lock.json "$cache/"
  (cd "$cache" && npm ci --no-audit --no-fund --silent)
fi
klib=$cache/node_modules/kotlin-compiler/lib
kotlinc=$cache/node_modules/kotlin-compiler/bin/kotlinc

# tests/run.sh sets SOFTTOKEN_BIN_DIR after building the whole workspace into target/debug once.
[ -n "${SOFTTOKEN_BIN_DIR:-}" ] || cargo build -q -p softtoken-ffi -p uniffi-bindgen -p softtoken-provider
out=target/kotlin
gen=$out/generated
rm -rf "$out" && mkdir -p "$out"
bash scripts/generate-bindings.sh kotlin "$root/target/debug/libsofttoken_ffi.so" "$gen"

j=/usr/share/java
cp="$j/jna.jar:$klib/kotlinx-coroutines-core-jvm.jar:$j/junit-jupiter-api.jar:$j/apiguardian-api.jar:$j/opentest4j.jar:$klib/kotlin-test.jar:$klib/kotlin-test-junit5.jar"
# The stubs are generated from the published API signature files (android/api); a hand edit or a
# stale stub fails here.
python3 tests/kotlin/stubs.py --check
echo "kotlin: compile-checking the Android-only files and the README's sample screens against the generated stubs"
"$kotlinc" -nowarn -cp "$cp" -d "$out/android-check.jar" "$gen" android/src/main/kotlin android/src/androidStubs/kotlin android/src/sample/kotlin
python3 tests/kotlin/api_guards.py
# The stubs refuse what the real libraries lack: the defect they once hid (the Authenticators
# constants on BiometricPrompt; they live on BiometricManager) must not compile.
mkdir -p "$out/refused"
printf 'package refused\nval x = androidx.biometric.BiometricPrompt.Authenticators.BIOMETRIC_STRONG\n' > "$out/refused/Refused.kt"
if "$kotlinc" -nowarn -d "$out/refused.jar" "$out/refused/Refused.kt" android/src/androidStubs/kotlin > "$out/refused.log" 2>&1; then
  echo "kotlin: the stubs accepted BiometricPrompt.Authenticators, which androidx does not have" >&2
  exit 1
fi
grep -q "Authenticators" "$out/refused.log" && echo "kotlin: the stubs refuse BiometricPrompt.Authenticators, as androidx does"
echo "kotlin: compiling bindings, the portable shell and the tests"
portable="Authenticators.kt QrScanner.kt CipherSealing.kt HttpUrlConnectionTransport.kt FileRecords.kt ForegroundTracker.kt WakeUps.kt"
"$kotlinc" -nowarn -cp "$cp" -d "$out/tests.jar" "$gen" $(printf 'android/src/main/kotlin/org/softtoken/android/%s ' $portable) android/src/test/kotlin
source tests/privacyidea/serve.sh
privacyidea_start
set +e
java -Djna.library.path="$root/target/debug" -Dsofttoken.provider="$root/target/debug/softtoken-provider" -Dsofttoken.privacyidea="$privacyidea_file" -jar "$j/junit-platform-console-standalone.jar" \
  -cp "$out/tests.jar:$cp:$klib/kotlin-stdlib.jar" --scan-classpath "$out/tests.jar" --disable-banner --disable-ansi-colors --details=tree \
  > "$out/junit.log" 2>&1
status=$?
set -e
privacyidea_stop
cat "$out/junit.log"
passed=$(sed -n 's/.*\[ *\([0-9]*\) tests successful *\].*/\1/p' "$out/junit.log" | head -1)
failed=$(sed -n 's/.*\[ *\([0-9]*\) tests failed *\].*/\1/p' "$out/junit.log" | head -1)
echo "kotlin: ${passed:-0} passed, ${failed:-0} failed"
[ "$status" -eq 0 ] && [ "${passed:-0}" -gt 0 ]
