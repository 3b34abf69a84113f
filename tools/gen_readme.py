"""Write README.rst from __manifest__.py and the fragments of readme/ (OCA's layout).

    python3 tools/gen_readme.py           write README.rst (make readme)
    python3 tools/gen_readme.py --check   exit 1 when README.rst is not what they give (make lint)

README.rst is generated: edit readme/*.rst (or the manifest), then run `make readme`.

The order is OCA's (oca-gen-addon-readme): the title (the manifest's name), its summary,
then readme/QUICKSTART.rst (the commands for a fresh clone: it must name `make demo` and
`make test`), badges (license, development status when the manifest has one), the table of
contents, Description, Installation, Configuration, Usage, Development, Known issues /
Roadmap, Changelog, and Credits (Authors from the manifest, Contributors, Maintainers from
the manifest's `maintainers` when present). A missing optional fragment drops its section.

Standard library only. When docutils can be imported, the result is also parsed, and a
reStructuredText warning or error fails the run (without docutils that check is skipped,
and says so).
"""

import argparse
import ast
import difflib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = "README.rst"
FRAGMENTS_DIR = "readme"
QUICKSTART = "QUICKSTART"
QUICKSTART_MUST_NAME = ("make demo", "make test")
REQUIRED = (QUICKSTART, "DESCRIPTION")
# (fragment, section title), in OCA's order; the Credits section comes after them.
SECTIONS = (
    ("DESCRIPTION", "Description"),
    ("CONTEXT", "Use Cases / Context"),
    ("INSTALL", "Installation"),
    ("CONFIGURE", "Configuration"),
    ("USAGE", "Usage"),
    ("DEVELOP", "Development"),
    ("ROADMAP", "Known issues / Roadmap"),
    ("HISTORY", "Changelog"),
)
LICENSE_BADGES = {  # OCA's license badges: (label for shields.io, link)
    "AGPL-3": ("AGPL--3", "https://www.gnu.org/licenses/agpl-3.0-standalone.html"),
    "LGPL-3": ("LGPL--3", "https://www.gnu.org/licenses/lgpl-3.0-standalone.html"),
    "GPL-3": ("GPL--3", "https://www.gnu.org/licenses/gpl-3.0-standalone.html"),
    "OPL-1": ("OPL--1", "https://www.odoo.com/documentation/master/legal/licenses.html"),
}
STATUS_COLOURS = {
    "alpha": "red",
    "beta": "yellow",
    "production/stable": "green",
    "mature": "brightgreen",
}


class ReadmeError(Exception):
    """A fragment or the manifest cannot give a README (exit status 2)."""


def read_manifest(root):
    """The manifest as a dict, read without importing Odoo (it is a Python literal)."""
    path = root / "__manifest__.py"
    try:
        manifest = ast.literal_eval(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, SyntaxError) as exc:
        raise ReadmeError(f"{path}: cannot read the manifest ({exc})") from None
    if not isinstance(manifest, dict) or not manifest.get("name"):
        raise ReadmeError(f"{path}: not a manifest with a name")
    return manifest


def read_fragments(root):
    """{NAME: text} of readme/NAME.rst, trailing spaces and blank lines removed."""
    fragments = {}
    folder = root / FRAGMENTS_DIR
    for path in sorted(folder.glob("*.rst")):
        lines = [line.rstrip() for line in path.read_text(encoding="utf-8").splitlines()]
        text = "\n".join(lines).strip("\n")
        if text:
            fragments[path.stem.upper()] = text
    missing = [name for name in REQUIRED if name not in fragments]
    if missing:
        names = ", ".join(f"{FRAGMENTS_DIR}/{name}.rst" for name in missing)
        raise ReadmeError(f"missing or empty: {names}")
    absent = [cmd for cmd in QUICKSTART_MUST_NAME if cmd not in fragments[QUICKSTART]]
    if absent:
        raise ReadmeError(
            f"{FRAGMENTS_DIR}/{QUICKSTART}.rst must open the README with the commands for a "
            f"fresh clone; it does not name: {', '.join(absent)}"
        )
    return fragments


def _title(text, char, overline=False):
    rule = char * len(text)
    return f"{rule}\n{text}\n{rule}" if overline else f"{text}\n{rule}"


def _as_list(value):
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    if isinstance(value, (list, tuple)):
        return [str(item).strip() for item in value if str(item).strip()]
    return []


def _badges(manifest):
    """[(name, image, target)] from the license and the development status."""
    badges = []
    license_name = str(manifest.get("license") or "").strip()
    if license_name:
        label, target = LICENSE_BADGES.get(
            license_name, (license_name.replace("-", "--").replace(" ", "_"), "")
        )
        image = f"https://img.shields.io/badge/license-{label}-blue.png"
        badges.append(("license", image, target))
    status = str(manifest.get("development_status") or "").strip()
    if status:
        colour = STATUS_COLOURS.get(status.lower(), "lightgrey")
        label = status.replace("-", "--").replace(" ", "_").replace("/", "%2F")
        image = f"https://img.shields.io/badge/maturity-{label}-{colour}.png"
        badges.append(("maturity", image, "https://odoo-community.org/page/development-status"))
    return badges


def _credits(manifest, fragments):
    parts = [_title("Credits", "=")]
    authors = _as_list(manifest.get("author"))
    if authors:
        parts += [_title("Authors", "-"), "\n".join(f"* {author}" for author in authors)]
    if "CONTRIBUTORS" in fragments:
        parts += [_title("Contributors", "-"), fragments["CONTRIBUTORS"]]
    if "CREDITS" in fragments:
        parts += [_title("Other credits", "-"), fragments["CREDITS"]]
    parts.append(_title("Maintainers", "-"))
    maintainers = _as_list(manifest.get("maintainers"))
    if maintainers:
        word = "maintainers" if len(maintainers) > 1 else "maintainer"
        names = "\n".join(f"* `{m} <https://github.com/{m}>`__" for m in maintainers)
        parts.append(f"Current {word}:\n\n{names}")
    else:
        parts.append("No maintainer is named in the manifest yet.")
    website = str(manifest.get("website") or "").strip()
    if website:
        parts.append(f"Home page: {website}")
    return parts


def render(manifest, fragments):
    """The text of README.rst."""
    name = str(manifest["name"]).strip()
    parts = [_title(name, "=", overline=True)]
    summary = " ".join(str(manifest.get("summary") or "").split())
    if summary:
        parts.append(summary if summary.endswith(".") else summary + ".")
    parts.append(fragments[QUICKSTART])
    parts.append(
        "..\n"
        "   This file is generated by tools/gen_readme.py from __manifest__.py and readme/*.rst:\n"
        "   edit those, then run `make readme`. `make lint` fails when this file differs."
    )
    badges = _badges(manifest)
    if badges:
        parts.append(" ".join(f"|{badge}|" for badge, _image, _target in badges))
    status = str(manifest.get("development_status") or "").strip().lower()
    if status == "alpha":
        parts.append(
            ".. IMPORTANT::\n"
            "   This is an alpha version: the data model and design can change at any time.\n"
            "   Only for development or testing, not for production."
        )
    parts.append("**Table of contents**\n\n.. contents::\n   :local:")
    for fragment, title in SECTIONS:
        if fragment in fragments:
            parts += [_title(title, "="), fragments[fragment]]
    parts += _credits(manifest, fragments)
    for badge, image, target in badges:
        definition = f".. |{badge}| image:: {image}\n   :alt: {badge}"
        if target:
            definition += f"\n   :target: {target}"
        parts.append(definition)
    return "\n\n".join(parts) + "\n"


def rst_problems(text, source):
    """docutils' warnings and errors on `text`; None when docutils is not installed."""
    try:
        import docutils.core  # noqa: PLC0415 (optional)
        import docutils.utils  # noqa: PLC0415
    except ImportError:
        return None
    import io  # noqa: PLC0415

    stream = io.StringIO()
    settings = {
        "report_level": docutils.utils.Reporter.WARNING_LEVEL,
        "halt_level": docutils.utils.Reporter.SEVERE_LEVEL + 1,
        "warning_stream": stream,
        "file_insertion_enabled": False,
        "raw_enabled": False,
    }
    docutils.core.publish_doctree(text, source_path=source, settings_overrides=settings)
    return [line for line in stream.getvalue().splitlines() if line.strip()]


def say(text, error=False):
    """One message line, on stderr for an error (no print: pylint-odoo's print-used)."""
    (sys.stderr if error else sys.stdout).write(f"{text}\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 when README.rst differs from what the fragments give",
    )
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = args.root.resolve()
    readme = root / README
    try:
        text = render(read_manifest(root), read_fragments(root))
    except ReadmeError as exc:
        say(f"gen_readme: {exc}", error=True)
        return 2

    failed = False
    problems = rst_problems(text, str(readme))
    if problems is None:
        say("gen_readme: docutils not installed: reStructuredText not checked", error=True)
    elif problems:
        say("gen_readme: the README is not clean reStructuredText:", error=True)
        say("\n".join(problems), error=True)
        failed = True

    current = readme.read_text(encoding="utf-8") if readme.exists() else ""
    if args.check:
        if current != text:
            diff = difflib.unified_diff(
                current.splitlines(),
                text.splitlines(),
                f"{README} (as it is)",
                f"{README} (from {FRAGMENTS_DIR}/ and __manifest__.py)",
                lineterm="",
            )
            shown = list(diff)
            say("\n".join(shown[:60]), error=True)
            if len(shown) > 60:
                say(f"... {len(shown) - 60} more diff lines", error=True)
            say(
                f"gen_readme: {README} is out of date: edit {FRAGMENTS_DIR}/*.rst, not "
                f"{README}, then run `make readme`",
                error=True,
            )
            failed = True
        elif not failed:
            say(f"gen_readme: {README} is up to date")
    elif current != text:
        readme.write_text(text, encoding="utf-8")
        say(f"gen_readme: wrote {README} ({text.count(chr(10))} lines)")
    else:
        say(f"gen_readme: {README} unchanged")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
