"""Shared helpers of the application-tier adapter tests (Auto Scaling, ECS, Lambda, Route 53)."""

from __future__ import annotations

import json
import subprocess
import time

from sandbox.harness import REPO_ROOT
from sandbox.harness import crash

ACCOUNT = "210987654321"
PRIMARY = "us-east-1"
DR = "us-west-2"
ESTATE = "tests/integration/estates/app_tier.yml"
COMMON = ["-e", "execution_store=file", "-e", "poll_interval=1", "-e", "approval_mode=automatic",
          "-e", "allow_automatic_production=true", "-e", "wait_timeout_minutes=3"]


def run(sandbox, playbook, store, *extra, check=False):
    args = [f"playbooks/{playbook}", "-e", f"execution_store_path={store}", *COMMON, *extra]
    if check:
        args.append("--check")
    return sandbox.run_ansible(args)


def records(store):
    return [json.loads(p.read_text()) for p in sorted((store / "executions").glob("*.json"))]


def resources_of(store, record):
    """``{resource ARN: entry}`` of an execution in the file store."""
    path = store / "resources" / f"{record['execution_id']}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def mutating(sandbox, service):
    return [r for r in sandbox.mutating_requests(service) if r["status"] and r["status"] < 400]


def start_and_kill_when(sandbox, store, playbook, condition, *extra, timeout=240):
    """Start a playbook and kill -9 its process group once ``condition()`` holds (mid-phase)."""
    command = [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), f"playbooks/{playbook}",
               "-e", f"execution_store_path={store}", *COMMON, *extra]
    process = subprocess.Popen(command, cwd=str(REPO_ROOT), env=sandbox.ansible_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise AssertionError(f"{playbook} ended (rc {process.returncode}) before the kill point")
            if condition():
                crash(process)
                return
            time.sleep(0.2)
        raise AssertionError("the kill point was never reached")
    finally:
        if process.poll() is None:
            crash(process)
