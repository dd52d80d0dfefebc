#!/usr/bin/env bash
# Local Redis + PostgreSQL for notice-dispatch, on 127.0.0.1 only.
#   scripts/services.sh up|down|status|env
# Data lives under $NOTICE_DATA_DIR (default: <repo>/.data). When run as root, PostgreSQL runs as
# the `postgres` user; if that user cannot write the data folder (a clone under /root, say), the
# PostgreSQL data falls back to a folder under /tmp that it owns. Missing servers are installed
# from Debian's packages when we are root. Processes are stopped by the PID they wrote.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
data=${NOTICE_DATA_DIR:-$here/.data}
redis_port=${NOTICE_REDIS_PORT:-16379}
pg_port=${NOTICE_PG_PORT:-15432}
pg_user=notice
pg_db=notice
mkdir -p "$data"
data=$(cd "$data" && pwd)

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: %s\n' "$*" >&2; exit 1; }

need_apt() {
  [ "$(id -u)" = 0 ] || die "$1 is missing and we are not root: install $2 (apt-get install -y $2)"
  command -v apt-get >/dev/null || die "$1 is missing and there is no apt-get: install $2 by hand"
  log "installing $2 from the system's packages"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null || die "could not install $2"
  fi
}

pg_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return; fi
  return 1
}

# Where PostgreSQL keeps its cluster. As root we run it as `postgres`, which must be able to reach
# the folder; CI may clone somewhere it cannot enter, so fall back to /tmp.
pg_home() {
  if [ "$(id -u)" != 0 ]; then echo "$data/pg"; return; fi
  mkdir -p "$data/pg"
  chown postgres: "$data/pg" 2>/dev/null || true
  if runuser -u postgres -- test -w "$data/pg" 2>/dev/null; then echo "$data/pg"; return; fi
  local key; key=$(printf '%s' "$data" | cksum | cut -d' ' -f1)
  echo "/tmp/notice-dispatch-pg-$key"
}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

redis_up() {
  command -v redis-server >/dev/null || need_apt redis-server redis-server
  local dir="$data/redis"; mkdir -p "$dir"
  if [ -f "$dir/redis.pid" ] && kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then return; fi
  if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then
    log "a Redis we did not start already listens on 127.0.0.1:$redis_port; using it"
    return
  fi
  redis-server --bind 127.0.0.1 --port "$redis_port" --dir "$dir" --daemonize yes \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    --appendonly yes --maxmemory-policy noeviction --save '' >/dev/null
  for _ in $(seq 1 50); do
    redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return
    sleep 0.1
  done
  die "redis did not start; see $dir/redis.log"
}

pg_up() {
  local bin; bin=$(pg_bindir) || { need_apt postgresql postgresql; bin=$(pg_bindir) || die "no initdb found"; }
  local home; home=$(pg_home)
  mkdir -p "$home"; [ "$(id -u)" = 0 ] && chown postgres: "$home"
  echo "$home" > "$data/pg-home"
  if [ ! -f "$home/data/PG_VERSION" ]; then
    log "initialising PostgreSQL in $home/data"
    as_pg "$bin/initdb" -D "$home/data" -U "$pg_user" --auth=trust -E UTF8 --locale=C.UTF-8 >"$home/initdb.log" 2>&1 \
      || as_pg "$bin/initdb" -D "$home/data" -U "$pg_user" --auth=trust -E UTF8 --locale=C >"$home/initdb.log" 2>&1 \
      || die "initdb failed; see $home/initdb.log"
  fi
  if "$bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" 2>/dev/null && ! as_pg "$bin/pg_ctl" -D "$home/data" status >/dev/null 2>&1; then
    log "a PostgreSQL we did not start already listens on 127.0.0.1:$pg_port; using it"
  elif ! as_pg "$bin/pg_ctl" -D "$home/data" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$home/data" -l "$home/postgres.log" -w -t 60 \
      -o "-p $pg_port -k $home -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=${NOTICE_PG_FSYNC:-on}" start >/dev/null \
      || die "postgres did not start; see $home/postgres.log"
  fi
  if ! "$bin/psql" -h 127.0.0.1 -p "$pg_port" -U "$pg_user" -d postgres -Atc "select 1 from pg_database where datname='$pg_db'" | grep -q 1; then
    "$bin/createdb" -h 127.0.0.1 -p "$pg_port" -U "$pg_user" "$pg_db"
  fi
}

# The Japanese font letters.pdf is printed with (Debian fonts-ipaexfont-mincho). Best effort:
# without it the demo still runs and skips the PDF.
fonts_up() {
  [ -f /usr/share/fonts/opentype/ipaexfont-mincho/ipaexm.ttf ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    log "installing fonts-ipaexfont-mincho (letters.pdf) from the system's packages"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-ipaexfont-mincho >/dev/null 2>&1 \
      || { apt-get update -qq >/dev/null 2>&1; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-ipaexfont-mincho >/dev/null 2>&1; } \
      || log "could not install fonts-ipaexfont-mincho; letters.pdf needs it (or PDF_FONT)"
  fi
  return 0
}

redis_down() {
  local pidf="$data/redis/redis.pid"
  if [ -f "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
    local pid; pid=$(cat "$pidf"); kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$pidf"
}

pg_down() {
  local home bin
  home=$(cat "$data/pg-home" 2>/dev/null || pg_home)
  bin=$(pg_bindir) || return 0
  if [ -f "$home/data/postmaster.pid" ]; then
    as_pg "$bin/pg_ctl" -D "$home/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

status() {
  local rc=0 home bin
  if redis-cli -p "$redis_port" ping >/dev/null 2>&1; then echo "redis     up   redis://127.0.0.1:$redis_port"; else echo "redis     down"; rc=3; fi
  home=$(cat "$data/pg-home" 2>/dev/null || true)
  bin=$(pg_bindir 2>/dev/null || true)
  if [ -n "$bin" ] && "$bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" 2>/dev/null; then
    echo "postgres  up   postgres://$pg_user@127.0.0.1:$pg_port/$pg_db  (data: ${home:-?}/data)"
  else echo "postgres  down"; rc=3; fi
  return $rc
}

case "${1:-}" in
  up) redis_up; pg_up; fonts_up; status ;;
  down) redis_down; pg_down; log "stopped" ;;
  status) status ;;
  env)
    echo "export REDIS_URL=redis://127.0.0.1:$redis_port"
    echo "export DATABASE_URL=postgres://$pg_user@127.0.0.1:$pg_port/$pg_db" ;;
  *) echo "usage: scripts/services.sh up|down|status|env" >&2; exit 2 ;;
esac
