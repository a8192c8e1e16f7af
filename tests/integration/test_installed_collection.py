"""The installed collection, run by FQCN from an empty directory without ansible.cfg, refuses exactly the same.

Observation 6 of issue 12: without the repository's ansible.cfg the dr_controller vars plugin and the dr_audit
callback are not enabled; the up-front "no terminal, required approval" refusal must not depend on them.
"""

import os
import shutil
import subprocess

import pytest

from sandbox.harness import DEMO_ESTATE
from sandbox.harness import REPO_ROOT

pytestmark = [pytest.mark.sandbox, pytest.mark.playbook, pytest.mark.slow]

BIN = REPO_ROOT / ".venv" / "bin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The collection built from this working copy and installed into an empty collections path."""
    root = tmp_path_factory.mktemp("installed")
    dist, collections = root / "dist", root / "collections"
    # From an empty directory with no ANSIBLE_* variables: the repository's ansible.cfg plays no part.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    built = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(REPO_ROOT), "--output-path",
                            str(dist)], cwd=str(root), capture_output=True, text=True, env=env, check=False,
                           timeout=300)
    assert built.returncode == 0, built.stdout + built.stderr
    tarball = next(dist.glob("enterprise_dr-orchestration-*.tar.gz"))
    # --no-deps: amazon.aws comes with the ansible package (galaxy.ansible.com is not reachable here).
    done = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(collections),
                           "--no-deps"], cwd=str(root), capture_output=True, text=True, env=env, check=False,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    installed_root = collections / "ansible_collections" / "enterprise_dr" / "orchestration"
    assert (installed_root / "playbooks" / "drill.yml").exists()
    return collections


def run_installed(sandbox, collections, workdir, *args):
    """ansible-playbook by FQCN from ``workdir`` (empty, no ansible.cfg), stdin not a terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(sandbox.env)
    env.update(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_NOCOLOR="1", HOME=str(workdir / "home"))
    inventory = workdir / "estate.dr_resources.yml"
    shutil.copy(REPO_ROOT / "inventory" / "sandbox.dr_resources.yml", inventory)
    done = subprocess.run([str(BIN / "ansible-playbook"), "-i", str(inventory), *args], cwd=str(workdir), env=env,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False, timeout=600)
    return done.returncode, done.stdout + done.stderr


def test_required_approval_without_a_terminal_is_refused_before_any_change(sandbox, installed, tmp_path):
    sandbox.reset()
    sandbox.seed(DEMO_ESTATE)
    store = tmp_path / "store"
    workdir = tmp_path / "empty"
    workdir.mkdir()
    before = len(sandbox.requests())
    rc, out = run_installed(sandbox, installed, workdir, "enterprise_dr.orchestration.drill", "-e", "customer=globex",
                            "-e", '{"dr_technologies": ["drs"]}', "-e", "execution_store=file",
                            "-e", f"execution_store_path={store}")
    assert rc != 0, out[-3000:]
    # the run got as far as its plan (globex's resources were found), then refused
    assert "No DR-enabled resource is in scope" not in out
    assert "approval_mode=required needs an operator at a terminal" in out, out[-3000:]
    assert "-e approval_mode=record" in out
    assert [r for r in sandbox.requests()[before:] if r["mutating"]] == []
    # it did read the estate (the refusal is not an empty run)
    assert any(r["service"] == "drs" and not r["mutating"] for r in sandbox.requests()[before:])
    # refused before the record: no execution, no lock left behind
    assert not store.exists() or not any(p.is_file() for p in store.rglob("*"))
    assert not (workdir / "ansible.cfg").exists()


def test_a_variable_typo_is_refused_from_the_installed_collection(sandbox, installed, tmp_path):
    sandbox.reset()
    sandbox.seed(DEMO_ESTATE)
    workdir = tmp_path / "empty"
    workdir.mkdir()
    before = len(sandbox.mutating_requests())
    rc, out = run_installed(sandbox, installed, workdir, "enterprise_dr.orchestration.failover", "-e", "customer=acme",
                            "-e", "aproval_mode=automatic")
    assert rc != 0
    assert "unknown variable aproval_mode; did you mean approval_mode?" in out
    assert sandbox.mutating_requests()[before:] == []


def test_a_drill_from_the_installed_collection_runs_and_leaves_nothing_behind(sandbox, installed, tmp_path):
    """The same drill the demo runs, by FQCN from the installed collection: it succeeds, its record is closed, and
    no drill recovery instance is left (the drill cleans up without the repository's ansible.cfg)."""
    import json

    sandbox.reset()
    sandbox.seed(DEMO_ESTATE)
    store = tmp_path / "store"
    workdir = tmp_path / "empty"
    workdir.mkdir()
    rc, out = run_installed(sandbox, installed, workdir, "enterprise_dr.orchestration.drill", "-e", "customer=globex",
                            "-e", "approval_mode=automatic", "-e", '{"dr_technologies": ["drs"]}',
                            "-e", "poll_interval=1", "-e", "execution_store=file",
                            "-e", f"execution_store_path={store}")
    assert rc == 0, out[-4000:]
    [record] = [json.loads(p.read_text()) for p in (store / "executions").glob("*.json")]
    assert (record["customer"], record["operation"], record["status"]) == ("globex", "drill", "succeeded")
    drs = sandbox.client("drs", "345678901234", "us-west-2")
    assert drs.describe_recovery_instances(filters={})["items"] == []
    started = [r for r in sandbox.requests(service="drs") if r["operation"] == "StartRecovery" and r["status"] < 300]
    assert started, "the drill launched nothing"
    assert not (workdir / "ansible.cfg").exists()


def test_prepare_from_the_installed_collection_configures_only_its_customer(sandbox, installed, tmp_path):
    """playbooks/prepare.yml by FQCN from an empty directory: check mode changes nothing, the run points every
    launch-into server of the customer at its target, and a re-run changes nothing."""
    sandbox.reset()
    sandbox.seed(DEMO_ESTATE)
    workdir = tmp_path / "empty"
    workdir.mkdir()

    def updates():
        return [r for r in sandbox.requests(service="drs") if r["operation"] == "UpdateLaunchConfiguration"]

    sandbox.clear_requests()
    rc, out = run_installed(sandbox, installed, workdir, "enterprise_dr.orchestration.prepare", "-e", "customer=acme",
                            "--check")
    assert rc == 0, out[-3000:]
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []
    assert "would be configured" in out

    rc, out = run_installed(sandbox, installed, workdir, "enterprise_dr.orchestration.prepare", "-e", "customer=acme")
    assert rc == 0, out[-3000:]
    scopes = {(r["account"], r["region"]) for r in updates()}
    assert scopes, "nothing was configured"
    # Every server now launching into a target is acme's (its own DRS tags say so), and acme has some.
    customers = []
    for account, region in sorted(scopes):
        drs = sandbox.client("drs", account, region)
        for server in drs.describe_source_servers(filters={})["items"]:
            settings = drs.get_launch_configuration(sourceServerID=server["sourceServerID"])
            if (settings.get("launchIntoInstanceProperties") or {}).get("launchIntoEC2InstanceID"):
                customers.append(server["tags"].get("Customer"))
    assert customers and set(customers) == {"acme"}, customers

    sandbox.clear_requests()
    rc, out = run_installed(sandbox, installed, workdir, "enterprise_dr.orchestration.prepare", "-e", "customer=acme")
    assert rc == 0, out[-3000:]
    assert updates() == []
    assert not (workdir / "ansible.cfg").exists()
