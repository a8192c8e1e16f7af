"""failover.yml and drill.yml against the sandbox, asserting on DRS and EC2 state through boto3."""

import json
import re
import subprocess
import time
from datetime import datetime

import pytest

from iam.least_privilege import denials
from sandbox.control import SandboxError
from sandbox.harness import REPO_ROOT
from sandbox.harness import crash

ACCOUNT = "210987654321"
HUB = "123456789012"
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


def _records(store):
    """Execution records of the file store (one JSON file per execution)."""
    return [json.loads(p.read_text()) for p in sorted((store / "executions").glob("*.json"))]


def run(sandbox, playbook, store, *extra, check=False, env=None):
    args = [f"playbooks/{playbook}", "-e", f"execution_store_path={store}", *COMMON, *extra]
    if check:
        args.append("--check")
    return sandbox.run_ansible(args, env=env)


# What must never appear in any output: the workload accounts' external IDs and any AWS credential.
SECRET_PATTERNS = [re.compile(p) for p in (
    r"edr-demo-workload-[ab]",                       # the estate's external IDs
    r"\b(AKIA|ASIA)[A-Z0-9]{16}\b",                  # access key IDs (moto issues ASIA... for assumed roles)
    r"FQoGZXIvYXdzE[A-Za-z0-9+/=]{20,}",               # session tokens as moto issues them
    r"(?i)(secret_access_key|SecretAccessKey|session_token|SessionToken)[\"']?\s*[:=]\s*[\"']?[A-Za-z0-9+/]{16,}",
)]


def secrets_in(text):
    return sorted({m.group(0) for pattern in SECRET_PATTERNS for m in pattern.finditer(text)})


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


def _queue_for_topic(sandbox, topic_name):
    sns, sqs = sandbox.client("sns"), sandbox.client("sqs")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":" + topic_name))
    queue_url = sqs.create_queue(QueueName=f"{topic_name}-events")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return queue_url


def _drain(sandbox, queue_url):
    sqs, bodies = sandbox.client("sqs"), []
    while True:
        response = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        messages = response.get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(json.loads(message["Body"])["Message"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def test_failover_recovers_one_customer_into_its_targets_in_wave_order(sandbox, seeded):
    rc, out, err = sandbox.run_ansible(["playbooks/setup_hub.yml"])
    assert rc == 0, out[-3000:] + err[-2000:]
    queue_url = _queue_for_topic(sandbox, "enterprise-dr-acme")
    targets_before = instances_by_name(sandbox, DR)
    sandbox.clear_requests()
    audit_dir = seeded / "audit"
    report_dir = seeded / "reports"
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme", "-e", "execution_store=dynamodb",
                       "-e", "notify=true", "-e", "awx_user_name=jane", "-e", f"report_dir={report_dir}",
                       env={"EDR_AUDIT_LOG_DIR": str(audit_dir)})
    assert rc == 0, out[-4000:] + err[-2000:]
    run_requests = sandbox.requests()  # the run's own calls, before this test reads anything back
    # The run did assume the workload role with its external ID (so there was a secret to leak) ...
    assert any(r.get("external_id") == "edr-demo-workload-a" for r in sandbox.requests("sts"))
    # ... and no output carries it or a credential: stdout, stderr, the audit log (checked with the rest below).
    assert secrets_in(out + err) == []
    audit_lines = (audit_dir / "dr_audit.jsonl").read_text()
    assert audit_lines.strip() and secrets_in(audit_lines) == []

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
    wave2 = [by_server[servers[h]["sourceServerID"]][0]["creationDateTime"]
             for h in ("acme-prod-app01", "acme-prod-app02")]
    assert max(wave1) < min(wave2)
    assert all(len(v) == 1 for v in by_server.values())

    # The execution record in the hub's DynamoDB table, field by field.
    dynamodb = sandbox.client("dynamodb")
    items = dynamodb.scan(TableName="enterprise-dr-executions")["Items"]
    [header] = [i for i in items if i["record_key"]["S"] == "record"]
    record = json.loads(header["body"]["S"])
    eid = record["execution_id"]
    assert eid in out
    assert (record["customer"], record["operation"], record["status"], record["started_by"]) == (
        "acme", "failover", "succeeded", "jane")
    assert record["ended_at"] and record["started_at"] < record["ended_at"]
    for phase in ("PREFLIGHT", "INSTANTIATE", "ACTIVATE", "CLEANUP"):
        assert record["phases"][phase]["status"] == "succeeded", phase
    for phase in ("INSTANTIATE", "ACTIVATE", "CLEANUP"):
        for wave in (1, 2):
            entry = record["waves"][f"{phase}/{wave}"]
            assert entry["status"] == "succeeded" and entry["started_at"] and entry["ended_at"]
    assert [a["gate"] for a in record["approvals"]][:2] == ["before-activate", "before-cleanup"]
    assert all(a["decision"] == "approve" and a["mode"] == "automatic" for a in record["approvals"])
    resources = {json.loads(i["body"]["S"])["name"]: json.loads(i["body"]["S"]) for i in items
                 if i["execution_id"]["S"] == eid and i["record_key"]["S"].startswith("resource#")}
    assert set(resources) == set(ACME)
    for hostname in ACME:
        entry, target = resources[hostname], targets_before[hostname]
        assert entry["before"]["source_instance_id"] == sources[hostname]["InstanceId"]
        assert entry["before"]["source_private_ip"] == sources[hostname]["PrivateIpAddress"]
        assert entry["before"]["target_instance_id"] == target["InstanceId"]
        assert entry["before"]["target_private_ip"] == target["PrivateIpAddress"]
        assert entry["before"]["staging_account_id"] == ACCOUNT
        recovered = recovery[servers[hostname]["sourceServerID"]]
        assert entry["after"]["recovery_instance_id"] == recovered["recoveryInstanceID"]
        assert entry["job_ids"] == [by_server[servers[hostname]["sourceServerID"]][0]["jobID"]]
        # Measured from the run's start to the server's recovery: positive, and within the run.
        run_seconds = (datetime.fromisoformat(record["ended_at"].replace("Z", "+00:00"))
                       - datetime.fromisoformat(record["started_at"].replace("Z", "+00:00"))).total_seconds()
        assert 0 < entry["recovery_seconds"] <= run_seconds + 1, (entry["recovery_seconds"], run_seconds)
    # The execution record, its HTML and JSON report and the notifications carry no secret either.
    assert secrets_in(json.dumps(items)) == []
    reports = sorted(report_dir.glob(f"{eid}.*"))
    assert [r.suffix for r in reports] == [".html", ".json"]
    assert all(eid in r.read_text() for r in reports)
    assert {r.name: secrets_in(r.read_text()) for r in reports} == {r.name: [] for r in reports}
    messages = _drain(sandbox, queue_url)
    assert messages and secrets_in(json.dumps(messages)) == []
    # Notifications, in order: started, one wave_completed per phase and wave, completed.
    events = [(m["event"], m.get("phase"), m.get("wave")) for m in messages]
    assert events[0][0] == "started" and events[-1][0] == "completed"
    waves_done = [(phase, wave) for event, phase, wave in events if event == "wave_completed"]
    assert waves_done[:6] == [("INSTANTIATE", 1), ("INSTANTIATE", 2), ("ACTIVATE", 1), ("ACTIVATE", 2),
                              ("CLEANUP", 1), ("CLEANUP", 2)]
    # Metrics exist for the run.
    names = {m["MetricName"] for m in sandbox.client("cloudwatch").list_metrics(Namespace="EnterpriseDR")["Metrics"]}
    assert {"RunDuration", "PhaseDuration", "WaveDuration"} <= names
    # status.yml: machine-readable JSON with every field.
    status_file = seeded / "status.json"
    rc, out, err = sandbox.run_ansible(["playbooks/status.yml", "-e", "customer=acme",
                                        "-e", f"status_file={status_file}"])
    assert rc == 0, out[-3000:]
    status = json.loads(status_file.read_text())
    assert status["execution_id"] == eid and status["status"] == "succeeded"
    assert sorted(status["completed_resources"]) == sorted(ACME) and status["failed_resources"] == []

    # A second run of the same command is refused in PLAN (acme is failed over) and starts no job.
    before = len(jobs(sandbox))
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme")
    assert rc != 0 and "acme is failed over" in out, out[-4000:] + err[-2000:]
    assert len(jobs(sandbox)) == before
    # Least privilege, proven by the run: every call it made is granted by the published policies (iam/policies).
    refused = denials(run_requests, HUB, ["drs"])
    assert not refused, "\n".join(refused)


def test_check_mode_prints_the_plan_and_makes_no_mutating_call(sandbox, seeded):
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme", check=True)
    assert rc == 0, out[-4000:] + err[-2000:]
    mutating = [r for r in sandbox.mutating_requests() if r["service"] != "sts"]
    assert mutating == []
    assert "DRY RUN" in out and "acme-prod-db01" in out and "globex" not in out.split("PLAY [PREFLIGHT")[0]
    assert jobs(sandbox) == []
    # A dry run needs only the read-only discovery policy in the workload accounts.
    refused = denials(sandbox.requests(), HUB, [])
    assert not refused, "\n".join(refused)


def test_drill_cleans_up_even_when_a_launch_fails(sandbox, seeded):
    servers = servers_by_hostname(sandbox)
    sandbox.drs_settings(launch_failures=["globex-prod-web02"])
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "drill.yml", seeded, "-e", "customer=globex", "-e", "failure_policy=continue")
    assert rc != 0  # a server failed; the run says so
    refused = denials(sandbox.requests(), HUB, ["drs"])
    assert not refused, "\n".join(refused)
    [record] = _records(seeded)
    failed = json.loads((seeded / "resources" / (record["execution_id"] + ".json")).read_text())
    failed = failed.values() if isinstance(failed, dict) else failed
    web02 = [r for r in failed if r.get("name") == "globex-prod-web02"]
    assert web02 and web02[0]["status"] == "failed" and web02[0]["error"]
    assert any("globex-prod-web02" in e["message"] for e in record["errors"])
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


def test_drill_stopped_at_its_gate_cleans_up_before_it_stops(sandbox, seeded):
    """Issue 12, observation 5: nobody answers the drill's validation gate; the run stops there, and its drill
    instances are gone and its targets stopped and tagged again before it does."""
    servers = servers_by_hostname(sandbox)
    rc, out, err = run(sandbox, "drill.yml", seeded, "-e", "customer=globex", "-e", "approval_mode=record",
                       "-e", "gate_timeout_minutes=0.1")
    assert rc != 0
    [record] = _records(seeded)
    assert record["status"] == "interrupted"
    assert any("drill-validated-wave-1" in e["message"] for e in record["errors"]), record["errors"]
    launched = server_jobs(jobs(sandbox))
    assert {servers[h]["sourceServerID"] for h in GLOBEX} <= set(launched)  # the drill did launch before the gate
    assert all(job["initiatedBy"] == "START_DRILL" for job_list in launched.values() for job in job_list)
    drs = sandbox.client("drs", ACCOUNT, DR)
    assert drs.describe_recovery_instances(filters={})["items"] == []
    targets = instances_by_name(sandbox, DR)
    for hostname in GLOBEX:
        assert targets[hostname]["State"]["Name"] == "stopped"
        assert targets[hostname]["TagMap"]["AWSDRS"] == "AllowLaunchingIntoThisInstance"
    assert record["waves"]["CLEANUP/1"]["status"] == "succeeded"


def test_a_target_started_after_preflight_fails_only_its_server_with_failure_policy_continue(sandbox, seeded):
    """Issue 12, observation 12: someone starts app02's target while wave 1 launches. With failure_policy=continue,
    app02 fails alone with its own error; app01, in the same wave, is launched, activated and cleaned up."""
    servers = servers_by_hostname(sandbox)
    sandbox.drs_settings(time_scale=3.0)
    command = [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/failover.yml", "-e", "customer=acme",
               "-e", f"execution_store_path={seeded}", *COMMON, "-e", "failure_policy=continue"]
    process = subprocess.Popen(command, cwd=str(REPO_ROOT), env=sandbox.ansible_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        db = servers["acme-prod-db01"]["sourceServerID"]
        deadline = time.time() + 300
        while time.time() < deadline and db not in server_jobs(jobs(sandbox)):
            time.sleep(0.5)
        assert db in server_jobs(jobs(sandbox)), "wave 1 never started"
        target = instances_by_name(sandbox, DR)["acme-prod-app02"]["InstanceId"]
        sandbox.client("ec2", ACCOUNT, DR).start_instances(InstanceIds=[target])
        sandbox.drs_settings(time_scale=0.2)
        out, _err = process.communicate(timeout=600)
    finally:
        if process.poll() is None:
            crash(process)
    assert process.returncode != 0, out[-3000:]  # a server failed; the run says so
    [record] = _records(seeded)
    entries = json.loads((seeded / "resources" / (record["execution_id"] + ".json")).read_text())
    entries = list(entries.values()) if isinstance(entries, dict) else entries
    app02 = [e for e in entries if e.get("name") == "acme-prod-app02"]
    assert [(e["phase"], e["status"]) for e in app02] == [("INSTANTIATE", "failed")], app02
    assert target in app02[0]["error"] and "stopped" in app02[0]["error"], app02[0]["error"]
    assert record["execution_id"] in app02[0]["remediation"]
    # Nobody else carries app02's error, and the rest of its wave went through every phase.
    others = [e for e in entries if e.get("name") != "acme-prod-app02"]
    assert others and all(not e.get("error") and e["status"] == "succeeded" for e in others), others
    # Each resource's entry is its latest: app01 went on to the last phase.
    assert [e["phase"] for e in others if e.get("name") == "acme-prod-app01"] == ["REPLICATE"]
    launched = server_jobs(jobs(sandbox))
    assert servers["acme-prod-app02"]["sourceServerID"] not in launched
    assert servers["acme-prod-app01"]["sourceServerID"] in launched
    recovery = sandbox.client("drs", ACCOUNT, DR).describe_recovery_instances(filters={})["items"]
    assert {r["sourceServerID"] for r in recovery} == {servers[h]["sourceServerID"]
                                                       for h in ("acme-prod-db01", "acme-prod-app01")}
    sources = instances_by_name(sandbox, PRIMARY)
    assert sources["acme-prod-app01"]["State"]["Name"] == "stopped"  # CLEANUP retired it
    assert sources["acme-prod-app02"]["State"]["Name"] == "running"  # production stays where it was
    assert [e for e in record["errors"] if "acme-prod-app02" not in e["message"]] == []


def test_failed_health_check_takes_only_that_server_out_of_the_failover(sandbox, tmp_path):
    sandbox.reset()
    unhealthy = estate()
    # app01 (wave 2) answers 503 on its health check URL; db01 (wave 1) and app02 (wave 2) have none.
    unhealthy["servers"][1]["health_check_url"] = "{sandbox}/_sandbox/health/acme-app01"
    sandbox.seed(unhealthy)
    with pytest.raises(SandboxError, match="503"):  # from now on the endpoint answers 503, this PUT included
        sandbox.admin.call("PUT", "health/acme-app01", {"healthy": False})
    rc, out, err = run(sandbox, "failover.yml", tmp_path, "-e", "customer=acme", "-e", "failure_policy=continue",
                       "-e", "health_check_timeout_seconds=6")
    assert rc != 0, out[-3000:]  # a server failed; the run says so
    [record] = _records(tmp_path)
    entries = json.loads((tmp_path / "resources" / (record["execution_id"] + ".json")).read_text())
    entries = list(entries.values()) if isinstance(entries, dict) else entries
    app01 = [e for e in entries if e.get("name") == "acme-prod-app01"]
    assert app01 and app01[0]["phase"] == "ACTIVATE" and app01[0]["status"] == "failed", app01
    assert "health_check" in app01[0]["error"] and "answered HTTP 503" in app01[0]["error"]
    assert "/_sandbox/health/acme-app01" in app01[0]["remediation"]
    assert record["waves"]["ACTIVATE/2"]["status"] == "failed"
    assert any("acme-prod-app01" in e["message"] for e in record["errors"])
    # Every server launched into its target; only the failed one stays out of CLEANUP: its source keeps running.
    targets = instances_by_name(sandbox, DR)
    assert all(targets[h]["State"]["Name"] == "running" for h in ACME)
    sources = instances_by_name(sandbox, PRIMARY)
    assert sources["acme-prod-app01"]["State"]["Name"] == "running"
    assert sources["acme-prod-db01"]["State"]["Name"] == "stopped"
    assert sources["acme-prod-app02"]["State"]["Name"] == "stopped"


def test_continue_policy_stops_resumably_when_every_server_of_a_wave_fails(sandbox, seeded):
    servers = servers_by_hostname(sandbox)
    sandbox.drs_settings(launch_failures=["acme-prod-db01"])  # db01 is the only server of wave 1
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme", "-e", "failure_policy=continue")
    assert rc != 0
    assert "every resource of the wave failed" in out, out[-3000:]
    [record] = _records(seeded)
    # Ansible ends a playbook whose whole serial batch failed: the record says interrupted, not running.
    assert record["status"] == "interrupted"
    assert record["waves"]["INSTANTIATE/1"]["status"] == "failed"
    assert "INSTANTIATE/2" not in record["waves"]
    launched = server_jobs(jobs(sandbox))
    assert not any(servers[h]["sourceServerID"] in launched for h in ("acme-prod-app01", "acme-prod-app02"))
    assert all(s["State"]["Name"] == "running" for h, s in instances_by_name(sandbox, PRIMARY).items() if h in ACME)
    # Once the cause is fixed, the same command resumes the same execution and finishes it.
    sandbox.drs_settings(launch_failures=[])
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme", "-e", "failure_policy=continue")
    assert rc == 0, out[-4000:] + err[-2000:]
    [resumed] = _records(seeded)
    assert resumed["execution_id"] == record["execution_id"] and resumed["status"] == "succeeded"
    recovery = sandbox.client("drs", ACCOUNT, DR).describe_recovery_instances(filters={})["items"]
    assert {r["sourceServerID"] for r in recovery} == {servers[h]["sourceServerID"] for h in ACME}


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
    # Wave 2's job stays in progress (its next steps take long) while the refused run below and the kill happen,
    # however loaded the machine is.
    sandbox.drs_settings(time_scale=60.0)
    # A second failover of the same customer while the first one runs is refused, naming the first.
    [first] = _records(seeded)
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme")
    assert rc != 0 and first["execution_id"] in out, out[-3000:]
    crash(process)  # the whole controller is lost, its workers too
    # The record shows the unfinished run: wave 1 done, wave 2 of INSTANTIATE still running.
    [interrupted] = _records(seeded)
    assert interrupted["status"] in ("running", "interrupted")
    assert interrupted["waves"]["INSTANTIATE/1"]["status"] == "succeeded"
    assert interrupted["waves"]["INSTANTIATE/2"]["status"] == "running"
    sandbox.drs_settings(time_scale=0.2)
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme")
    assert rc == 0, out[-4000:] + err[-2000:]
    assert "(resumed)" in out
    # The resume completed the same record.
    [resumed] = _records(seeded)
    assert resumed["execution_id"] == interrupted["execution_id"] and resumed["status"] == "succeeded"
    assert resumed["resumptions"] and resumed["waves"]["CLEANUP/2"]["status"] == "succeeded"
    by_server = server_jobs(jobs(sandbox))
    assert all(len(v) == 1 for v in by_server.values()), {k: [j["jobID"] for j in v] for k, v in by_server.items()}
    recovery = sandbox.client("drs", ACCOUNT, DR).describe_recovery_instances(filters={})["items"]
    assert {r["sourceServerID"] for r in recovery} == {servers[h]["sourceServerID"] for h in ACME}


def test_a_drill_killed_after_instantiate_resumes_and_still_validates_and_cleans_up_that_wave(sandbox, seeded):
    """A resumed drill skips the INSTANTIATE its first run finished, but never the ACTIVATE and CLEANUP of the same
    wave (they run in the same play): its drill instances are validated and removed, launched once."""
    sandbox.drs_settings(time_scale=2.0)
    command = [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/drill.yml", "-e", "customer=acme",
               "-e", f"execution_store_path={seeded}", *COMMON]
    process = subprocess.Popen(command, cwd=str(REPO_ROOT), env=sandbox.ansible_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    servers = servers_by_hostname(sandbox)
    drs = sandbox.client("drs", ACCOUNT, DR)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and process.poll() is None:
            records = _records(seeded)
            if records and records[0]["waves"].get("INSTANTIATE/1", {}).get("status") == "succeeded":
                break
            time.sleep(0.2)
        crash(process)
    finally:
        if process.poll() is None:
            crash(process)
    [killed] = _records(seeded)
    assert killed["waves"]["INSTANTIATE/1"]["status"] == "succeeded", killed["waves"]
    assert killed["waves"].get("CLEANUP/1", {}).get("status") != "succeeded", killed["waves"]
    assert drs.describe_recovery_instances(filters={})["items"], "the kill came before the drill launched"
    sandbox.drs_settings(time_scale=0.2)
    rc, out, err = run(sandbox, "drill.yml", seeded, "-e", "customer=acme")
    assert rc == 0, out[-4000:] + err[-2000:]
    [resumed] = _records(seeded)
    assert resumed["execution_id"] == killed["execution_id"] and resumed["status"] == "succeeded"
    assert resumed["resumptions"]
    for phase in ("INSTANTIATE", "ACTIVATE", "CLEANUP"):
        for wave in (1, 2):
            assert resumed["waves"][f"{phase}/{wave}"]["status"] == "succeeded", (phase, wave, resumed["waves"])
    # Every drill instance is gone, every target stopped and launchable again, production untouched.
    assert drs.describe_recovery_instances(filters={})["items"] == []
    targets = instances_by_name(sandbox, DR)
    for hostname in ACME:
        assert targets[hostname]["State"]["Name"] == "stopped"
        assert targets[hostname]["TagMap"]["AWSDRS"] == "AllowLaunchingIntoThisInstance"
    sources = instances_by_name(sandbox, PRIMARY)
    assert all(sources[h]["State"]["Name"] == "running" for h in ACME + GLOBEX)
    # Wave 1 was launched by the first run only: one drill job per server.
    by_server = server_jobs(jobs(sandbox))
    assert {h: len(by_server.get(servers[h]["sourceServerID"], [])) for h in ACME} == {h: 1 for h in ACME}
    assert all(job["initiatedBy"] == "START_DRILL" for job_list in by_server.values() for job in job_list)


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


def test_gate_timeout_and_cancel_stop_cleanly_before_activate(sandbox, seeded):
    # Record mode with a gate that nobody answers: the run stops at the gate, nothing after it ran.
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme", "-e", "approval_mode=record",
                       "-e", "gate_timeout_minutes=0.1")
    assert rc != 0
    assert "Stopped at approval gate before-activate" in out
    sources = instances_by_name(sandbox, PRIMARY)
    assert all(sources[h]["State"]["Name"] == "running" for h in ACME)  # CLEANUP never ran
    # The execution is resumable; cancel it at the gate in advance, and the re-run stops cleanly again.
    execution_id = re.search(r"edr-acme-\d{8}T\d{6}-[0-9a-f]{6}", out).group(0)
    rc2, out2, _err2 = sandbox.run_ansible(["playbooks/approve.yml", "-e", f"execution_id={execution_id}",
                                            "-e", "decision=cancel", "-e", "execution_store=file",
                                            "-e", f"execution_store_path={seeded}", "-e", "gate=before-activate"])
    assert rc2 == 0, out2[-3000:]
    rc3, out3, _err3 = run(sandbox, "failover.yml", seeded, "-e", "customer=acme", "-e", "approval_mode=record",
                           "-e", "gate_timeout_minutes=0.1")
    assert rc3 != 0 and "cancelled by" in out3
    assert all(instances_by_name(sandbox, PRIMARY)[h]["State"]["Name"] == "running" for h in ACME)
