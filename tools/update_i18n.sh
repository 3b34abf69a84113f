#!/usr/bin/env bash
# Regenerates i18n/cdiscount_invoice_upload.pot with Odoo itself (scratch database, dropped
# afterwards), then merges every i18n/*.po with it (msgmerge, no fuzzy matching) and prints
# the statistics of each. New strings show up untranslated in the .po files: translate them.
# Usage: tools/update_i18n.sh            export + merge
#        tools/update_i18n.sh --no-merge export the .pot only
# Uses an installed Odoo (the first tools/find_odoo.sh finds; ODOO_BIN picks one; its config from $ODOO_RC)
# and Debian's gettext (apt-get install -y gettext).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
module=cdiscount_invoice_upload
pot="$root/i18n/$module.pot"
merge=1
[ "${1:-}" = "--no-merge" ] && merge=0

command -v msgmerge >/dev/null || { echo "ERROR: msgmerge missing: apt-get install -y gettext" >&2; exit 2; }
# shellcheck source=tools/odoo_env.sh
. "$root/tools/odoo_env.sh"
db="${module}_i18n_$$_$(date +%s)"
trap odoo_cleanup EXIT
odoo_prepare || exit 2
log="$work/odoo.log"

run_odoo() {
    if ! "$odoo_bin" -c "$conf" -d "$db" --addons-path="$addons_path" --no-http --http-port="$http_port" \
        --stop-after-init --log-level=warn "$@" >>"$log" 2>&1; then
        echo "ERROR: odoo $* failed; log:" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
}

echo "=== Installing $module on scratch database $db ==="
run_odoo -i "$module" $no_demo
echo "=== Exporting $pot ==="
mkdir -p "$root/i18n"
run_odoo --i18n-export="$work/$module.pot" --modules="$module"
mv "$work/$module.pot" "$pot"
echo "$(grep -c '^msgid ' "$pot") msgid lines in the template (the first is the header)"

[ "$merge" = 1 ] || exit 0
shopt -s nullglob
for po in "$root"/i18n/*.po; do
    echo "=== Merging $(basename "$po") ==="
    msgmerge --quiet --update --no-fuzzy-matching --backup=none "$po" "$pot"
    msgfmt -c --statistics -o /dev/null "$po"
done
