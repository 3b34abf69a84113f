#!/usr/bin/env bash
# Prints the path of an installed Odoo 18 executable, or nothing. Never installs Odoo.
# Looks at $ODOO_BIN, then `odoo` and `odoo-bin` on PATH.
for candidate in "${ODOO_BIN:-}" "$(command -v odoo 2>/dev/null)" "$(command -v odoo-bin 2>/dev/null)"; do
    [ -n "$candidate" ] && [ -x "$candidate" ] || continue
    if "$candidate" --version 2>/dev/null | grep -Eq 'Odoo Server 18\.0'; then
        echo "$candidate"
        exit 0
    fi
done
exit 0
