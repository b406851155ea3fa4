#!/bin/sh
# Entry point of authdb's locally built PostgreSQL image. It follows the
# official postgres image's environment contract, so the same tests run
# against `postgres:17` on a machine with Docker:
#   POSTGRES_PASSWORD (required unless POSTGRES_HOST_AUTH_METHOD=trust),
#   POSTGRES_USER (default postgres), POSTGRES_DB (default: POSTGRES_USER),
#   POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (default scram-sha-256),
#   /docker-entrypoint-initdb.d/*.sql and *.sh run once on a new cluster,
#   port 5432, and "database system is ready to accept connections" logged
#   twice (the initialising server, then the real one).
set -eu

if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi

initialise() {
  POSTGRES_USER="${POSTGRES_USER:-postgres}"
  POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
  auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
    echo 'error: the database is uninitialised and POSTGRES_PASSWORD is not set: pass -e POSTGRES_PASSWORD=… (or -e POSTGRES_HOST_AUTH_METHOD=trust)' >&2
    exit 1
  fi
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
  # The image has no locale files: C collation, UTF-8, as authdb's tests expect.
  # shellcheck disable=SC2086
  initdb -D "$PGDATA" --username="$POSTGRES_USER" --pwfile="$pwfile" --locale=C --encoding=UTF8 \
    --auth-local=trust --auth-host="$auth" ${POSTGRES_INITDB_ARGS:-}
  rm -f "$pwfile"
  printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\nunix_socket_directories = '/var/run/postgresql'\n" >>"$PGDATA/postgresql.conf"

  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" -w start
  if [ "$POSTGRES_DB" != postgres ]; then
    db="$(printf '%s' "$POSTGRES_DB" | sed 's/"/""/g')"
    psql -v ON_ERROR_STOP=1 -h /var/run/postgresql -U "$POSTGRES_USER" -d postgres -c "CREATE DATABASE \"$db\""
  fi
  for f in /docker-entrypoint-initdb.d/*; do
    case "$f" in
      *.sql) psql -v ON_ERROR_STOP=1 -h /var/run/postgresql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -f "$f" ;;
      *.sh) . "$f" ;;
      *) ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  echo 'PostgreSQL init process complete; ready for start up.'
}

if [ "$1" = postgres ] && [ ! -s "$PGDATA/PG_VERSION" ]; then initialise; fi
exec "$@"
