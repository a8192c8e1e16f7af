"""The sandbox process and its CLI: background start, idempotent start, stop by PID file, env, seed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from sandbox.control import SandboxError
from sandbox.control import SandboxProcess

REPO_ROOT = Path(__file__).resolve().parents[3]


def cli(state_dir, *args, env=None):
    environment = dict(os.environ, PYTHONPATH=str(REPO_ROOT), **(env or {}))
    return subprocess.run([sys.executable, "-m", "sandbox", "--state-dir", str(state_dir), *args],
                          cwd=str(REPO_ROOT), env=environment, capture_output=True, text=True, timeout=180,
                          check=False)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split(")", 1)[1].split()[0] == "Z")


def test_cli_start_status_env_seed_stop(tmp_path):
    state = tmp_path / "state"
    started = cli(state, "start")
    assert started.returncode == 0, started.stderr
    exports = dict(line[len("export "):].split("=", 1) for line in started.stdout.splitlines())
    endpoint = exports["AWS_ENDPOINT_URL"]
    assert endpoint.startswith("http://127.0.0.1:")
    assert exports["AWS_ACCESS_KEY_ID"] == "testing" and exports["AWS_DEFAULT_REGION"] == "us-east-1"
    assert (state / "env.sh").read_text() == started.stdout
    pid = int((state / "sandbox.pid").read_text())
    try:
        assert alive(pid)
        again = cli(state, "start")
        assert again.returncode == 0 and "already running" in again.stderr
        assert int((state / "sandbox.pid").read_text()) == pid

        status = cli(state, "status")
        assert status.returncode == 0 and f'"pid": {pid}' in status.stdout
        assert cli(state, "env").stdout == started.stdout

        seeded = cli(state, "seed", str(REPO_ROOT / "sandbox" / "estates" / "minimal.yml"))
        assert seeded.returncode == 0, seeded.stderr
        assert (state / "estate_vars.yml").exists() and (state / "seed_result.json").exists()
        ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-west-2", aws_access_key_id="testing",
                           aws_secret_access_key="testing")
        assert ec2.meta.endpoint_url == endpoint

        faults = cli(state, "faults", "--service", "ec2", "--throttle-rate", "0.5")
        assert faults.returncode == 0 and '"throttle_rate": 0.5' in faults.stdout
        requests = cli(state, "requests", "--mutating")
        assert "ec2:RunInstances (mutating)" in requests.stdout
        assert cli(state, "reset").returncode == 0
        assert cli(state, "requests", "--json").stdout.strip() == "[]"

        invalid = tmp_path / "invalid.yml"
        invalid.write_text("version: 1\nregions: {primary: us-east-1, dr: us-east-1}\n")
        refused = cli(state, "seed", str(invalid))
        assert refused.returncode == 4
        assert "regions.dr: must differ" in refused.stderr and "customers: required" in refused.stderr
    finally:
        stopped = cli(state, "stop")
    assert stopped.returncode == 0 and "sandbox stopped" in stopped.stdout
    assert not alive(pid)
    assert not (state / "sandbox.pid").exists()
    assert cli(state, "status").returncode == 3
    assert "no sandbox running" in cli(state, "stop").stdout
    no_env = cli(state, "env")
    assert no_env.returncode == 1 and "no sandbox is running" in no_env.stderr


def test_process_start_is_idempotent_and_stop_uses_the_pid(tmp_path):
    process = SandboxProcess(tmp_path)
    info, started = process.start()
    try:
        assert started
        assert process.running_pid() == info["pid"]
        info2, started2 = process.start()
        assert not started2 and info2["endpoint"] == info["endpoint"]
        assert process.status()["health"]["status"] == "ok"
    finally:
        assert process.stop()
    assert not alive(info["pid"])
    assert process.running_pid() is None
    assert not process.stop()


def test_stale_pid_file_is_not_trusted(tmp_path):
    # A PID file naming some other live process (this test's own) must not be treated as the sandbox.
    (tmp_path / "sandbox.pid").write_text(f"{os.getpid()}\n")
    process = SandboxProcess(tmp_path)
    assert process.running_pid() is None
    with pytest.raises(SandboxError, match="no sandbox is running"):
        process.env()
    assert not process.stop()
    assert alive(os.getpid())


def test_start_failure_reports_the_log(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        with pytest.raises(SandboxError, match="exited during start"):
            SandboxProcess(tmp_path).start(port=port, timeout=60)
    assert not (tmp_path / "sandbox.pid").exists()


def test_demo_without_playbook_says_so(tmp_path, monkeypatch):
    from sandbox import cli as cli_module

    monkeypatch.setattr(cli_module, "DEMO_PLAYBOOK", tmp_path / "missing-demo.yml")
    assert cli_module.main(["--state-dir", str(tmp_path), "demo"]) == 2
    assert SandboxProcess(tmp_path).running_pid() is None


def test_demo_playbook_reads_only_and_assumes_roles_with_external_ids(sandbox, demo_estate):
    sandbox.clear_requests()
    rc, out, err = sandbox.run_ansible(["playbooks/demo.yml"], estate_vars=True)
    assert rc == 0, out + err
    entries = sandbox.requests()
    assert [e for e in entries if e["mutating"]] == []
    assumed = [e for e in entries if e["operation"] == "AssumeRole"]
    assert {e["role_arn"].split(":")[4] for e in assumed} == {"210987654321", "345678901234"}
    expected = {"210987654321": "edr-demo-workload-a", "345678901234": "edr-demo-workload-b"}
    assert all(e["external_id"] == expected[e["role_arn"].split(":")[4]] for e in assumed)
    drs_accounts = {e["account"] for e in entries if e["service"] == "drs"}
    assert {"210987654321", "345678901234"} <= drs_accounts
