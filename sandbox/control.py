"""Start, stop and talk to a sandbox process from another process (CLI, test harness, benchmarks)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_STATE_DIR = REPO_ROOT / ".sandbox"
PID_FILE = "sandbox.pid"
READY_FILE = "server.json"
LOG_FILE = "sandbox.log"
ENV_FILE = "env.sh"
ESTATE_VARS_FILE = "estate_vars.yml"
SEED_RESULT_FILE = "seed_result.json"

DUMMY_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


class SandboxError(RuntimeError):
    """The sandbox could not be started, reached or told what to do."""


def sandbox_env(endpoint: str) -> dict:
    """Environment variables that point AWS SDKs and the AWS CLI at the sandbox."""
    env = {"AWS_ENDPOINT_URL": endpoint, **DUMMY_CREDENTIALS}
    env["AWS_REGION"] = env["AWS_DEFAULT_REGION"]
    return env


def export_lines(env: dict) -> str:
    return "".join(f"export {key}={value}\n" for key, value in env.items())


class AdminClient:
    """The sandbox's admin endpoints (``/_sandbox/...``) over plain HTTP."""

    def __init__(self, endpoint: str, timeout: float = 60.0):
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout

    def call(self, method: str, route: str, document=None, query: str = "") -> dict:
        url = f"{self.endpoint}/_sandbox/{route}"
        if query:
            url = f"{url}?{query}"
        data = None if document is None else json.dumps(document).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            try:
                detail = json.loads(exc.read()).get("error")
            except ValueError:
                detail = exc.reason
            raise SandboxError(f"sandbox {method} /_sandbox/{route} failed ({exc.code}): {detail}") from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            raise SandboxError(f"sandbox at {self.endpoint} is not reachable: {exc}") from None

    def health(self) -> dict:
        return self.call("GET", "health")

    def reset(self) -> dict:
        return self.call("POST", "reset", {})

    def requests(self, service: str | None = None, since: int = 0) -> list[dict]:
        query = f"since={since}" + (f"&service={service}" if service else "")
        return self.call("GET", "requests", query=query)["requests"]

    def clear_requests(self) -> dict:
        return self.call("DELETE", "requests")

    def faults(self) -> dict:
        return self.call("GET", "faults")

    def set_faults(self, document: dict) -> dict:
        return self.call("POST", "faults", document)

    def clear_faults(self) -> dict:
        return self.call("DELETE", "faults")

    def drs_settings(self, **settings) -> dict:
        return self.call("POST" if settings else "GET", "drs/settings", settings if settings else None)

    def emulator_settings(self, name: str, **settings) -> dict:
        """An emulator's own settings (sandbox.emulators ``configure``); read them when none are given."""
        return self.call("POST" if settings else "GET", f"emulators/{name}", settings if settings else None)

    def iam(self, enforce: bool | None = None, hub_account: str | None = None) -> dict:
        """IAM enforcement at request time (sandbox.iam_enforcement): switch it, or read it when both are None."""
        document = {key: value for key, value in (("enforce", enforce), ("hub_account", hub_account))
                    if value is not None}
        return self.call("POST", "iam", document) if document else self.call("GET", "iam")

    def tag_ec2_resources(self, account_id: str, region: str, resources: dict[str, dict]) -> dict:
        """Tag many EC2 resources, each with its own tags, in one call (estate seeding)."""
        return self.call("POST", "ec2/tags", {"account_id": account_id, "region": region, "resources": resources})

    def seed_source_servers(self, servers: list[dict]) -> list[dict]:
        return self.call("POST", "drs/source-servers", {"servers": servers})["source_servers"]


def _exists(pid: int) -> bool:
    """True while the process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class SandboxProcess:
    """A sandbox server process managed through files in a state directory."""

    def __init__(self, state_dir: str | os.PathLike | None = None):
        self.state_dir = Path(state_dir or os.environ.get("SANDBOX_STATE_DIR") or DEFAULT_STATE_DIR).resolve()

    # files -----------------------------------------------------------------------------------
    def path(self, name: str) -> Path:
        return self.state_dir / name

    def _read_pid(self) -> int | None:
        try:
            return int(self.path(PID_FILE).read_text().strip())
        except (OSError, ValueError):
            return None

    def info(self) -> dict | None:
        try:
            return json.loads(self.path(READY_FILE).read_text())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _is_sandbox_pid(pid: int) -> bool:
        if not _exists(pid):
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            return True
        return b"sandbox.server" in cmdline

    def running_pid(self) -> int | None:
        pid = self._read_pid()
        if pid and self._is_sandbox_pid(pid):
            return pid
        return None

    @property
    def endpoint(self) -> str | None:
        info = self.info()
        return info["endpoint"] if info else None

    def env(self) -> dict:
        endpoint = self.endpoint
        if not endpoint or not self.running_pid():
            raise SandboxError(f"no sandbox is running for state directory {self.state_dir}; start one with "
                               "`python -m sandbox start`")
        return sandbox_env(endpoint)

    def admin(self) -> AdminClient:
        self.env()
        return AdminClient(self.endpoint)

    def status(self) -> dict:
        pid = self.running_pid()
        document = {"running": bool(pid), "pid": pid, "state_dir": str(self.state_dir)}
        if pid:
            document["endpoint"] = self.endpoint
            try:
                document["health"] = AdminClient(self.endpoint, timeout=20).health()
            except SandboxError as exc:
                document["health"] = {"status": "unreachable", "error": str(exc)}
        return document

    # lifecycle -------------------------------------------------------------------------------
    def start(self, port: int = 0, host: str = "127.0.0.1", timeout: float = 90.0) -> tuple[dict, bool]:
        """Start the server in the background; return (info, started_now). Idempotent."""
        pid = self.running_pid()
        if pid and self.info():
            return self.info(), False
        self.state_dir.mkdir(parents=True, exist_ok=True)
        for name in (READY_FILE, PID_FILE):
            self.path(name).unlink(missing_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
        # The server process must not itself be pointed at a sandbox, nor run moto against real AWS.
        env.pop("AWS_ENDPOINT_URL", None)
        env.update(DUMMY_CREDENTIALS)
        command = [
            sys.executable, "-m", "sandbox.server",
            "--host", host, "--port", str(port),
            "--state-dir", str(self.state_dir),
            "--ready-file", str(self.path(READY_FILE)),
        ]
        with open(self.path(LOG_FILE), "ab") as log:
            process = subprocess.Popen(
                command, cwd=str(REPO_ROOT), env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.path(PID_FILE).write_text(f"{process.pid}\n")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.path(PID_FILE).unlink(missing_ok=True)
                raise SandboxError(
                    f"the sandbox exited during start (code {process.returncode}); last lines of "
                    f"{self.path(LOG_FILE)}:\n{self.log_tail()}"
                )
            info = self.info()
            if info:
                try:
                    AdminClient(info["endpoint"], timeout=5).health()
                    self.write_env_file()
                    return info, True
                except SandboxError:
                    pass
            time.sleep(0.1)
        self.stop()
        raise SandboxError(f"the sandbox did not become healthy within {timeout:.0f} s; see {self.path(LOG_FILE)}")

    def write_env_file(self) -> Path:
        target = self.path(ENV_FILE)
        target.write_text(export_lines(sandbox_env(self.endpoint)))
        return target

    def stop(self, timeout: float = 15.0) -> bool:
        """Stop the server named by the PID file; return False when none was running."""
        pid = self.running_pid()
        stopped = False
        if pid:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self._is_sandbox_pid(pid):
                time.sleep(0.1)
            if self._is_sandbox_pid(pid):
                os.kill(pid, signal.SIGKILL)
            # An exiting process loses its command line before it is gone: wait for the exit itself, so
            # a caller that starts a new sandbox next never races the old one.
            while time.monotonic() < deadline + 5 and _exists(pid):
                try:  # reap it when this process is its parent (harness), harmless otherwise
                    if os.waitpid(pid, os.WNOHANG)[0] == pid:
                        break
                except ChildProcessError:
                    pass
                time.sleep(0.05)
            stopped = True
        for name in (PID_FILE, READY_FILE, ENV_FILE):
            self.path(name).unlink(missing_ok=True)
        return stopped

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.path(LOG_FILE).read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
