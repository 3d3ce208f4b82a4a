#!/usr/bin/env bash
# Starts (or finds running) a throwaway PostgreSQL cluster for the tests, on 127.0.0.1 only,
# from Debian's postgresql package, and prints its URL. Trust authentication on loopback: it
# holds nothing but test databases. As root the server runs as the postgres user (initdb
# refuses root). Prints nothing and exits 1 when no PostgreSQL is installed.
set -euo pipefail
port=${REWIND_TEST_PG_PORT:-54329}
dir=${REWIND_TEST_PG_DIR:-/tmp/rewind-test-pg}
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
[[ -n "$bin" && -x "$bin/initdb" ]] || exit 1
as=()
if [[ $(id -u) -eq 0 ]]; then as=(runuser -u postgres --); fi
url="postgres://rewind@127.0.0.1:$port/postgres"
if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null; then echo "$url"; exit 0; fi
if [[ ! -f "$dir/PG_VERSION" ]]; then
  rm -rf "$dir"; mkdir -p "$dir"
  [[ ${#as[@]} -eq 0 ]] || chown postgres "$dir"
  "${as[@]}" "$bin/initdb" -D "$dir" -U rewind -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
fi
# fsync off: a test cluster is thrown away, and the tests write a lot.
"${as[@]}" "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" start >/dev/null
echo "$url"
