# Sourced by the scripts that run the addon on an installed Odoo (tests, translations, demo,
# bench): the first one tools/find_odoo.sh finds, so ODOO_BIN=<path> picks one.
# odoo_prepare: sets odoo_bin, odoo_series (18.0, 19.0...), no_demo / with_demo (the flags
# that install without / with demo data on that series), work (a temp folder, removed by
# odoo_cleanup), conf (a copy of $ODOO_RC or an empty config, saved once by Odoo to learn its
# default addons path) and addons_path (Odoo's own, plus a folder holding this checkout under
# the technical name).
# Needs `root` (the checkout) and `module` set by the caller.

odoo_prepare() {
    odoo_bin=$("$root/tools/find_odoo.sh" --one)
    if [ -z "$odoo_bin" ]; then
        echo "ERROR: no Odoo 18.0 or 19.0 found: set ODOO_BIN or put odoo18/odoo19 on PATH (see README.rst)." >&2
        return 2
    fi
    odoo_series=$("$odoo_bin" --version 2>/dev/null | sed -nE 's/^Odoo Server ([0-9]+\.[0-9]+).*/\1/p')
    # 18.0 loads demo data unless told; from 19.0 it is off by default and the flag is boolean.
    case "$odoo_series" in
    18.*) no_demo="--without-demo=all" with_demo="" ;;
    *) no_demo="--without-demo=True" with_demo="--with-demo" ;;
    esac
    "$root/tools/start_postgres.sh" || { echo "ERROR: PostgreSQL is not reachable." >&2; return 2; }
    work=$(mktemp -d)
    # Link only the visible top-level entries: hidden folders (.venv, .git, caches) are not
    # part of the addon, and Odoo's translation export would scan their Python files.
    mkdir -p "$work/addons/$module"
    # What git ignores (build/, dist/: wheels and their test installs) is not the addon either.
    for entry in "$root"/*; do
        git -C "$root" check-ignore -q "$entry" 2>/dev/null && continue
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
