"""pytest plugin for the Odoo-free tier.

The repository root is an Odoo addon whose __init__.py imports odoo. pytest would collect the
root, on its way to tests_core/, as a package and import its __init__.py; collect it as a plain
folder so that only the Odoo-free core (imported as the top-level package `octopia`) is ever
loaded.
"""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PLAIN = {ROOT}


def pytest_collect_directory(path, parent):
    if Path(path).resolve() in PLAIN:
        return pytest.Dir.from_parent(parent, path=Path(path))
    return None
