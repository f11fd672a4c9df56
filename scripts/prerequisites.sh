#!/usr/bin/env bash
# What this project needs from the machine, checked before `npm start` and `npm test` (and by
# .ci/run before `npm ci`), for Debian and Ubuntu:
#
#   scripts/prerequisites.sh start   g++ (npm run build compiles the SQLite extensions; also what
#                                    npm ci compiles better-sqlite3 with when it cannot download
#                                    it) and redis-server (unless REDIS_URL is set)
#   scripts/prerequisites.sh test    the same and make, plus what the tests drive: astropy and
#                                    pyvo for /usr/bin/python3, STILTS, Chromium
#                                    (/usr/bin/chromium), and PostgreSQL at 127.0.0.1:5432 with a
#                                    database `test` (unless TEST_DATABASE_URL is set)
#
# Silent and quick (no package manager run) when everything is there. Otherwise it installs the
# missing Debian packages when it may (as root, or with passwordless sudo), starts the local
# PostgreSQL cluster when it is down and creates the `test` database; when it may not
# (NO_SYSTEM_INSTALL=1, or neither root nor sudo) it stops at once with the command to run.
set -euo pipefail

mode=${1:-test}
case "$mode" in
  start | test) ;;
  *) echo "usage: $0 [start|test]" >&2; exit 2 ;;
esac

# Debian's interpreter: python3-astropy and python3-pyvo install for it, and the tests run it.
PYTHON=/usr/bin/python3
say() { echo "prerequisites: $*" >&2; }
have() { command -v "$1" >/dev/null 2>&1; }

packages=()
# CXX, when set, is the compiler npm run build uses instead of g++ (scripts/build-native.ts).
[ -n "${CXX:-}" ] || have g++ || packages+=(g++)
if [ "$mode" = test ] || [ -z "${REDIS_URL:-}" ]; then
  have redis-server || packages+=(redis-server)
fi

pg_local=no
if [ "$mode" = test ]; then
  # make: node-gyp's, for npm ci compiling better-sqlite3 when it cannot download it (.ci/run).
  have make || packages+=(make)
  # One interpreter start for both modules, without importing them (find_spec): fast.
  if [ -x "$PYTHON" ]; then
    missing_modules=$("$PYTHON" - <<'EOF' 2>/dev/null || echo 'astropy pyvo'
import importlib.util
print(' '.join(m for m in ('astropy', 'numpy', 'pyvo') if importlib.util.find_spec(m) is None))
EOF
)
  else
    missing_modules='astropy pyvo'
  fi
  case " $missing_modules " in *' astropy '* | *' numpy '*) packages+=(python3-astropy) ;; esac
  case " $missing_modules " in *' pyvo '*) packages+=(python3-pyvo) ;; esac
  have stilts || packages+=(stilts)
  # The browser page tests drive Debian's Chromium with playwright-core (test/pages).
  [ -x /usr/bin/chromium ] || packages+=(chromium)
  if [ -z "${TEST_DATABASE_URL:-}" ]; then
    pg_local=yes
    have psql || packages+=(postgresql-client)
    pg_ready() { (: > /dev/tcp/127.0.0.1/5432) >/dev/null 2>&1; }
    pg_ready || have pg_ctlcluster || packages+=(postgresql)
  fi
fi

# How to run a command as root, when this script may.
as_root=
if [ "${NO_SYSTEM_INSTALL:-}" != 1 ]; then
  if [ "$(id -u)" = 0 ]; then
    as_root=env
  elif have sudo && sudo -n true >/dev/null 2>&1; then
    as_root='sudo -n env'
  fi
fi
why_not() {
  if [ "${NO_SYSTEM_INSTALL:-}" = 1 ]; then echo 'NO_SYSTEM_INSTALL=1'; else echo 'not root and no passwordless sudo'; fi
}

if [ ${#packages[@]} -gt 0 ]; then
  command="sudo apt-get install -y ${packages[*]}"
  if [ -z "$as_root" ]; then
    say "missing for npm $mode: ${packages[*]} (not installed here: $(why_not)). Run:"
    echo "  $command" >&2
    exit 1
  fi
  if ! have apt-get; then
    say "missing for npm $mode: ${packages[*]}, and this is not a Debian/Ubuntu machine: install their equivalents"
    exit 1
  fi
  say "installing ${packages[*]}"
  $as_root DEBIAN_FRONTEND=noninteractive apt-get update -qq || say 'apt-get update failed; trying the package lists there are'
  $as_root DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

if [ "$pg_local" = yes ]; then
  if ! pg_ready; then
    cluster=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)
    start="pg_ctlcluster --skip-systemctl-redirect ${cluster:-<version>} main start"
    if [ -z "$as_root" ] || [ -z "$cluster" ]; then
      say "nothing listens on 127.0.0.1:5432 (not started here: $(why_not)). Run:"
      echo "  sudo $start" >&2
      exit 1
    fi
    say "starting PostgreSQL $cluster"
    $as_root $start || true
    for _ in $(seq 1 30); do pg_ready && break; sleep 1; done
    if ! pg_ready; then
      say "PostgreSQL $cluster did not start on 127.0.0.1:5432; see /var/log/postgresql/"
      exit 1
    fi
  fi
  # The tests connect as postgres@127.0.0.1:5432/test without a password.
  if ! exists=$(psql -h 127.0.0.1 -U postgres -w -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" postgres 2>&1); then
    say "cannot connect as postgres to 127.0.0.1:5432 without a password: $exists"
    say 'allow it (pg_hba.conf: "host all all 127.0.0.1/32 trust"), or set TEST_DATABASE_URL to a database the tests may use'
    exit 1
  fi
  if [ "$exists" != 1 ]; then
    say 'creating the database test'
    psql -h 127.0.0.1 -U postgres -w -qc 'CREATE DATABASE test' postgres >/dev/null
  fi
fi
