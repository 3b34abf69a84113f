#!/usr/bin/env bash
# pylint-odoo on the addon, seen under its technical name (as Odoo sees it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=$(cd "${1:-$root/.venv}" && pwd)  # absolute: the lint runs from a temporary folder
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check pylint-odoo==10.0.12 pylint==4.0.10
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ln -s "$root" "$work/cdiscount_invoice_upload"
cd "$work"
"$venv/bin/pylint" --rcfile "$root/.pylintrc" \
    --disable=prefer-env-translation,manifest-required-author,manifest-version-format \
    cdiscount_invoice_upload
