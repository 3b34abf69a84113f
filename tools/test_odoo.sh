#!/usr/bin/env bash
# The Odoo tier on every supported Odoo found (tools/find_odoo.sh): per version a fresh
# database, the addon installed with its tests, the database dropped. Prints one line per
# version, "odoo 18.0: N passed, M failed", names the versions skipped, and fails when any
# version fails. ODOO_TEST_TAGS narrows the tests; ODOO_TEST_LOG keeps the log (one version).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
found=$("$root/tools/find_odoo.sh")
if [ -z "$found" ]; then
    echo "=== Odoo tier: SKIPPED, no Odoo 18.0 or 19.0 found (ODOO_BIN, or odoo18/odoo19/odoo on PATH) ==="
    exit 0
fi
# The tour tests drive a headless Chromium (Debian's package); without it Odoo skips them.
if ! command -v chromium >/dev/null && [ "$(id -u)" -eq 0 ]; then
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } >/dev/null 2>&1 ||
        echo "WARNING: could not install chromium: the tour tests will be skipped." >&2
fi
rc=0
results=()
while read -r series odoo_bin; do
    echo "=== Odoo tier: RUNNING on Odoo $series ($odoo_bin) ==="
    # everything shown as it comes (on stderr), the last line kept for the summary
    line=$(ODOO_BIN="$odoo_bin" "$root/tools/test_odoo_one.sh" | tee >(cat >&2) | tail -n 1)
    status=${PIPESTATUS[0]}
    [ "$status" -eq 0 ] || rc=1
    results+=("odoo $series: ${line#odoo: }")
done <<<"$found"
echo "=== Odoo tier summary ==="
printf '%s\n' "${results[@]}"
for series in 18.0 19.0; do
    grep -q "^$series " <<<"$found" || echo "odoo $series: SKIPPED (not installed here)"
done
exit "$rc"
