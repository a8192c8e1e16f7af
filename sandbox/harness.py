"""Test harness: a sandbox per pytest session, with helpers to seed, inspect and act in accounts.

tests/conftest.py exposes ``Sandbox`` as the session fixture ``sandbox``::

    def test_something(sandbox):
        sandbox.reset()
        result = sandbox.seed("sandbox/estates/demo.yml")
        ec2 = sandbox.session("210987654321", "us-west-2").client("ec2")
        rc, out, err = sandbox.run_ansible(["playbooks/failover.yml", "-e", "customer=acme"])
        assert not [r for r in sandbox.requests() if r["mutating"]]
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from sandbox.control import AdminClient
from sandbox.control import DUMMY_CREDENTIALS
from sandbox.control import ESTATE_VARS_FILE
from sandbox.control import REPO_ROOT
from sandbox.control import SandboxProcess
from sandbox.control import sandbox_env

DEMO_ESTATE = REPO_ROOT / "sandbox" / "estates" / "demo.yml"
ANSIBLE_CONFIG = REPO_ROOT / "ansible.cfg"
WORKLOAD_ROLE_NAME = "EnterpriseDRWorkloadRole"
# The fixed accounts of the project's conventions, used when no estate declared them yet.
CONVENTION_ACCOUNTS = {
    "210987654321": {"name": "workload-a", "role_arn": f"arn:aws:iam::210987654321:role/{WORKLOAD_ROLE_NAME}",
                     "external_id": "edr-demo-workload-a"},
    "345678901234": {"name": "workload-b", "role_arn": f"arn:aws:iam::345678901234:role/{WORKLOAD_ROLE_NAME}",
                     "external_id": "edr-demo-workload-b"},
}


class Sandbox:
    """A running sandbox and the helpers tests use against it."""

    def __init__(self, state_dir: str | os.PathLike | None = None, port: int = 0):
        self._owned_tmp = None
        if state_dir is None:
            self._owned_tmp = tempfile.TemporaryDirectory(prefix="edr-sandbox-")
            state_dir = self._owned_tmp.name
        self.state_dir = Path(state_dir)
        self.process = SandboxProcess(self.state_dir)
        self.port = port
        self.endpoint: str | None = None
        self.env: dict = {}
        self.last_seed: dict | None = None
        self._saved_environ: dict = {}
        self.admin: AdminClient | None = None

    # lifecycle -------------------------------------------------------------------------------
    def start(self, export: bool = True) -> Sandbox:
        info, _started = self.process.start(port=self.port)
        self.endpoint = info["endpoint"]
        self.env = sandbox_env(self.endpoint)
        self.env["SANDBOX_STATE_DIR"] = str(self.state_dir)
        self.admin = AdminClient(self.endpoint)
        if export:
            for key, value in self.env.items():
                self._saved_environ.setdefault(key, os.environ.get(key))
                os.environ[key] = value
        return self

    def stop(self):
        self.process.stop()
        for key, value in self._saved_environ.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_environ = {}
        if self._owned_tmp is not None:
            self._owned_tmp.cleanup()
            self._owned_tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def pid(self) -> int | None:
        return self.process.running_pid()

    # state -----------------------------------------------------------------------------------
    def reset(self):
        """Clear every service's state, the DRS emulator, the request log and the faults."""
        self.admin.reset()
        self.last_seed = None

    def seed(self, estate=DEMO_ESTATE) -> dict:
        """Seed an estate (path or mapping); returns the IDs created (see sandbox.estate.seed)."""
        from sandbox.estate import seed

        if isinstance(estate, str) and not os.path.isabs(estate):
            estate = REPO_ROOT / estate
        self.last_seed = seed(estate, self.endpoint, state_dir=self.state_dir, admin=self.admin)
        return self.last_seed

    @property
    def estate_vars_file(self) -> Path:
        """The ``-e @file`` for playbooks, written by the last seed."""
        return self.state_dir / ESTATE_VARS_FILE

    # request log and faults ------------------------------------------------------------------
    def requests(self, service: str | None = None) -> list[dict]:
        """Requests served since the last clear: service, operation, account, region, method, status, mutating."""
        return self.admin.requests(service=service)

    def mutating_requests(self, service: str | None = None) -> list[dict]:
        return [entry for entry in self.requests(service) if entry["mutating"]]

    def clear_requests(self):
        self.admin.clear_requests()

    def set_faults(self, service: str | None = None, clear: bool = False, drs: dict | None = None, **settings) -> dict:
        """Set faults: latency_ms, error_rate, throttle_rate, throttle_next, error_next (for ``service`` or all).

        ``drs`` passes DRS emulator settings (time_scale, launch_failures, agent_not_ready_seconds, ...).
        ``set_faults(clear=True)`` removes every fault.
        """
        document = {key: value for key, value in settings.items() if value is not None}
        if service:
            document["service"] = service
        if drs:
            document["drs"] = drs
        if clear:
            document["clear"] = True
        return self.admin.set_faults(document)

    def clear_faults(self):
        return self.admin.clear_faults()

    def drs_settings(self, **settings) -> dict:
        return self.admin.drs_settings(**settings)

    def emulator_settings(self, name: str, **settings) -> dict:
        """Change an emulator's settings until the next reset, e.g. ``emulator_settings(
        "elasticache-global-datastores", polls_per_transition=30)`` for a failover still under way at a re-run."""
        return self.admin.emulator_settings(name, **settings)

    def enforce_iam(self, enforce: bool = True) -> dict:
        """Judge every request by the signing identity's IAM policies (sandbox.iam_enforcement), or stop judging.

        The harness's own sessions (``session``) are not judged: they stand for an operator's access, not the
        collection's.
        """
        hub = (self.last_seed or {}).get("hub_account_id")
        return self.admin.iam(enforce=enforce, hub_account=hub)

    # sessions --------------------------------------------------------------------------------
    def account(self, account_id: str) -> dict:
        """role_arn and external_id for a workload account, from the last seeded estate or the conventions."""
        for entry in (self.last_seed or {}).get("accounts", []):
            if entry["account_id"] == account_id or entry["name"] == account_id:
                return entry
        if account_id in CONVENTION_ACCOUNTS:
            return {"account_id": account_id, **CONVENTION_ACCOUNTS[account_id]}
        raise KeyError(f"account {account_id} is not in the seeded estate")

    def session(self, account_id: str | None = None, region: str = "us-east-1"):
        """A boto3 session acting in the account: the hub by default, workloads through AssumeRole + external ID."""
        import boto3

        hub = (self.last_seed or {}).get("hub_account_id", "123456789012")
        base = boto3.session.Session(
            aws_access_key_id=DUMMY_CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=DUMMY_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            region_name=region,
        )
        if account_id is None or account_id == hub:
            # Marked as the sandbox's own (x-moto-account-id), so IAM enforcement does not judge the tests' reads.
            base.events.register("before-sign", lambda request, **_: request.headers.__setitem__(
                "x-moto-account-id", hub))
            return base
        account = self.account(account_id)
        sts = base.client("sts", endpoint_url=self.endpoint)
        credentials = sts.assume_role(
            RoleArn=account["role_arn"], RoleSessionName="edr-tests", ExternalId=account["external_id"],
            DurationSeconds=900,
        )["Credentials"]
        return boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )

    def client(self, service: str, account_id: str | None = None, region: str = "us-east-1"):
        return self.session(account_id, region).client(service, endpoint_url=self.endpoint)

    # ansible ---------------------------------------------------------------------------------
    def ansible_env(self, extra: dict | None = None) -> dict:
        env = dict(os.environ)
        env.update(self.env)
        env["ANSIBLE_CONFIG"] = str(ANSIBLE_CONFIG)
        env.setdefault("ANSIBLE_NOCOLOR", "1")
        env.setdefault("ANSIBLE_FORCE_COLOR", "0")
        env.setdefault("ANSIBLE_HOST_KEY_CHECKING", "False")
        env.update(extra or {})
        return env

    def run_ansible(self, args, program: str = "ansible-playbook", env: dict | None = None,
                    timeout: float = 900, estate_vars: bool = False, input_text: str | None = None):
        """Run ansible-playbook (or ansible-inventory, ansible ...) from the repository root.

        Returns (rc, stdout, stderr). ``estate_vars=True`` adds ``-e @<state dir>/estate_vars.yml``.
        """
        venv_bin = REPO_ROOT / ".venv" / "bin" / program
        command = [str(venv_bin) if venv_bin.exists() else program, *[str(a) for a in args]]
        if estate_vars:
            command += ["-e", f"@{self.estate_vars_file}"]
        completed = subprocess.run(
            command, cwd=str(REPO_ROOT), env=self.ansible_env(env), capture_output=True, text=True, check=False,
            timeout=timeout, input=input_text, stdin=None if input_text is not None else subprocess.DEVNULL,
        )
        return completed.returncode, completed.stdout, completed.stderr

    def run_inventory(self, args=("--list",), **kwargs):
        return self.run_ansible(list(args), program="ansible-inventory", **kwargs)


def _children() -> dict[int, list[int]]:
    """Parent PID -> child PIDs of every process on this machine, read from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we read
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return children


def _descendants(pid: int) -> set[int]:
    tree, found, todo = _children(), set(), [pid]
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def crash(process: subprocess.Popen, timeout: float = 30) -> None:
    """Kill a running ansible-playbook the way a lost controller host ends it: at once, with every process it started.

    Killing the controller's process group is not enough: ansible-core starts each worker in a session of its own
    (``os.setsid``), so its workers and the modules they run would go on calling AWS after the "crash". The whole
    tree is stopped first (so nothing forks a process the kill would miss), then killed.
    """
    stopped: set[int] = set()
    while True:
        tree = ({process.pid} | _descendants(process.pid)) - stopped
        if not tree:
            break
        for pid in tree:
            try:
                os.kill(pid, signal.SIGSTOP)
            except ProcessLookupError:
                pass
        stopped |= tree
    for pid in stopped:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=timeout)
    deadline = time.monotonic() + timeout
    while any(Path(f"/proc/{pid}").exists() and not _zombie(pid) for pid in stopped - {process.pid}):
        if time.monotonic() > deadline:
            raise AssertionError(f"processes of the killed run still alive: {sorted(stopped)}")
        time.sleep(0.05)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def run_ansible(args, sandbox: Sandbox, **kwargs):
    """Module-level form of Sandbox.run_ansible."""
    return sandbox.run_ansible(args, **kwargs)
