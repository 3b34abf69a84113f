#!/usr/bin/env bash
# `make bench-odoo`: the Odoo benchmark in a fresh, throw-away database.
# Finds an Odoo (18.0 or 19.0; ODOO_BIN picks one) like the tests do (tools/odoo_env.sh),
# installs the addon in a new database (its filestore in a temporary folder), runs
# bench/bench_odoo.py with $PYTHON (the project's venv from make; it needs lxml for the
# sandbox), then drops the database. Options are passed on to bench_odoo.py (--help).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
module=cdiscount_invoice_upload
# shellcheck source=tools/odoo_env.sh
. "$root/tools/odoo_env.sh"
db="cdiscount_bench_$$_$(date +%s)"
trap odoo_cleanup EXIT
case " $* " in
*" -h "* | *" --help "*) exec "${PYTHON:-python3}" "$root/bench/bench_odoo.py" --help ;;
esac
odoo_prepare || exit 2
mkdir -p "$work/data"
echo "=== Odoo bench: $odoo_bin, database $db ==="
started=$(date +%s)
if ! "$odoo_bin" -c "$conf" -d "$db" --addons-path="$addons_path" --data-dir="$work/data" \
    --no-http --http-port="$http_port" $no_demo --log-level=warn --stop-after-init \
    -i "$module" >"$work/install.log" 2>&1; then
    tail -n 40 "$work/install.log" >&2
    echo "ERROR: installing $module failed" >&2
    exit 1
fi
echo "Database created and $module installed in $(($(date +%s) - started)) s"
"${PYTHON:-python3}" "$root/bench/bench_odoo.py" --odoo-bin "$odoo_bin" --conf "$conf" \
    --addons-path "$addons_path" --data-dir "$work/data" --db "$db" --log "$work/bench.log" "$@"
rc=$?
if [ "$rc" -ne 0 ]; then
    cp "$work/bench.log" "$root/build-bench-odoo.log" 2>/dev/null
    echo "=== Odoo bench: exit $rc (Odoo's output: build-bench-odoo.log) ===" >&2
fi
exit "$rc"
