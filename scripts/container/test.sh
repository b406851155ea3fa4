#!/usr/bin/env bash
# The container path of the suite, as CI runs it: a Podman engine with its
# Docker-compatible API socket, PostgreSQL 17 and 14 images built locally (no
# registry), and vitest.containers.config.ts run through Testcontainers on
# each. The engine, its socket and every container are stopped at the end,
# also on failure or interrupt. Run from the repository root, after npm ci and
# npm run build.
set -euo pipefail

dir="$(mktemp -d /tmp/authdb-engine-XXXXXX)"
cleanup() {
  scripts/container/engine.sh stop "$dir" || true
  rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

started=$SECONDS
eval "$(scripts/container/engine.sh start "$dir")"
for major in 17 14; do scripts/container/build-image.sh "$major"; done
for major in 17 14; do
  echo "-- container path: PostgreSQL $major"
  TEST_POSTGRES_VERSION="$major" TEST_POSTGRES_IMAGE="localhost/authdb-postgres:$major" npx vitest run --config vitest.containers.config.ts
done
echo "container path: $((SECONDS - started)) s (engine start, two image builds, two runs)"
