# shellcheck shell=bash
# ensure_postgres: exports FACTEUR_TEST_PG_URL pointing at a PostgreSQL server that answers.
# Uses the one on 127.0.0.1:5432 when it answers; otherwise starts a throwaway cluster with the
# installed PostgreSQL binaries (initdb/pg_ctl) on port 55432 and stops it when the shell exits.
pg_answers() { # host port
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$1" -p "$2" -t 3
  else
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
  fi
}

ensure_postgres() {
  if [[ -n "${FACTEUR_TEST_PG_URL:-}" ]]; then return 0; fi
  if pg_answers 127.0.0.1 5432; then
    export FACTEUR_TEST_PG_URL="postgres://postgres@127.0.0.1:5432/postgres"
    return 0
  fi
  local bindir
  bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [[ -z "$bindir" ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
      bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    else
      echo "test-all: no PostgreSQL server and no binaries to start one" >&2
      return 1
    fi
  fi
  local dir run_as=()
  dir=$(mktemp -d /tmp/facteur-pg.XXXXXX)
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --home "$dir" postgres
    chown postgres "$dir"
    run_as=(runuser -u postgres --)
  fi
  "${run_as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust >/dev/null
  "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -o "-p 55432 -k $dir -c listen_addresses=127.0.0.1" -l "$dir/log" -w start >/dev/null
  # shellcheck disable=SC2064
  trap "${run_as[*]} $bindir/pg_ctl -D $dir/data -m fast stop >/dev/null 2>&1 || true" EXIT
  export FACTEUR_TEST_PG_URL="postgres://postgres@127.0.0.1:55432/postgres"
}
