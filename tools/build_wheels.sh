#!/usr/bin/env bash
# make wheel: one wheel of the addon per Odoo series, in dist/ (docs/packaging.rst).
#
#   tools/build_wheels.sh [SERIES...]     (default: 18.0 19.0)
#
# For each series: the git-tracked runtime files (as they are in the work tree, like whool)
# are copied to build/wheel/<series>/cdiscount_invoice_upload, the manifest version of that
# copy becomes <series>.1.1.0 (the repository's manifest keeps its series-free "1.1.0"), and
# `pip wheel --no-deps` builds it with whool (pyproject.toml) into dist/.
# What only developers use (tools, bench, docs, CI, lint and test configuration, the core's
# pytest tests) is left out. A tracked top-level entry listed in neither RUNTIME nor DEV_ONLY
# stops the build: say where it belongs.
# PYTHON: the interpreter whose pip builds (default: .venv's, else python3).
# Prints "wheel <series>: dist/<file>.whl" for each wheel built.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
module=cdiscount_invoice_upload
python=${PYTHON:-}
[ -n "$python" ] || { [ -x "$root/.venv/bin/python" ] && python=$root/.venv/bin/python; } || python=python3

# Top-level entries of the repository: what Odoo loads, and what only developers use.
RUNTIME=" __init__.py __manifest__.py compat.py octopia_import.py README.rst readme migrations models
 wizards views security data demo i18n static octopia tests "
DEV_ONLY=" .ci .gitignore .pylintrc .pre-commit-config.yaml Makefile pyproject.toml bench docs
 tools tests_core pytest.ini ruff.toml requirements-dev.txt requirements-dev.lock
 requirements-oldest.txt "
# Paths under a RUNTIME entry that are still left out: the Odoo-free core's pytest tests where
# they used to be (tests_core/ now).
EXCLUDED_PREFIXES="octopia/tests/"

series_list=("$@")
[ "${#series_list[@]}" -gt 0 ] || series_list=(18.0 19.0)

cd "$root"
mapfile -d "" -t tracked < <(git ls-files -z)
runtime_files=()
unknown=()
for path in "${tracked[@]}"; do
    top=${path%%/*}
    case "$RUNTIME" in *[[:space:]]"$top"[[:space:]]*)
        skip=0
        for prefix in $EXCLUDED_PREFIXES; do
            case "$path" in "$prefix"*) skip=1 ;; esac
        done
        [ "$skip" -eq 1 ] || runtime_files+=("$path")
        continue ;;
    esac
    case "$DEV_ONLY" in *[[:space:]]"$top"[[:space:]]*) continue ;; esac
    unknown+=("$top")
done
if [ "${#unknown[@]}" -gt 0 ]; then
    echo "ERROR: tools/build_wheels.sh does not know whether these tracked entries belong in the" \
        "wheel: $(printf '%s\n' "${unknown[@]}" | sort -u | xargs). Add each to RUNTIME or DEV_ONLY." >&2
    exit 2
fi
# The work tree is what gets packaged: say when it is not the commit.
# shellcheck disable=SC2086  # RUNTIME: a list of top-level names
changed=$(git status --porcelain -- $RUNTIME | grep -vE '^.. "?octopia/tests/' || true)
if [ -n "$changed" ]; then
    echo "WARNING: uncommitted changes in the runtime files; the wheel holds the work tree's" \
        "tracked files, not untracked ones:" >&2
    echo "$changed" | sed 's/^/    /' >&2
fi

mkdir -p dist
for series in "${series_list[@]}"; do
    case "$series" in
    [0-9]*.0) ;;
    *) echo "ERROR: not an Odoo series: $series (e.g. 18.0)" >&2; exit 2 ;;
    esac
    stage_parent="$root/build/wheel/$series"
    stage="$stage_parent/$module"
    rm -rf "$stage_parent"
    mkdir -p "$stage"
    for path in "${runtime_files[@]}"; do
        [ -e "$path" ] || continue  # deleted in the work tree, not yet in the index
        mkdir -p "$stage/$(dirname "$path")"
        cp -p "$path" "$stage/$path"
    done
    # The series goes into the staged manifest's version, and into whool's options.
    "$python" - "$stage/__manifest__.py" "$series" <<'EOF'
import ast
import re
import sys

path, series = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    text = f.read()
version = ast.literal_eval(text)["version"]
if not re.fullmatch(r"\d+\.\d+\.\d+", version):
    sys.exit(f"ERROR: {path}: version {version!r} is not the series-free x.y.z expected")
comment = f"  # the {series} wheel's copy (tools/build_wheels.sh)"
new_text, count = re.subn(
    r"""(["']version["']\s*:\s*)(["'])%s\2(\s*,)?[^\n]*""" % re.escape(version),
    lambda m: m.group(1) + f'"{series}.{version}"' + ("," if m.group(3) else "") + comment,
    text,
)
if count != 1 or ast.literal_eval(new_text)["version"] != f"{series}.{version}":
    sys.exit(f"ERROR: {path}: could not rewrite the version {version!r}")
with open(path, "w", encoding="utf-8") as f:
    f.write(new_text)
EOF
    sed -E "s/^odoo_series_override = .*/odoo_series_override = \"$series\"/" \
        pyproject.toml >"$stage/pyproject.toml"
    grep -q "^odoo_series_override = \"$series\"$" "$stage/pyproject.toml" ||
        { echo "ERROR: pyproject.toml has no [tool.whool] odoo_series_override line" >&2; exit 2; }
    version=$("$python" -c 'import ast, sys; print(ast.literal_eval(open(sys.argv[1]).read())["version"])' \
        "$stage/__manifest__.py")
    wheel_name="odoo_addon_${module}-${version}-py3-none-any.whl"
    rm -f "dist/$wheel_name"
    # The staged copy sits inside this checkout's ignored build/: git must not see the checkout
    # from there, or whool would package `git ls-files` of it (nothing). Without git, whool
    # copies the staged folder whole, and takes the manifest's version as it is.
    GIT_CEILING_DIRECTORIES="$stage_parent" \
        "$python" -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir dist "$stage"
    # What whool wrote must be what we meant.
    "$python" - "dist/$wheel_name" "$version" "$series" <<'EOF'
import sys
import zipfile
from email.parser import HeaderParser

wheel, version, series = sys.argv[1:]
with zipfile.ZipFile(wheel) as zf:
    meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
    meta = HeaderParser().parsestr(zf.read(meta_name).decode())
    names = zf.namelist()
problems = []
if meta["Name"] != "odoo-addon-cdiscount_invoice_upload":
    problems.append(f"Name {meta['Name']}")
if meta["Version"] != version:
    problems.append(f"Version {meta['Version']}")
if f"odoo=={series}.*" not in meta.get_all("Requires-Dist", []):
    problems.append(f"Requires-Dist {meta.get_all('Requires-Dist')}")
if "odoo/addons/cdiscount_invoice_upload/__manifest__.py" not in names:
    problems.append("no odoo/addons/cdiscount_invoice_upload/__manifest__.py")
if problems:
    sys.exit(f"ERROR: {wheel}: unexpected " + "; ".join(problems))
EOF
    echo "wheel $series: dist/$wheel_name"
done
