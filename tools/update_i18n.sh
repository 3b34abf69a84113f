#!/usr/bin/env bash
# Regenerates i18n/cdiscount_invoice_upload.pot with Odoo itself (scratch database, dropped
# afterwards), then merges every i18n/*.po with it (msgmerge, no fuzzy matching) and prints
# the statistics of each. New strings show up untranslated in the .po files: translate them.
# Usage: tools/update_i18n.sh            export + merge
#        tools/update_i18n.sh --no-merge export the .pot only
# Uses an Odoo 18 already installed ($ODOO_BIN, or odoo on PATH; its config from $ODOO_RC)
# and Debian's gettext (apt-get install -y gettext).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
module=cdiscount_invoice_upload
pot="$root/i18n/$module.pot"
merge=1
[ "${1:-}" = "--no-merge" ] && merge=0

odoo_bin=$("$root/tools/find_odoo.sh")
if [ -z "$odoo_bin" ]; then
    echo "ERROR: no Odoo 18 found: set ODOO_BIN or put 'odoo' on PATH." >&2
    exit 2
fi
command -v msgmerge >/dev/null || { echo "ERROR: msgmerge missing: apt-get install -y gettext" >&2; exit 2; }
"$root/tools/start_postgres.sh" || { echo "ERROR: PostgreSQL is not reachable." >&2; exit 2; }

work=$(mktemp -d)
db="${module}_i18n_$$_$(date +%s)"
cleanup() {
    dropdb --if-exists "$db" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

# The addon must sit in a folder named after its technical name: link the checkout there.
mkdir -p "$work/addons"
ln -s "$root" "$work/addons/$module"
conf="$work/odoo.conf"
if [ -n "${ODOO_RC:-}" ]; then cp "$ODOO_RC" "$conf"; else : >"$conf"; fi
"$odoo_bin" -c "$conf" --save --stop-after-init --no-http >/dev/null 2>&1
base_path=$(sed -n 's/^addons_path *= *//p' "$conf")
addons_path="${base_path:+$base_path,}$work/addons"
log="$work/odoo.log"

run_odoo() {
    if ! "$odoo_bin" -c "$conf" -d "$db" --addons-path="$addons_path" --no-http \
        --stop-after-init --log-level=warn "$@" >>"$log" 2>&1; then
        echo "ERROR: odoo $* failed; log:" >&2
        tail -n 40 "$log" >&2
        exit 1
    fi
}

echo "=== Installing $module on scratch database $db ==="
run_odoo -i "$module" --without-demo=all
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
