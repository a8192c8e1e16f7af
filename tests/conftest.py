"""Shared fixtures: the local AWS sandbox (started once per session, only when a test asks for it)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from sandbox.harness import DEMO_ESTATE  # noqa: E402
from sandbox.harness import Sandbox  # noqa: E402


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory):
    """A sandbox on a free loopback port; its AWS_* variables are exported for subprocesses."""
    state_dir = tmp_path_factory.mktemp("sandbox")
    instance = Sandbox(state_dir=state_dir, port=int(os.environ.get("SANDBOX_PORT", "0")))
    instance.start(export=True)
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def demo_estate(sandbox):
    """A fresh sandbox with the demo estate seeded; returns the seed result (every created ID)."""
    sandbox.reset()
    return sandbox.seed(DEMO_ESTATE)


@pytest.fixture
def clean_sandbox(sandbox):
    """A sandbox with no state, no faults and an empty request log."""
    sandbox.reset()
    return sandbox
