#!/usr/bin/env bash
# The whole test suite on a fresh Debian machine: installs the Debian packages the tests need
# (when root and missing), builds, starts a throwaway PostgreSQL on a free loopback port,
# runs vitest (SQLite, PostgreSQL, browser, network-namespace tests: nothing skipped), removes
# the cluster, and ends with one line "N passed, N failed". Extra args go to vitest.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tmp

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v runuser >/dev/null 2>&1 || need+=(util-linux)
command -v nmap >/dev/null 2>&1 || need+=(nmap)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
# the cosigner's native BIP340 verifier (the WebAssembly build is the fallback; a test wants it)
ls /usr/lib/*/libsecp256k1.so.* >/dev/null 2>&1 || need+=(libsecp256k1-1)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "test: installing ${need[*]} with apt-get" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}") >.tmp/apt.log 2>&1 \
      || { tail -20 .tmp/apt.log >&2; echo "0 passed, 1 failed"; exit 3; }
  else
    echo "test: missing Debian packages: ${need[*]} (install them, or run as root)" >&2
    echo "0 passed, 1 failed"; exit 3
  fi
fi
[ -d node_modules ] || npm ci --no-audit --no-fund

npm run -s build || { echo "0 passed, 1 failed"; exit 1; }

if [ -z "${MAMORI_TEST_PG:-}" ]; then
  MAMORI_TEST_PG=$(scripts/pg-throwaway.sh start) || { echo "0 passed, 1 failed"; exit 3; }
  trap 'scripts/pg-throwaway.sh stop' EXIT
fi
export MAMORI_TEST_PG
export MAMORI_TEST_CHROMIUM=${MAMORI_TEST_CHROMIUM:-/usr/bin/chromium}

rm -f .tmp/vitest.json
npx vitest run --reporter=default --reporter=json --outputFile.json=.tmp/vitest.json "$@"
rc=$?
node -e '
const fs = require("node:fs");
let r;
try { r = JSON.parse(fs.readFileSync(".tmp/vitest.json", "utf8")); } catch { console.log("0 passed, 1 failed"); process.exit(0); }
// A test file that fails to load has no failed test of its own: count it as one failure.
const brokenFiles = r.testResults.filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed")).length;
console.log(`${r.numPassedTests} passed, ${r.numFailedTests + brokenFiles} failed`);
'
exit $rc
