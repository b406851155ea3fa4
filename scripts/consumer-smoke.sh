#!/usr/bin/env bash
# What a consumer does, from the README alone: pack authdb, install the tarball
# in a fresh project, run the README's "consumer install" and "consumer quick
# start" blocks as written (the tarball in place of `pg-authdb`), with the
# README's tsconfig.json and register.ts and a file of wrong calls that must
# not compile. Checks that nothing under node_modules changed after the install
# and prints the tarball size, the installed size and the install time.
# Run by .ci/run; works as root (the CI) and as a normal user.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
readme="$repo/README.md"

# A private (0700) directory, like a home directory: as root, the PostgreSQL OS user cannot enter it.
work="$(mktemp -d)"
embedded=""
cleanup() {
  if [ -d "$work/app/node_modules/pg-authdb" ]; then (cd "$work/app" && npx --no-install authdb db stop >/dev/null 2>&1) || true; fi
  if [ -n "$embedded" ]; then rm -rf "$embedded" "$embedded-postgres"; fi
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "consumer smoke: FAILED: $*" >&2
  exit 1
}

# The lines of the README's ```FENCE block whose first line is FIRST.
block() {
  awk -v fence="$1" -v first="$2" '
    $0 == "```" fence { getline line; if (line == first) { inside = 1; print line; next } }
    inside && $0 == "```" { inside = 0 }
    inside { print }
  ' "$readme"
}

# `npx authdb ARGS…` must exit 1 with stderr containing TEXT.
expect_failure() {
  local text="$1"
  shift
  local out status=0
  out="$(npx --no-install authdb "$@" 2>&1)" || status=$?
  [ "$status" -eq 1 ] || fail "authdb $* exited $status, expected 1: $out"
  grep -qF -- "$text" <<<"$out" || fail "authdb $* did not say \"$text\": $out"
}

echo "== consumer: npm pack"
tarball="$work/$(cd "$repo" && npm pack --pack-destination "$work" --silent | tail -n 1)"
[ -f "$tarball" ] || fail "npm pack wrote no tarball"
tar -tzf "$tarball" | grep -vE '^package/(package\.json|README\.md|CHANGELOG\.md|dist/.*\.(js|d\.ts)|migrations/[0-9]{14}_[a-z0-9_]+\.(up|down)\.sql|migrations/releases\.json|schema/contract\.json|docs/[a-z0-9-]+\.sql)$' \
  && fail "the tarball ships files beyond dist (no source maps), migrations (and releases.json), schema, docs/*.sql, README and CHANGELOG"

mkdir "$work/app"
cd "$work/app"
block sh '# consumer install' >install.sh
block sh '# consumer quick start' >quick-start.sh
block jsonc '// tsconfig.json' >tsconfig.json
block ts '// register.ts' >register.ts
cp "$repo/scripts/consumer/wrong-calls.ts" .
for file in install.sh quick-start.sh tsconfig.json register.ts; do [ -s "$file" ] || fail "README.md has no $file block"; done
grep -qx 'npm install pg-authdb' install.sh || fail "the README's consumer install has no line 'npm install pg-authdb'"
sed -i "s#^npm install pg-authdb\$#npm install --no-audit --no-fund $tarball#" install.sh

echo "== consumer: install (README 'consumer install', the tarball for pg-authdb)"
started=$(date +%s%N)
bash -euo pipefail install.sh
install_ms=$(( ($(date +%s%N) - started) / 1000000 ))
[ -x node_modules/.bin/authdb ] || fail "the package installs no authdb command"
modules_before=$(du -sb node_modules | cut -f1)
listing() { find node_modules -printf '%y %m %s %T@ %p\n' | sort; }
listing >"$work/node_modules.before"

if [ "$(id -u)" -eq 0 ]; then
  # The first step as root under a private directory: the message says what to do; do it.
  expect_failure 'set AUTHDB_EMBEDDED_DIR (or --embedded-dir) to a directory it can reach' migrate up
  embedded="$(mktemp -u /var/lib/authdb-smoke.XXXXXX)"
  export AUTHDB_EMBEDDED_DIR="$embedded"
fi

echo "== consumer: quick start (README 'consumer quick start')"
out="$(bash -euo pipefail quick-start.sh 2>&1)" || fail "the quick start failed:
$out"
echo "$out" | tail -n 6
grep -qE '^verified [0-9a-f-]+: signed in$' <<<"$out" || fail "register.js did not sign in"
grep -qx 'AU001 EmailAlreadyRegisteredError: answer with HTTP 409' <<<"$out" || fail "register.js did not end with AU001"
ls db/migrations/*_add_profiles.up.sql db/migrations/*_add_profiles.down.sql >/dev/null || fail "migrate create wrote no pair into db/migrations"
[ -s src/authdb/database-types.ts ] || fail "codegen wrote no src/authdb/database-types.ts"
[ -s authdb-contract.json ] || fail "schema dump wrote no authdb-contract.json"
[ -f wrong-calls.js ] || fail "tsc did not compile wrong-calls.ts"

echo "== consumer: checks against the user's files, and refusals to write into node_modules"
npx --no-install authdb codegen --check
npx --no-install authdb schema check --contract authdb-contract.json
expect_failure '[AUTHDB_INSIDE_PACKAGE]' migrate create add_profiles
expect_failure '[AUTHDB_INSIDE_PACKAGE]' codegen --out node_modules/pg-authdb/src/client/database-types.ts
# The wrong calls fail to compile without their @ts-expect-error directives.
sed 's#^ *// @ts-expect-error.*##' wrong-calls.ts >wrong-calls-bare.ts
errors="$(npx --no-install tsc --noEmit -p . 2>&1 | grep -c 'wrong-calls-bare.ts.*error TS' || true)"
expected="$(grep -c '^ *// @ts-expect-error' wrong-calls.ts)"
[ "$errors" -ge "$expected" ] || fail "only $errors of the $expected wrong calls fail to compile"
rm wrong-calls-bare.ts

listing >"$work/node_modules.after"
if ! diff -u "$work/node_modules.before" "$work/node_modules.after" >"$work/node_modules.diff"; then
  head -n 40 "$work/node_modules.diff" >&2
  fail "something was written under node_modules"
fi
modules_after=$(du -sb node_modules | cut -f1)

mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1000000 }'; }
echo "== consumer: OK"
echo "tarball: $(basename "$tarball") $(mb "$(stat -c %s "$tarball")")"
echo "node_modules: $(mb "$modules_before") after the install, $(mb "$modules_after") after the quick start (unchanged)"
echo "install time: $(awk -v ms="$install_ms" 'BEGIN { printf "%.1f s", ms / 1000 }') (pg-authdb, then typescript and @types/node)"
