# Sourced by the scripts that run the addon on an installed Odoo 18 (tests, translations).
# odoo_prepare: sets odoo_bin, work (a temp folder, removed by odoo_cleanup), conf (a copy of
# $ODOO_RC or an empty config, saved once by Odoo to learn its default addons path) and
# addons_path (Odoo's own, plus a folder holding this checkout under the technical name).
# Needs `root` (the checkout) and `module` set by the caller.

odoo_prepare() {
    odoo_bin=$("$root/tools/find_odoo.sh")
    if [ -z "$odoo_bin" ]; then
        echo "ERROR: no Odoo 18 found: set ODOO_BIN or put 'odoo' on PATH (see README.rst)." >&2
        return 2
    fi
    "$root/tools/start_postgres.sh" || { echo "ERROR: PostgreSQL is not reachable." >&2; return 2; }
    work=$(mktemp -d)
    # Link only the visible top-level entries: hidden folders (.venv, .git, caches) are not
    # part of the addon, and Odoo's translation export would scan their Python files.
    mkdir -p "$work/addons/$module"
    for entry in "$root"/*; do
        ln -s "$entry" "$work/addons/$module/$(basename "$entry")"
    done
    conf="$work/odoo.conf"
    if [ -n "${ODOO_RC:-}" ]; then cp "$ODOO_RC" "$conf"; else : >"$conf"; fi
    "$odoo_bin" -c "$conf" --save --stop-after-init --no-http >/dev/null 2>&1
    local base_path
    base_path=$(sed -n 's/^addons_path *= *//p' "$conf")
    addons_path="${base_path:+$base_path,}$work/addons"
    # Odoo's test mode listens on HTTP even with --no-http: a free port lets runs coexist.
    http_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
}

odoo_cleanup() {
    [ -n "${db:-}" ] && dropdb --if-exists "$db" >/dev/null 2>&1
    [ -n "${work:-}" ] && rm -rf "$work"
    return 0
}
