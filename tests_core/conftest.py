"""Shared fixtures of the Odoo-free tests."""

import pytest

from octopia.sandbox import SandboxServer


@pytest.fixture
def sandbox():
    """A started sandbox on a free port, seeded with the demo client, seller and orders;
    an import stays Running for one read by id."""
    with SandboxServer(running_polls=1) as server:
        server.seed_demo()
        yield server
