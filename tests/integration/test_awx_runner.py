"""The AWX job templates of awx/, run the way AWX runs them, without an AWX server.

AWX syncs the inventory source (``ansible-inventory --list --export`` with the source's credential), stores the
hosts, and runs each job with ansible-runner: the project as the working directory, the job template's extra vars,
the survey answers and AWX's own variables (``awx_job_id``, ``awx_user_name``, ``awx_workflow_job_id`` ...), the
credential's injected environment and files, a pseudo-terminal nobody answers, and the job timeout. These tests do
the same against the sandbox and assert on the execution record, on DRS/EC2 state through boto3 and on the
sandbox's request log.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from ansible.parsing.yaml.loader import AnsibleLoader

from sandbox.harness import REPO_ROOT

ansible_runner = pytest.importorskip("ansible_runner")

pytestmark = [pytest.mark.sandbox, pytest.mark.playbook]

ACCOUNT = "210987654321"
DR = "us-west-2"
PRIMARY = "us-east-1"
TABLE = "enterprise-dr-executions"
AWX_DIR = REPO_ROOT / "awx"
EXTERNAL_IDS = {"210987654321": "edr-demo-workload-a", "345678901234": "edr-demo-workload-b"}
READER_TOKEN = "awx-reader-token-0123456789"
# Every test job's settings beside the template's own: quick polling in the sandbox's fast DRS.
FAST = {"poll_interval": 1, "wait_timeout_minutes": 5}


def load_config():
    with open(AWX_DIR / "vars" / "dr_awx.yml", encoding="utf-8") as handle:
        return AnsibleLoader(handle).get_single_data()


CONFIG = load_config()
TEMPLATES = {t["name"]: t for t in CONFIG["dr_awx_job_templates"]}


# -- the estate ------------------------------------------------------------------------------------------------------

def _server(hostname, customer, wave, index, env="production"):
    return {
        "hostname": hostname, "account": "workload-a", "customer": customer, "environment": env, "wave": wave,
        "priority": "high", "recovery_strategy": "launch-into-instance",
        "source": {"private_ip": f"10.10.1.{index}", "subnet": "app", "security_groups": ["app"]},
        "drs": {"replication_state": "CONTINUOUS", "lag_seconds": 3},
        "target": {"name": hostname, "private_ip": f"10.20.1.{index}", "subnet": "app", "security_groups": ["app"]},
    }


def estate():
    network = {
        "vpc": {"cidr": "10.10.0.0/16"}, "subnets": [{"name": "app", "cidr": "10.10.1.0/24"}],
        "security_groups": [{"name": "app", "egress": [{"protocol": "tcp", "port": 1500, "cidr": "10.0.0.0/8"},
                                                       {"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"}]}],
    }
    dr_network = dict(network, vpc={"cidr": "10.20.0.0/16"}, subnets=[{"name": "app", "cidr": "10.20.1.0/24"}])
    return {
        "version": 1,
        "hub": {"account_id": "123456789012", "name": "hub"},
        "regions": {"primary": PRIMARY, "dr": DR},
        "customers": ["acme", "globex"],
        "accounts": [{"account_id": ACCOUNT, "name": "workload-a", "role_name": "EnterpriseDRWorkloadRole",
                      "external_id": EXTERNAL_IDS[ACCOUNT], "networks": {PRIMARY: network, DR: dr_network}}],
        "servers": [
            # One wave per customer keeps four AWX jobs within the test budget; waves are tested elsewhere.
            _server("acme-prod-db01", "acme", 1, 11),
            _server("globex-stg-web01", "globex", 1, 31, env="staging"),
        ],
        "sandbox": {"drs": {"time_scale": 0.2, "agent_not_ready_seconds": 0}},
    }


# -- AWX, imitated -----------------------------------------------------------------------------------------------------

class Awx:
    """What AWX does around a job: inject the credential, sync the inventory, run the job with ansible-runner."""

    def __init__(self, sandbox, root: Path):
        self.sandbox = sandbox
        self.root = root
        self.next_job_id = 100
        self.credential_env, self.credential_dir = self._inject_credential(root / "credential")
        self.inventory = self._sync_inventory()
        self.jobs = []

    @staticmethod
    def _inject_credential(directory: Path):
        """Render the credential type's injectors with the credential's inputs, as AWX does (sandboxed Jinja)."""
        directory.mkdir(parents=True)
        ctype = CONFIG["dr_awx_credential_type"]
        inputs = {field["id"]: field.get("default", "") for field in ctype["inputs"]["fields"]}
        inputs.update(hub_access_key_id="testing", hub_secret_access_key="testing",
                      workload_accounts="\n".join(f"{a} {e}" for a, e in EXTERNAL_IDS.items()))
        jinja = ImmutableSandboxedEnvironment()
        filenames = {}
        for key, template in ctype["injectors"].get("file", {}).items():
            name = key.partition(".")[2]
            path = directory / name
            path.write_text(jinja.from_string(str(template)).render(**inputs))
            path.chmod(0o600)
            filenames[name] = str(path)
        context = dict(inputs, tower={"filename": filenames})
        env = {k: jinja.from_string(str(v)).render(**context) for k, v in ctype["injectors"]["env"].items()}
        return env, directory

    def _sync_inventory(self):
        """The inventory source update: ansible-inventory --list --export over the project's source file."""
        source = CONFIG["dr_awx_inventory"]["source_path"]
        rc, out, err = self.sandbox.run_ansible(["-i", source, "--list", "--export"], program="ansible-inventory",
                                                env=self.credential_env)
        assert rc == 0, out[-2000:] + err[-3000:]
        for secret in EXTERNAL_IDS.values():
            assert secret not in out, "an external ID would be stored in the AWX inventory's variables"
        return json.loads(out)

    def launch(self, template_name, answers=None, awx_vars=None, timeout=None, extra_env=None, extra_vars=None):
        """Run one job of a job template; returns (runner, stdout text, seconds).

        The job timeout is the template's, capped at 15 minutes so that a hang fails the test instead of stalling it."""
        template = TEMPLATES[template_name]
        timeout = timeout or min(template["job_timeout"], 900)
        self.next_job_id += 1
        job_id = self.next_job_id
        private = self.root / f"run{len(self.jobs)}_job_{job_id}"
        (private / "inventory").mkdir(parents=True)
        # AWX hands a job its synced hosts as an executable inventory script that prints them as JSON.
        script = private / "inventory" / "hosts"
        body = json.dumps(json.dumps(self.inventory))
        script.write_text(f"#!{sys.executable}\nimport sys\nsys.stdout.write({body})\n")
        script.chmod(0o700)
        extravars = dict(CONFIG["dr_awx_job_vars"], **template.get("vars", {}))
        extravars.update(answers or {})
        # The sandbox's short polls, for the playbooks that poll (status.yml and the like refuse unknown variables).
        if template["playbook"] in ("playbooks/failover.yml", "playbooks/drill.yml", "playbooks/failback.yml"):
            extravars.update(FAST)
        extravars.update(extra_vars or {})
        extravars.update({"awx_job_id": job_id, "tower_job_id": job_id, "awx_job_template_name": template_name})
        extravars.update(awx_vars or {})
        envvars = dict(self.sandbox.env, **self.credential_env, **(extra_env or {}))
        # AWX sets no ANSIBLE_CONFIG: ansible-playbook finds the project's ansible.cfg in its working directory.
        envvars.update(ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0",
                       PATH=f"{REPO_ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}")
        started = time.monotonic()
        runner = ansible_runner.run(
            private_data_dir=str(private), project_dir=str(REPO_ROOT), playbook=template["playbook"],
            inventory=str(script), extravars=extravars, envvars=envvars,
            timeout=timeout, quiet=True, ident=str(job_id),
        )
        elapsed = time.monotonic() - started
        stdout = runner.stdout.read()
        self.jobs.append((template_name, job_id, stdout))
        print(f"AWX job {job_id} {template_name}: {runner.status} in {elapsed:.1f}s")
        return runner, stdout, elapsed


class FakeAwxApi:
    """The two AWX API reads a phase job makes to name the approver of the approval node in front of it."""

    def __init__(self, workflow_job_id, nodes, approvals):
        self.requests = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):  # noqa: N802 - the http.server name
                api.requests.append((self.path, self.headers.get("Authorization")))
                if self.headers.get("Authorization") != f"Bearer {READER_TOKEN}":
                    return self._send(401, {"detail": "Authentication credentials were not provided."})
                path = self.path.split("?")[0]
                if path == f"/api/v2/workflow_jobs/{workflow_job_id}/workflow_nodes/":
                    return self._send(200, {"count": len(nodes), "results": nodes})
                found = re.fullmatch(r"/api/v2/workflow_approvals/(\d+)/", path)
                if found and int(found.group(1)) in approvals:
                    return self._send(200, approvals[int(found.group(1))])
                return self._send(404, {"detail": "Not found."})

            def _send(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# -- fixtures and helpers -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def awx(sandbox, tmp_path_factory):
    """One seeded estate and one inventory sync for the module: the tests run in file order on it (the refusals
    first, then the globex drill, then the acme failover)."""
    sandbox.reset()
    sandbox.seed(estate())
    rc, out, err = sandbox.run_ansible(["playbooks/setup_hub.yml"])
    assert rc == 0, out[-3000:] + err[-2000:]
    return Awx(sandbox, tmp_path_factory.mktemp("awx"))


def store(sandbox):
    from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.execution import DynamoDBStore

    return DynamoDBStore(sandbox.client("dynamodb"), table_name=TABLE)


def instances_by_name(sandbox, region):
    ec2 = sandbox.client("ec2", ACCOUNT, region)
    found = {}
    for reservation in ec2.describe_instances()["Reservations"]:
        for instance in reservation["Instances"]:
            tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
            found[(tags.get("Name") or "").strip().lower()] = dict(instance, TagMap=tags)
    return found


def assert_no_secret(awx_env, *texts):
    for text in texts:
        for secret in [*EXTERNAL_IDS.values(), READER_TOKEN]:
            assert secret not in text, f"a secret was printed: {secret}"


# -- the tests --------------------------------------------------------------------------------------------------------

def test_required_approval_in_an_awx_job_is_refused_up_front_and_never_hangs(sandbox, awx):
    """AWX gives the job a pseudo-terminal nobody answers: a prompt would hang until the job timeout."""
    timeout = 120
    sandbox.clear_requests()
    answers = {"customer": "acme", "env": "production", "approval_mode": "required"}
    runner, stdout, elapsed = awx.launch("DR failover", answers=answers, awx_vars={"awx_user_name": "jane"},
                                         timeout=timeout)
    assert runner.status == "failed", f"{runner.status}\n{stdout[-3000:]}"
    assert elapsed < timeout / 3, f"took {elapsed:.0f}s of a {timeout}s job timeout"
    assert "approval_mode=required needs an operator at a terminal" in stdout
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []
    assert store(sandbox).list(customer="acme", limit=10) == []


def test_awx_workflow_mode_outside_a_workflow_is_refused_up_front(sandbox, awx):
    """A phase template launched on its own (no approval node in front of it) must not pass as approved."""
    sandbox.clear_requests()
    runner, stdout, elapsed = awx.launch("DR failover phase - activate",
                                         answers={"customer": "acme", "env": "production"},
                                         awx_vars={"awx_user_name": "mallory"}, timeout=120)
    assert runner.status == "failed", f"{runner.status}\n{stdout[-3000:]}"
    assert "approval_mode=awx_workflow is for the phase job templates of an AWX workflow" in stdout
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []
    assert store(sandbox).list(customer="acme", limit=10) == []


def test_monthly_drill_schedule_job_cleans_up_after_itself(sandbox, awx):
    [schedule] = [c for c in CONFIG["dr_awx_customers"] if c["name"] == "globex"]
    extra_data = {"customer": schedule["name"], "env": "staging", "approval_mode": "automatic"}
    runner, stdout, _elapsed = awx.launch(
        "DR drill", answers=extra_data,
        awx_vars={"awx_job_launch_type": "scheduled", "awx_schedule_id": 3,
                  "awx_schedule_name": "Monthly drill - globex"})
    assert runner.status == "successful", stdout[-5000:]
    assert_no_secret(awx.credential_env, stdout)
    drs = sandbox.client("drs", ACCOUNT, DR)
    drills = [j for j in drs.describe_jobs(filters={})["items"] if j["type"] == "LAUNCH"]
    assert drills and all(j["initiatedBy"] == "START_DRILL" for j in drills)
    assert drs.describe_recovery_instances(filters={})["items"] == []
    targets = instances_by_name(sandbox, DR)
    for hostname in ("globex-stg-web01",):
        assert targets[hostname]["State"]["Name"] == "stopped"
        assert targets[hostname]["TagMap"]["AWSDRS"] == "AllowLaunchingIntoThisInstance"
    assert all(i["State"]["Name"] == "running" for i in instances_by_name(sandbox, PRIMARY).values())
    [record] = store(sandbox).list(customer="globex", limit=10)
    assert record["operation"] == "drill" and record["status"] == "succeeded"
    assert record["details"]["awx_job_id"] == awx.next_job_id


def test_failover_workflow_runs_phase_templates_into_one_record_with_the_awx_approvers(sandbox, awx):
    """DR failover (workflow): instantiate, approval node (bob), activate, approval node (carol), cleanup+replicate."""
    workflow = next(w for w in CONFIG["dr_awx_workflows"] if w["name"] == "DR failover (workflow)")
    job_nodes = [n for n in workflow["nodes"] if "job_template" in n]
    assert [TEMPLATES[n["job_template"]]["vars"]["phases"] for n in job_nodes] == [
        ["instantiate"], ["activate"], ["cleanup", "replicate"]]
    # The workflow job's nodes as the AWX API returns them: job IDs 101..105 in the order of the workflow.
    workflow_job_id = 7
    ids = {node["id"]: 101 + index for index, node in enumerate(workflow["nodes"])}
    approvers = {"approve-activate": "bob", "approve-cleanup": "carol"}
    api_nodes, approvals = [], {}
    for index, node in enumerate(workflow["nodes"]):
        following = workflow["nodes"][index + 1]["id"] if index + 1 < len(workflow["nodes"]) else None
        kind = "workflow_approval" if "approval" in node else "job"
        api_nodes.append({"id": 1000 + index, "identifier": node["id"],
                          "success_nodes": [1000 + index + 1] if following else [],
                          "summary_fields": {"job": {"id": ids[node["id"]],
                                                     "name": node.get("approval") or node["job_template"],
                                                     "type": kind, "status": "successful"}}})
        if kind == "workflow_approval":
            approvals[ids[node["id"]]] = {"id": ids[node["id"]], "name": node["approval"],
                                          "finished": f"2027-01-02T02:0{index}:00Z",
                                          "summary_fields": {
                                              "approved_or_denied_by": {"username": approvers[node["id"]]}}}
    api = FakeAwxApi(workflow_job_id, api_nodes, approvals)
    survey = {"customer": "acme", "env": "production"}
    try:
        awx.next_job_id = 100
        for node in workflow["nodes"]:
            if "approval" in node:
                awx.next_job_id += 1  # the approval node is a unified job of its own
                continue
            awx.next_job_id = ids[node["id"]] - 1
            runner, stdout, _elapsed = awx.launch(
                node["job_template"], answers=survey,
                awx_vars={"awx_user_name": "jane", "awx_workflow_job_id": workflow_job_id,
                          "awx_workflow_job_name": workflow["name"], "awx_job_launch_type": "workflow"},
                extra_env={"CONTROLLER_HOST": api.url, "CONTROLLER_OAUTH_TOKEN": READER_TOKEN,
                           "CONTROLLER_VERIFY_SSL": "false"})
            assert runner.status == "successful", f"{node['job_template']}: {runner.status}\n{stdout[-5000:]}"
            assert_no_secret(awx.credential_env, stdout)
    finally:
        api.close()

    [record] = store(sandbox).list(customer="acme", limit=10)
    record = store(sandbox).get(record["execution_id"])
    assert record["status"] == "succeeded", (record["phases"], awx.jobs[-1][2][-6000:])
    assert record["started_by"] == "jane"
    assert [r["by"] for r in record["resumptions"]] == ["jane", "jane"]
    assert {name: phase["status"] for name, phase in record["phases"].items()} == {
        "PREFLIGHT": "succeeded", "INSTANTIATE": "succeeded", "ACTIVATE": "succeeded",
        "CLEANUP": "succeeded", "REPLICATE": "succeeded"}
    decided = {a["gate"]: a for a in record["approvals"]}
    assert set(decided) == {"before-activate", "before-cleanup"}
    for gate, approver, job in (("before-activate", "bob", 103), ("before-cleanup", "carol", 105)):
        assert decided[gate]["decision"] == "approve"
        assert decided[gate]["mode"] == "awx_workflow"
        assert decided[gate]["approver"] == approver
        assert f"AWX workflow job {workflow_job_id}" in decided[gate]["comment"]
        assert f"phase job {job}" in decided[gate]["comment"] and "launched by jane" in decided[gate]["comment"]
    # Each phase job asked AWX once for its own node list and once for the approval in front of it.
    assert [path.split("?")[0] for path, _auth in api.requests] == [
        f"/api/v2/workflow_jobs/{workflow_job_id}/workflow_nodes/", "/api/v2/workflow_approvals/102/",
        f"/api/v2/workflow_jobs/{workflow_job_id}/workflow_nodes/", "/api/v2/workflow_approvals/104/"]
    # One execution: each server launched once, into its own target, which now runs.
    assert {r["name"] for r in record["resources"]} == {"acme-prod-db01"}
    drs = sandbox.client("drs", ACCOUNT, DR)
    recoveries = [j for j in drs.describe_jobs(filters={})["items"]
                  if j["type"] == "LAUNCH" and j["initiatedBy"] == "START_RECOVERY"]
    assert len(recoveries) == 1 and len(recoveries[0]["participatingServers"]) == 1
    targets = instances_by_name(sandbox, DR)
    assert targets["acme-prod-db01"]["State"]["Name"] == "running"
    assert instances_by_name(sandbox, PRIMARY)["acme-prod-db01"]["State"]["Name"] == "stopped"
    assert instances_by_name(sandbox, PRIMARY)["globex-stg-web01"]["State"]["Name"] == "running"

    # The read-only status template over the same record, as an operator launches it.
    runner, stdout, dummy = awx.launch("DR status", answers={"customer": "acme", "env": "production"},
                                       awx_vars={"awx_user_name": "jane"})
    assert runner.status == "successful", stdout[-3000:]
