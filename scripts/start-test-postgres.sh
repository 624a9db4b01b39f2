#!/usr/bin/env bash
# Installs PostgreSQL from Debian's packages if missing, starts its cluster, and gives the `postgres` user the
# password `postgres`, so that the test suite can run on PostgreSQL:
#   VPS_TEST_POSTGRES_URL=postgres://postgres:postgres@127.0.0.1:5432/postgres npm test
# For tests only: the password is public. Needs root (or sudo).
set -euo pipefail
sudo=""
as_postgres=(runuser -u postgres --)
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
  as_postgres=(sudo -u postgres)
fi
if ! command -v pg_lsclusters >/dev/null || [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
  echo "test postgres: installing postgresql"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
fi
read -r version cluster port status _ < <(pg_lsclusters -h | head -n 1)
if [ "$status" != "online" ]; then
  $sudo pg_ctlcluster "$version" "$cluster" start
fi
for _ in $(seq 1 30); do
  "${as_postgres[@]}" psql -p "$port" -qAtc "select 1" >/dev/null 2>&1 && break
  sleep 1
done
"${as_postgres[@]}" psql -p "$port" -qc "ALTER USER postgres PASSWORD 'postgres'" >/dev/null
echo "test postgres: postgres://postgres:postgres@127.0.0.1:$port/postgres"
