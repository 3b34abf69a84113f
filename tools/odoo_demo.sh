#!/usr/bin/env bash
# make odoo-demo: the addon in a fresh Odoo database, with its demo data, talking to the local
# Octopia sandbox. Log in at http://127.0.0.1:8069 as admin / admin; Ctrl-C stops both servers.
#
#   ODOO_DEMO_DB      database name (default cdiscount_demo; dropped and re-created each run)
#   ODOO_DEMO_PORT    Odoo's HTTP port (default 8069)
#   ODOO_DEMO_LANG    also install this language and give it to admin (e.g. fr_FR)
#   ODOO_DEMO_SANDBOX_PORT  the Octopia sandbox's port (default 8765; the demo account follows)
#   ODOO_BIN          which Odoo (18.0 or 19.0) when several are installed
#
# tools/odoo_demo.sh --drop removes the demo database and its files (make odoo-demo-clean).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
module=cdiscount_invoice_upload
demo_db=${ODOO_DEMO_DB:-cdiscount_demo}
odoo_port=${ODOO_DEMO_PORT:-8069}
demo_lang=${ODOO_DEMO_LANG:-}
sandbox_port=${ODOO_DEMO_SANDBOX_PORT:-8765}  # demo/cdiscount_demo.xml says 8765: moved below
# shellcheck source=tools/odoo_env.sh
. "$root/tools/odoo_env.sh"

if [ "${1:-}" = "--drop" ]; then
    odoo_prepare || exit 2
    "$odoo_bin" db -c "$conf" drop "$demo_db" && echo "Dropped $demo_db and its files."
    rm -rf "$work"
    exit 0
fi

port_busy() {
    python3 -c 'import socket, sys; s = socket.socket(); sys.exit(s.connect_ex(("127.0.0.1", int(sys.argv[1]))) != 0)' "$1"
}
for port in "$sandbox_port" "$odoo_port"; do
    if port_busy "$port"; then
        echo "ERROR: port $port on 127.0.0.1 is already in use (another demo still running?)." >&2
        exit 2
    fi
done

if [ ! -x "$root/.venv/bin/python" ]; then
    make -C "$root" --no-print-directory .venv/.installed
fi
odoo_prepare || exit 2
sed -i 's/^http_enable *=.*/http_enable = True/' "$conf"  # odoo_prepare saved it with --no-http

sandbox_pid=
odoo_pid=
interrupted=
stop_all() {
    set +e
    trap - EXIT INT TERM
    # Ctrl-C reached Odoo too: let it stop by itself (a second signal forces its shutdown).
    for _ in $(seq 1 40); do
        [ -n "$interrupted" ] && [ -n "$odoo_pid" ] && kill -0 "$odoo_pid" 2>/dev/null || break
        sleep 0.25
    done
    for pid in $odoo_pid $sandbox_pid; do
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    rm -rf "$work"
    echo "Stopped. The database $demo_db is kept (dropped by the next make odoo-demo)."
}
trap stop_all EXIT
trap 'interrupted=1; exit 130' INT
trap 'exit 143' TERM

odoo() {
    "$odoo_bin" -c "$conf" -d "$demo_db" --addons-path="$addons_path" "$@"
}
odoo_shell() {  # runs the Python read from stdin in the demo database
    "$odoo_bin" shell -c "$conf" -d "$demo_db" --addons-path="$addons_path" --no-http \
        --log-level=warn >/dev/null
}

echo "=== Octopia sandbox on 127.0.0.1:$sandbox_port ==="
# --running-polls 0: an import is final at its first status read (the sync a minute after a send).
(cd "$root" && exec .venv/bin/python -m octopia sandbox --port "$sandbox_port" --running-polls 0) &
sandbox_pid=$!

echo "=== Fresh database $demo_db: a French company, the addon and its demo data (about 2 min) ==="
"$odoo_bin" db -c "$conf" drop "$demo_db" >/dev/null 2>&1 || true  # with its filestore
echo "--- base"
odoo -i base $with_demo --stop-after-init --no-http --log-level=warn
# The company is French before accounting is installed, so the French chart of accounts
# (and its 20 % VAT) is the one set up; VAT number and SIREN make its UBL invoices valid.
odoo_shell <<'PYTHON'
france = env.ref("base.fr")
env.ref("base.EUR").active = True
env.ref("base.main_company").write({
    "name": "Ma Boutique SAS",
    "country_id": france.id,
    "currency_id": env.ref("base.EUR").id,
    "street": "1 place du Marché",
    "zip": "75001",
    "city": "Paris",
    "vat": "FR23334175221",
    "company_registry": "334175221",
    "email": "contact@ma-boutique.example.com",
    "phone": "+33 1 23 45 67 89",
})
env["res.users"].search([]).write({"tz": "Europe/Paris"})
env.cr.commit()
PYTHON
# Accounting first: its chart of accounts (l10n_fr) is installed right after it, and the demo
# invoices need its journals.
echo "--- accounting, French chart of accounts"
odoo -i account --stop-after-init --no-http --log-level=warn
echo "--- Sales, $module and its demo data"
odoo -i sale_management,"$module" --stop-after-init --no-http --log-level=warn
# Odoo installs a module whose demo data fail without them: say so rather than demo nothing.
# (And no company enrichment from Odoo's partner autocomplete service at the first login.)
if ! odoo_shell <<PYTHON
import sys
account = env.ref("cdiscount_invoice_upload.cdiscount_demo_account", raise_if_not_found=False)
if not account:
    sys.exit(1)
account = account.sudo()  # its URLs are a settings administrator's
account.write({
    "sandbox_api_url": account.sandbox_api_url.replace(":8765/", ":$sandbox_port/"),
    "sandbox_auth_url": account.sandbox_auth_url.replace(":8765/", ":$sandbox_port/"),
})
if "iap_enrich_auto_done" in env["res.company"]._fields:
    env["res.company"].search([]).iap_enrich_auto_done = True
env.cr.commit()
PYTHON
then
    echo "ERROR: the demo data of $module did not load (see the traceback above)." >&2
    exit 1
fi
if [ -n "$demo_lang" ]; then
    echo "--- language $demo_lang"
    odoo_shell <<PYTHON
env["res.lang"]._activate_lang("$demo_lang")
env["ir.module.module"].search([("state", "=", "installed")])._update_translations("$demo_lang")
env.ref("base.user_admin").lang = "$demo_lang"
env.cr.commit()
PYTHON
fi

cat <<EOF

=== Odoo on http://127.0.0.1:$odoo_port  (login admin / password admin) ===
  Invoicing > Customers > Invoices: open an invoice of a Cdiscount order (CD-1001 ... CD-1004,
  CD-9001 which the sandbox does not know), "Send to Cdiscount"; or select several, Actions >
  Send to Cdiscount. The status sync runs by itself about a minute after each upload.
  Invoicing > Cdiscount: invoices to review, shipped orders without accepted invoice, imports.
  Invoicing > Configuration > Cdiscount Accounts: the sandbox account, "Test Connection".
  Ctrl-C stops Odoo and the sandbox.

EOF
"$odoo_bin" -c "$conf" -d "$demo_db" --addons-path="$addons_path" --http-interface=127.0.0.1 \
    --http-port="$odoo_port" --db-filter="^${demo_db}\$" --log-level=warn &
odoo_pid=$!
wait "$odoo_pid"
