#!/usr/bin/env bash
# The Odoo tier on one Odoo (tools/test_odoo.sh runs it on each): a fresh database, the addon
# installed with its tests, the database dropped. Uses the first Odoo tools/find_odoo.sh finds
# ($ODOO_BIN picks it; its config from $ODOO_RC). Its last line: "odoo: N passed, M failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
module=cdiscount_invoice_upload
# shellcheck source=tools/odoo_env.sh
. "$root/tools/odoo_env.sh"
db="cdiscount_test_$$_$(date +%s)"
trap odoo_cleanup EXIT
odoo_prepare || exit 2

# Test-only Python packages, kept apart from Odoo's own environment (pure-Python, no deps).
deps="$root/.odoo-test-deps"
if [ ! -f "$deps/.installed" ] || [ "$root/tools/odoo-test-requirements.txt" -nt "$deps/.installed" ]; then
    python3 -m pip install --quiet --disable-pip-version-check --no-deps --upgrade \
        --target "$deps" -r "$root/tools/odoo-test-requirements.txt" || exit 2
    touch "$deps/.installed"
fi
export PYTHONPATH="$deps${PYTHONPATH:+:$PYTHONPATH}"

# Odoo's whole log of the run, kept (build-odoo-test-18.0.log...) unless ODOO_TEST_LOG says where.
log="${ODOO_TEST_LOG:-$root/build-odoo-test-$odoo_series.log}"

echo "=== Odoo tier: $odoo_bin, database $db ==="
{
    "$odoo_bin" -c "$conf" -d "$db" --addons-path="$addons_path" --no-http --http-port="$http_port" \
        $no_demo --log-level=test --stop-after-init \
        -i cdiscount_invoice_upload --test-enable --test-tags "${ODOO_TEST_TAGS:-/cdiscount_invoice_upload}"
    echo $? >"$work/rc"
} 2>&1 | tee "$log" | grep -E "odoo\.tests\.(stats|result)|ERROR|FAIL|CRITICAL|Traceback" || true
rc=$(cat "$work/rc")

summary=$(grep -E "[0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$log" | tail -n 1)
ran=$(echo "$summary" | sed -nE 's/.* of ([0-9]+) tests.*/\1/p')  # test methods
failed=$(echo "$summary" | sed -nE 's/.* ([0-9]+) failed, ([0-9]+) error.*/\1+\2/p')
failed=$(( ${failed:-0} ))
# Every ERROR line fails the run, but one: Odoo's test HTTP server closes Chromium's idle
# pre-connected sockets after 5 s on purpose (odoo/service/server.py, RequestHandler.setup),
# and werkzeug logs each as "Request timed out" at ERROR level.
errors=$(grep -E " (ERROR|CRITICAL) " "$log" | grep -cvE " werkzeug: .*Request timed out: TimeoutError")
echo "=== Odoo tier: exit $rc, ${ran:-0} tests ran, $errors error lines; ${summary:-no summary} ==="
if [ "$rc" -ne 0 ] || [ "$errors" -ne 0 ] || [ "${ran:-0}" -eq 0 ]; then
    echo "=== Odoo tier FAILED (log: $log) ===" >&2
    echo "odoo: $(( ${ran:-0} - failed > 0 ? ${ran:-0} - failed : 0 )) passed, $(( failed > 0 ? failed : 1 )) failed"
    exit 1
fi
warnings=$(grep -cE " WARNING " "$log")
echo "=== Odoo $odoo_series: $warnings WARNING lines in the log ($log) ==="
echo "odoo: ${ran} passed, 0 failed"
