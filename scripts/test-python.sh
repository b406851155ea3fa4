#!/usr/bin/env bash
# pytest of python/ (the authdb_client package and its example backend) against a
# real PostgreSQL installed the README's way: an embedded cluster, `migrate up
# --schema authdb` and `grant --role authdb_app` by authdb's own CLI; DATABASE_URL
# is authdb_app's. Once per version in AUTHDB_PYTHON_TEST_VERSIONS (default
# "17 14"); every cluster is stopped and removed on exit, whatever happens.
#
#   npm run test:python                                # 17, then 14
#   AUTHDB_PYTHON_TEST_VERSIONS=17 npm run test:python -- -k pitfall   # extra arguments go to pytest
#
# Needs Debian's python3-psycopg, python3-psycopg-pool (a test), python3-argon2, python3-bcrypt, python3-pytest
# (and python3-mypy for the type check); PYTHON picks the interpreter (default /usr/bin/python3).
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-/usr/bin/python3}"
cli=(node dist/cli/main.js)

if [ ! -f dist/cli/main.js ] || [ -n "$(find src -newer dist/cli/main.js -print -quit)" ]; then
  npm run build
fi

if "$python" -m mypy --version >/dev/null 2>&1; then
  echo "== mypy --strict python/ (the package and its tests)"
  (cd python && "$python" -m mypy authdb_client tests examples)
fi

if "$python" -m pip --version >/dev/null 2>&1; then
  echo "== the package builds offline, py.typed included (pip wheel --no-build-isolation)"
  wheel_dir="$(mktemp -d)"
  "$python" -m pip wheel --quiet --no-build-isolation --no-deps --no-index -w "$wheel_dir" ./python
  "$python" -c 'import sys, zipfile; names = zipfile.ZipFile(sys.argv[1]).namelist(); sys.exit(0 if "authdb_client/py.typed" in names else "py.typed is missing from the wheel")' "$wheel_dir"/*.whl
  rm -rf "$wheel_dir" python/build python/*.egg-info
fi

base=""
version=""
stop_cluster() {
  [ -n "$base" ] || return 0
  if [ "$version" = 17 ]; then
    "${cli[@]}" db stop --embedded-dir "$base/cluster" >/dev/null 2>&1 || true
  else
    TEST_POSTGRES_VERSION="$version" npx tsx scripts/test-cluster.ts stop "$base/cluster" >/dev/null 2>&1 || true
  fi
  rm -rf "$base"
  base=""
}
trap stop_cluster EXIT

for version in ${AUTHDB_PYTHON_TEST_VERSIONS:-17 14}; do
  echo "== pytest python/tests on PostgreSQL $version"
  base="$(mktemp -d)"
  chmod 755 "$base" # as root the server runs as the OS user postgres, which must reach the cluster directory
  if [ "$version" = 17 ]; then
    # The README's embedded default (PostgreSQL 17).
    "${cli[@]}" db start --embedded-dir "$base/cluster"
    admin_url="$("${cli[@]}" db url --superuser --embedded-dir "$base/cluster" 2>/dev/null)"
    app_url="$("${cli[@]}" db url --embedded-dir "$base/cluster" 2>/dev/null)"
  else
    # `db start` has no version option: the suite's own way to other binaries (TEST_POSTGRES_VERSION).
    urls="$(TEST_POSTGRES_VERSION="$version" npx tsx scripts/test-cluster.ts start "$base/cluster")"
    admin_url="$(sed -n 1p <<<"$urls")"
    app_url="$(sed -n 2p <<<"$urls")"
  fi
  # URLs through the environment, never on a command line (ps would show the passwords).
  DATABASE_URL="$admin_url" "${cli[@]}" migrate up --schema authdb
  # --maintenance: the tests call the purge too.
  DATABASE_URL="$admin_url" "${cli[@]}" grant --role authdb_app --maintenance --schema authdb >/dev/null
  (cd python && DATABASE_URL="$app_url" AUTHDB_ADMIN_URL="$admin_url" AUTHDB_SERVER_LOG="$base/cluster/postgres.log" AUTHDB_SCHEMA=authdb "$python" -m pytest -p no:cacheprovider tests "$@")
  stop_cluster
done
