"""The Odoo-free core is imported as `octopia` in every process: by the addon inside Odoo, by
its pytest tier, the CLI and the benchmarks. One name means one copy of its module-level state
(the token cache, the error classes) however many of them run in one process.

Odoo imports this addon as `odoo.addons.cdiscount_invoice_upload`; this module, imported
first by the addon's __init__, loads `octopia/` under its own top-level name (the way Python
loads any package from a known folder). Only that folder becomes importable: not the addon's
other folders."""

import importlib.util
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parent / "octopia"


def _register():
    loaded = sys.modules.get("octopia")
    if loaded is not None:
        if Path(loaded.__file__).resolve().parent != CORE:
            raise ImportError(
                f"Another package named 'octopia' is already loaded ({loaded.__file__}): "
                f"Cdiscount Invoice Upload needs its own, in {CORE}."
            )
        return
    spec = importlib.util.spec_from_file_location(
        "octopia", CORE / "__init__.py", submodule_search_locations=[str(CORE)]
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["octopia"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules["octopia"]
        raise


_register()
