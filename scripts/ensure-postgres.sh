#!/usr/bin/env bash
# Make sure the PostgreSQL server the registry tests use (127.0.0.1:5432, user postgres, database test)
# answers: start it if it is installed but stopped; fail loudly otherwise.
set -euo pipefail
ready() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
if ready; then exit 0; fi
if command -v pg_ctlcluster >/dev/null 2>&1 && ls /etc/postgresql >/dev/null 2>&1; then
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "starting PostgreSQL $version" >&2
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do ready && exit 0; sleep 1; done
fi
echo "PostgreSQL is not reachable at 127.0.0.1:5432 and could not be started; the registry tests need it." >&2
exit 1
