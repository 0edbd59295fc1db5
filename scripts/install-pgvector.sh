#!/usr/bin/env bash
# Idempotently build and install pgvector for PostgreSQL 15 on Debian bookworm
# (from Debian trixie's pgvector source package; see docs/PGVECTOR.md).
set -euo pipefail
cd /

log() { echo "install-pgvector: $*"; }
die() { echo "install-pgvector: ERROR: $*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "must run as root (and sudo is not available)"
  log "not root, re-running with sudo"
  exec sudo -E bash "$(readlink -f "$0")" "$@"
fi

PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
CONTROL=/usr/share/postgresql/15/extension/vector.control
STATE=/var/lib/docsvc-pgvector
export DEBIAN_FRONTEND=noninteractive

if [ -f "$CONTROL" ]; then
  log "pgvector already installed"
else
  # Reuse the machine's Debian mirror host for trixie (deb-src only, separate lists).
  mirror=$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list \
             2>/dev/null | grep -v '^ *#' | grep -oE 'https?://[^ ]+/debian/?( |$)' | head -n1 | tr -d ' ' || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  log "using mirror ${mirror%/} for trixie sources"
  mkdir -p "$STATE/lists/partial"
  echo "deb-src ${mirror%/} trixie main" > "$STATE/trixie-src.list"
  TRIXIE=(-o "Dir::Etc::sourcelist=$STATE/trixie-src.list" -o Dir::Etc::sourceparts=-
          -o "Dir::State::Lists=$STATE/lists")
  log "apt-get update (trixie deb-src only)"
  apt-get -qq "${TRIXIE[@]}" update

  log "installing postgresql-server-dev-15"
  if ! apt-get -qq install -y postgresql-server-dev-15 >/dev/null; then
    log "install failed, refreshing normal apt lists and retrying"
    apt-get -qq update
    apt-get -qq install -y postgresql-server-dev-15 >/dev/null
  fi

  WORK=$(mktemp -d)
  trap 'rm -rf "$WORK"' EXIT
  id _apt >/dev/null 2>&1 && chown _apt "$WORK"   # let apt's download sandbox write here
  cd "$WORK"
  log "downloading pgvector source"
  apt-get -qq "${TRIXIE[@]}" source --download-only pgvector
  orig=$(ls pgvector_*.orig.tar.* 2>/dev/null | head -n1) || true
  [ -n "$orig" ] || die "pgvector orig tarball not found after download"
  log "building $orig"
  mkdir src && tar -xf "$orig" -C src --strip-components=1
  make -s -C src PG_CONFIG="$PG_CONFIG" OPTFLAGS="" >/dev/null
  make -s -C src PG_CONFIG="$PG_CONFIG" OPTFLAGS="" install >/dev/null
  cd /
  [ -f "$CONTROL" ] || die "make install did not produce $CONTROL"
  log "pgvector $(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$CONTROL") installed"
fi

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  log "starting PostgreSQL 15 cluster 'main'"
  pg_ctlcluster --skip-systemctl-redirect 15 main start || true
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -q -h 127.0.0.1 -p 5432 || die "PostgreSQL did not become ready within 30 s"
fi
log "PostgreSQL is ready"

url=${PGVECTOR_CHECK_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}
if psql "$url" -Atqc 'SELECT 1' >/dev/null 2>&1; then
  ver=$(psql "$url" -Atq -v ON_ERROR_STOP=1 -c "SET client_min_messages=warning" \
          -c "CREATE EXTENSION IF NOT EXISTS vector" \
          -c "SELECT extversion FROM pg_extension WHERE extname='vector'")
  log "vector extension version $ver in ${url##*@}"
else
  log "database ${url##*@} not reachable, skipping CREATE EXTENSION"
fi
