#!/usr/bin/env bash
# Lists the installed Odoo executables of the supported series, one line each: "SERIES PATH"
# (the first one found of each series). Never installs Odoo.
# Looks at $ODOO_BIN (one path, or several separated by colons), then odoo, odoo18, odoo19,
# odoo20 and odoo-bin on PATH.
# With --one: only the path of the first one (ODOO_BIN's first entry when it names one).
supported="18.0 19.0 20.0"  # 20.0: accepted when found, not yet tested (no tree could be had)
one=0
[ "${1:-}" = "--one" ] && one=1
candidates=()
IFS=: read -r -a from_env <<<"${ODOO_BIN:-}"
candidates+=("${from_env[@]}")
for name in odoo odoo18 odoo19 odoo20 odoo-bin; do
    candidates+=("$(command -v "$name" 2>/dev/null)")
done
seen=" "
for candidate in "${candidates[@]}"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    series=$("$candidate" --version 2>/dev/null | sed -nE 's/^Odoo Server ([0-9]+\.[0-9]+).*/\1/p')
    case " $supported " in *" $series "*) ;; *) continue ;; esac
    case "$seen" in *" $series "*) continue ;; esac
    seen="$seen$series "
    if [ "$one" -eq 1 ]; then
        echo "$candidate"
        exit 0
    fi
    echo "$series $candidate"
done
exit 0
