#!/usr/bin/env bash
# Starts the local PostgreSQL cluster when it is not answering, and makes sure the current
# user has a superuser role (Odoo connects through the Unix socket as that user).
set -euo pipefail
if psql -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    exit 0
fi
if command -v pg_lsclusters >/dev/null 2>&1; then
    if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
        version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
        pg_createcluster "$version" main
    fi
    pg_lsclusters -h | while read -r version name _; do
        pg_ctlcluster "$version" "$name" start || true
    done
fi
for _ in $(seq 1 30); do
    if su postgres -c "psql -Atqc 'select 1'" >/dev/null 2>&1; then break; fi
    sleep 1
done
user=$(id -un)
if [ "$user" = root ] || ! psql -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
    su postgres -c "psql -Atqc \"select 1 from pg_roles where rolname='$user'\"" | grep -q 1 \
        || su postgres -c "createuser -s '$user'"
fi
psql -d postgres -Atqc 'select 1' >/dev/null
echo "PostgreSQL is up."
