#!/usr/bin/env bash
# make test-wheel: the wheel alone makes the addon installable. For each supported Odoo found
# (tools/find_odoo.sh): that series' wheel is built (tools/build_wheels.sh), installed with
# `pip install --no-deps --target build/wheel-site/<series>` (never into Odoo's environment),
# and Odoo installs the addon in a fresh database with PYTHONPATH=build/wheel-site/<series> and
# its own default addons path only: this checkout is on no path. Then the database must say
# `installed`, Odoo's log and Odoo itself must show the addon came from the wheel's folder, and
# the log must hold no ERROR line. The database and its files are dropped.
# Prints one loud line per series; fails when any fails; says SKIPPED without an Odoo.
# PYTHON: the interpreter whose pip builds and installs (default: .venv's, else python3).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
module=cdiscount_invoice_upload
python=${PYTHON:-}
[ -n "$python" ] || { [ -x "$root/.venv/bin/python" ] && python=$root/.venv/bin/python; } || python=python3
export PYTHON=$python

found=$("$root/tools/find_odoo.sh")
if [ -z "$found" ]; then
    echo "=== wheel: SKIPPED, no Odoo 18.0 or 19.0 found (ODOO_BIN, or odoo18/odoo19/odoo on PATH) ==="
    exit 0
fi

# One series, in a subshell: odoo_env.sh's variables and its cleanup stay there.
check_series() (
    series=$1
    # shellcheck source=tools/odoo_env.sh
    . "$root/tools/odoo_env.sh"
    db="cdiscount_wheel_$$_$(date +%s)"
    trap odoo_cleanup EXIT
    export ODOO_BIN=$2
    odoo_prepare || exit 2
    [ "$odoo_series" = "$series" ] || { echo "ERROR: $ODOO_BIN is $odoo_series, not $series" >&2; exit 2; }
    # Odoo's default addons path, as its --save wrote it (odoo_prepare's addons_path also holds
    # this checkout, linked under the module's name: not used here).
    base_path=$(sed -n 's/^addons_path *= *//p' "$conf")
    case ",$base_path," in *"$root"*)
        echo "ERROR: Odoo's configuration ($conf) puts this checkout on the addons path: $base_path" >&2
        exit 1 ;;
    esac

    wheel_line=$("$root/tools/build_wheels.sh" "$series" | tail -n 1) || exit 1
    wheel="$root/${wheel_line#wheel "$series": }"
    [ -f "$wheel" ] || { echo "ERROR: no wheel built for $series ($wheel_line)" >&2; exit 1; }
    site="$root/build/wheel-site/$series"
    rm -rf "$site"
    "$python" -m pip install --quiet --disable-pip-version-check --no-deps --no-compile \
        --target "$site" "$wheel" || exit 1
    [ -f "$site/odoo/addons/$module/__manifest__.py" ] ||
        { echo "ERROR: the wheel did not install $site/odoo/addons/$module" >&2; exit 1; }

    log="$root/build/test-wheel-$series.log"
    echo "=== wheel $series: installing $module from $site on Odoo $series ($ODOO_BIN), database $db ==="
    # shellcheck disable=SC2086  # no_demo: one flag or none
    PYTHONPATH="$site" "$odoo_bin" -c "$conf" -d "$db" --addons-path="$base_path" \
        --data-dir="$work/data" --no-http --http-port="$http_port" $no_demo --log-level=info \
        -i "$module" --stop-after-init >"$log" 2>&1
    rc=$?

    # Where Odoo took the addon from: its import, and its own lookup (same paths as above).
    shell_out=$(PYTHONPATH="$site" "$odoo_bin" shell -c "$conf" -d "$db" --addons-path="$base_path" \
        --data-dir="$work/data" --no-http --http-port="$http_port" --log-level=warn 2>>"$log" <<EOF
import sys
from odoo.modules.module import get_module_path
print("WHEEL_CHECK imported", sys.modules["odoo.addons.$module"].__file__)
print("WHEEL_CHECK lookup", get_module_path("$module"))
EOF
    )
    imported=$(sed -n 's/^WHEEL_CHECK imported //p' <<<"$shell_out")
    lookup=$(sed -n 's/^WHEEL_CHECK lookup //p' <<<"$shell_out")
    state=$(psql -d "$db" -Atqc "select state || ' ' || coalesce(latest_version, '')
        from ir_module_module where name = '$module'" 2>/dev/null)
    paths=$(grep -m 1 "addons paths:" "$log" | sed 's/.*addons paths: //')

    problems=()
    [ "$rc" -eq 0 ] || problems+=("odoo exited with $rc")
    [ "${state%% *}" = installed ] || problems+=("module state '${state:-none}'")
    case "$paths" in *"$site/odoo/addons"*) ;; *) problems+=("addons paths without the wheel's folder: $paths") ;; esac
    case "${paths//"$site/odoo/addons"/}" in *"$root"* | *"$work/addons"*)
        problems+=("this checkout on the addons paths: $paths") ;;
    esac
    [ "$imported" = "$site/odoo/addons/$module/__init__.py" ] || problems+=("imported from '${imported:-?}'")
    [ "$lookup" = "$site/odoo/addons/$module" ] || problems+=("Odoo finds the module at '${lookup:-?}'")
    errors=$(grep -cE "^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) " "$log")
    [ "$errors" -eq 0 ] || problems+=("$errors ERROR lines in the log")

    echo "wheel $series: module state '$state', imported from $imported"
    if [ "${#problems[@]}" -gt 0 ]; then
        grep -E " (ERROR|CRITICAL) |Traceback" "$log" | head -n 20 >&2
        echo "=== wheel $series: $(basename "$wheel") on Odoo $series: FAILED: $(printf '%s; ' "${problems[@]}")log $log ==="
        exit 1
    fi
    echo "=== wheel $series: $(basename "$wheel") installs on Odoo $series: OK ==="
)

rc=0
results=()
while read -r series odoo_bin; do
    line=$(check_series "$series" "$odoo_bin" | tee >(cat >&2) | tail -n 1)
    status=${PIPESTATUS[0]}
    if [ "$status" -ne 0 ]; then
        rc=1
        case "$line" in *FAILED*) ;; *) line="=== wheel $series: FAILED (exit $status, see above) ===" ;; esac
    fi
    results+=("$line")
done <<<"$found"
echo "=== wheel summary ==="
printf '%s\n' "${results[@]}"
for series in 18.0 19.0; do
    grep -q "^$series " <<<"$found" || echo "=== wheel $series: SKIPPED (no Odoo $series installed here) ==="
done
exit "$rc"
