"""failover.yml and drill.yml against the sandbox, asserting on DRS and EC2 state through boto3."""

import json
import signal
import subprocess
import time

import pytest

from sandbox.harness import REPO_ROOT

ACCOUNT = "210987654321"
DR = "us-west-2"
PRIMARY = "us-east-1"


def _server(hostname, customer, wave, priority, index, env="production", target=True, **extra):
    entry = {
        "hostname": hostname, "account": "workload-a", "customer": customer, "environment": env, "wave": wave,
        "priority": priority, "recovery_strategy": "launch-into-instance" if target else "new-instance",
        "source": {"private_ip": f"10.10.1.{index}", "subnet": "app", "security_groups": ["app"]},
        "drs": {"replication_state": "CONTINUOUS", "lag_seconds": 3},
    }
    if target:
        entry["target"] = {"name": f" {hostname.upper()} ", "private_ip": f"10.20.1.{index}", "subnet": "app",
                           "security_groups": ["app"]}
    entry.update(extra)
    return entry


def estate(health_url=None):
    network = {
        "vpc": {"cidr": "10.10.0.0/16"}, "subnets": [{"name": "app", "cidr": "10.10.1.0/24"}],
        "security_groups": [{"name": "app", "egress": [{"protocol": "tcp", "port": 1500, "cidr": "10.0.0.0/8"},
                                                       {"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"}]}],
    }
    dr_network = dict(network, vpc={"cidr": "10.20.0.0/16"}, subnets=[{"name": "app", "cidr": "10.20.1.0/24"}])
    db = _server("acme-prod-db01", "acme", 1, "critical", 11)
    if health_url:
        db["health_check_url"] = health_url
    return {
        "version": 1,
        "hub": {"account_id": "123456789012", "name": "hub"},
        "regions": {"primary": PRIMARY, "dr": DR},
        "customers": ["acme", "globex"],
        "accounts": [{"account_id": ACCOUNT, "name": "workload-a", "role_name": "EnterpriseDRWorkloadRole",
                      "external_id": "edr-demo-workload-a", "networks": {PRIMARY: network, DR: dr_network}}],
        "servers": [
            db,
            _server("acme-prod-app01", "acme", 2, "high", 21),
            _server("acme-prod-app02", "acme", 2, "medium", 22),
            _server("globex-prod-web01", "globex", 1, "critical", 31),
            _server("globex-prod-web02", "globex", 1, "low", 32),
        ],
        "sandbox": {"drs": {"time_scale": 0.2, "agent_not_ready_seconds": 0}},
    }


ACME = ["acme-prod-db01", "acme-prod-app01", "acme-prod-app02"]
GLOBEX = ["globex-prod-web01", "globex-prod-web02"]
COMMON = ["-e", "execution_store=file", "-e", "poll_interval=1", "-e", "approval_mode=automatic",
          "-e", "allow_automatic_production=true", "-e", "wait_timeout_minutes=5"]


@pytest.fixture
def seeded(sandbox, tmp_path):
    sandbox.reset()
    sandbox.seed(estate())
    return tmp_path


def run(sandbox, playbook, store, *extra, check=False):
    args = [f"playbooks/{playbook}", "-e", f"execution_store_path={store}", *COMMON, *extra]
    if check:
        args.append("--check")
    return sandbox.run_ansible(args)


def servers_by_hostname(sandbox):
    drs = sandbox.client("drs", ACCOUNT, DR)
    items = drs.describe_source_servers(filters={})["items"]
    return {s["sourceProperties"]["identificationHints"]["hostname"]: s for s in items}


def instances_by_name(sandbox, region):
    ec2 = sandbox.client("ec2", ACCOUNT, region)
    found = {}
    for reservation in ec2.describe_instances()["Reservations"]:
        for instance in reservation["Instances"]:
            tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
            found[(tags.get("Name") or "").strip().lower()] = dict(instance, TagMap=tags)
    return found


def jobs(sandbox):
    return sandbox.client("drs", ACCOUNT, DR).describe_jobs(filters={})["items"]


def server_jobs(all_jobs):
    counts = {}
    for job in all_jobs:
        if job["type"] != "LAUNCH":
            continue
        for participant in job["participatingServers"]:
            counts.setdefault(participant["sourceServerID"], []).append(job)
    return counts


def test_failover_recovers_one_customer_into_its_targets_in_wave_order(sandbox, seeded):
    targets_before = instances_by_name(sandbox, DR)
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme")
    assert rc == 0, out[-4000:] + err[-2000:]

    servers = servers_by_hostname(sandbox)
    drs = sandbox.client("drs", ACCOUNT, DR)
    recovery = {r["sourceServerID"]: r for r in drs.describe_recovery_instances(filters={})["items"]}
    targets_after = instances_by_name(sandbox, DR)
    for hostname in ACME:
        server = servers[hostname]
        target = targets_before[hostname]
        assert recovery[server["sourceServerID"]]["ec2InstanceID"] == target["InstanceId"]
        assert recovery[server["sourceServerID"]]["isDrill"] is False
        assert targets_after[hostname]["State"]["Name"] == "running"
        assert targets_after[hostname]["PrivateIpAddress"] == target["PrivateIpAddress"]
    # The old source instances are stopped and kept as failback targets.
    sources = instances_by_name(sandbox, PRIMARY)
    for hostname in ACME:
        assert sources[hostname]["State"]["Name"] == "stopped"
        assert sources[hostname]["TagMap"]["dr:failback-target"] == "true"
    # The other customer is untouched.
    for hostname in GLOBEX:
        assert servers[hostname]["sourceServerID"] not in recovery
        assert targets_after[hostname]["State"]["Name"] == "stopped"
        assert sources[hostname]["State"]["Name"] == "running"
    # Wave order: every job of wave 1 was created before any job of wave 2; one job per server at most.
    by_server = server_jobs(jobs(sandbox))
    wave1 = [by_server[servers["acme-prod-db01"]["sourceServerID"]][0]["creationDateTime"]]
    wave2 = [by_server[servers[h]["sourceServerID"]][0]["creationDateTime"] for h in ("acme-prod-app01", "acme-prod-app02")]
    assert max(wave1) < min(wave2)
    assert all(len(v) == 1 for v in by_server.values())
    # A second run of the same command changes nothing and starts no job.
    before = len(jobs(sandbox))
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme")
    assert len(jobs(sandbox)) == before


def test_check_mode_prints_the_plan_and_makes_no_mutating_call(sandbox, seeded):
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme", check=True)
    assert rc == 0, out[-4000:] + err[-2000:]
    mutating = [r for r in sandbox.mutating_requests() if r["service"] != "sts"]
    assert mutating == []
    assert "DRY RUN" in out and "acme-prod-db01" in out and "globex" not in out.split("PLAY [PREFLIGHT")[0]
    assert jobs(sandbox) == []


def test_drill_cleans_up_even_when_a_launch_fails(sandbox, seeded):
    servers = servers_by_hostname(sandbox)
    sandbox.drs_settings(launch_failures=["globex-prod-web02"])
    rc, out, err = run(sandbox, "drill.yml", seeded, "-e", "customer=globex", "-e", "failure_policy=continue")
    assert rc != 0  # a server failed; the run says so
    drs = sandbox.client("drs", ACCOUNT, DR)
    assert drs.describe_recovery_instances(filters={})["items"] == []
    targets = instances_by_name(sandbox, DR)
    for hostname in GLOBEX:
        assert targets[hostname]["State"]["Name"] == "stopped"
        assert targets[hostname]["TagMap"]["AWSDRS"] == "AllowLaunchingIntoThisInstance"
    launched = server_jobs(jobs(sandbox))
    assert servers["globex-prod-web01"]["sourceServerID"] in launched
    assert all(job["tags"].get("enterprise-dr:execution-id") for job_list in launched.values() for job in job_list)
    # Production and the other customer are untouched: no source instance stopped, no acme job.
    sources = instances_by_name(sandbox, PRIMARY)
    assert all(sources[h]["State"]["Name"] == "running" for h in ACME + GLOBEX)
    assert not any(servers[h]["sourceServerID"] in launched for h in ACME)


def test_interrupted_failover_resumes_without_launching_twice(sandbox, seeded):
    sandbox.drs_settings(time_scale=3.0)
    command = [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/failover.yml", "-e", "customer=acme",
               "-e", f"execution_store_path={seeded}", *COMMON]
    process = subprocess.Popen(command, cwd=str(REPO_ROOT), env=sandbox.ansible_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    servers = servers_by_hostname(sandbox)
    app = servers["acme-prod-app01"]["sourceServerID"]
    deadline = time.time() + 300
    while time.time() < deadline and app not in server_jobs(jobs(sandbox)):
        time.sleep(0.5)
    assert app in server_jobs(jobs(sandbox)), "wave 2 never started"
    process.send_signal(signal.SIGKILL)
    process.wait()
    sandbox.drs_settings(time_scale=0.2)
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme")
    assert rc == 0, out[-4000:] + err[-2000:]
    assert "(resumed)" in out
    by_server = server_jobs(jobs(sandbox))
    assert all(len(v) == 1 for v in by_server.values()), {k: [j["jobID"] for j in v] for k, v in by_server.items()}
    recovery = sandbox.client("drs", ACCOUNT, DR).describe_recovery_instances(filters={})["items"]
    assert {r["sourceServerID"] for r in recovery} == {servers[h]["sourceServerID"] for h in ACME}


@pytest.mark.parametrize("extra,expected", [
    ([], "customer"),
    (["-e", "customer=acme", "-e", "approval_mode=sometimes"], "approval_mode"),
    (["-e", "customer=acme", "-e", "failure_policy=maybe"], "failure_policy"),
    (["-e", "customer=initech"], "Customers in the inventory: acme, globex"),
])
def test_invalid_variables_stop_before_any_change(sandbox, seeded, extra, expected):
    sandbox.clear_requests()
    args = ["playbooks/failover.yml", "-e", f"execution_store_path={seeded}", "-e", "execution_store=file", *extra]
    rc, out, err = sandbox.run_ansible(args)
    assert rc != 0
    assert expected in out + err
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []


def test_required_approval_without_a_terminal_refuses_up_front(sandbox, seeded):
    sandbox.clear_requests()
    args = ["playbooks/failover.yml", "-e", "customer=acme", "-e", f"execution_store_path={seeded}",
            "-e", "execution_store=file", "-e", "approval_mode=required"]
    rc, out, err = sandbox.run_ansible(args)
    assert rc != 0
    assert "approval_mode=record" in out
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []


def _record(store):
    files = [p for p in store.rglob("*.json") if "lock" not in p.name]
    records = [json.loads(p.read_text()) for p in files]
    return [r for r in records if isinstance(r, dict) and r.get("execution_id")]


def test_gate_timeout_and_cancel_stop_cleanly_before_activate(sandbox, seeded):
    # Record mode with a gate that nobody answers: the run stops at the gate, nothing after it ran.
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme", "-e", "approval_mode=record",
                       "-e", "gate_timeout_minutes=0.1")
    assert rc != 0
    assert "Stopped at approval gate before-activate" in out
    sources = instances_by_name(sandbox, PRIMARY)
    assert all(sources[h]["State"]["Name"] == "running" for h in ACME)  # CLEANUP never ran
    # The execution is resumable; cancel it at the gate in advance, and the re-run stops cleanly again.
    execution_id = out.split("execution ")[1].split()[0].strip(",.()")
    rc2, out2, _ = sandbox.run_ansible(["playbooks/approve.yml", "-e", f"execution_id={execution_id}",
                                        "-e", "decision=cancel", "-e", "execution_store=file",
                                        "-e", f"execution_store_path={seeded}", "-e", "gate=before-activate"])
    assert rc2 == 0, out2[-3000:]
    rc3, out3, _ = run(sandbox, "failover.yml", seeded, "-e", "customer=acme", "-e", "approval_mode=record",
                       "-e", "gate_timeout_minutes=0.1")
    assert rc3 != 0 and "cancelled by" in out3
    assert all(instances_by_name(sandbox, PRIMARY)[h]["State"]["Name"] == "running" for h in ACME)
