"""Execution record, status/approve playbooks, notifications and metrics against the sandbox (hub account)."""

from __future__ import annotations

import json
import subprocess
import time

import pytest

TABLE = "enterprise-dr-executions"

START_PLAY = """
- name: Start a run
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Start
      enterprise_dr.orchestration.execution_record:
        action: start
        customer: acme
        environment: production
        operation: failover
        started_by: "{{ awx_user_name | default(omit) }}"
      register: run
    - name: Keep the ID
      ansible.builtin.copy:
        content: "{{ run.execution_id }}"
        dest: "{{ id_file }}"
        mode: "0644"
"""

LIFECYCLE_PLAY = """
- name: A short run
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Start
      enterprise_dr.orchestration.execution_record:
        action: start
        customer: acme
        environment: production
        operation: failover
        started_by: "{{ awx_user_name | default(omit) }}"
      register: run
    - name: Expose the execution ID
      ansible.builtin.set_fact:
        dr_execution_id: "{{ run.execution_id }}"
    - name: Wave 1 of INSTANTIATE
      enterprise_dr.orchestration.execution_record:
        action: update
        execution_id: "{{ dr_execution_id }}"
        phase: {name: INSTANTIATE, status: running}
        wave: {number: 1, status: running}
        resources:
          - resource: arn:aws:drs:us-west-2:210987654321:source-server/s-00000000000000001
            name: web01
            technology: drs
            wave: 1
            status: succeeded
            phase: ACTIVATE
            rto_target_minutes: 30
            replication_lag_seconds: 4
            before: {source_instance_id: i-src1, source_private_ip: 10.0.0.5, target_instance_id: i-tgt1,
                     staging_account_id: "210987654321"}
            after: {recovery_instance_id: i-tgt1, target_private_ip: 10.0.0.5}
            job_ids: [drsjob-1]
          - resource: arn:aws:drs:us-west-2:210987654321:source-server/s-00000000000000002
            name: app01
            technology: drs
            wave: 1
            status: running
    - name: Finish
      enterprise_dr.orchestration.execution_record:
        action: finish
        execution_id: "{{ dr_execution_id }}"
        status: "{{ final_status | default('succeeded') }}"
      when: final_status | default('succeeded') != 'none'
    - name: Publish the run's metrics
      enterprise_dr.orchestration.dr_metrics:
        from_record: true
        execution_id: "{{ dr_execution_id }}"
      when: final_status | default('succeeded') != 'none'
"""

NOTIFY_PLAY = """
- name: Notify
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Send one notification per event
      enterprise_dr.orchestration.dr_notify:
        event: "{{ item.event }}"
        execution_id: edr-acme-20240501T120000-abcdef
        customer: acme
        environment: production
        operation: failover
        gate: "{{ item.gate | default(omit) }}"
        wave: "{{ item.wave | default(omit) }}"
        failed_resources: "{{ item.failed | default(omit) }}"
        remediation: "{{ item.remediation | default(omit) }}"
      loop:
        - {event: started}
        - {event: gate_waiting, gate: before-activate}
        - {event: wave_completed, wave: 1}
        - {event: failed, wave: 2, failed: [{resource: s-2, error: target running}], remediation: stop i-2 and re-run}
        - {event: completed}
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def inventory(tmp_path):
    return write(tmp_path, "local.ini",
                 'localhost ansible_connection=local ansible_python_interpreter="{{ ansible_playbook_python }}"\n')


def playbook(sandbox, tmp_path, path, *extra, audit_store=None):
    env = {"EDR_AUDIT_LOG_DIR": str(tmp_path / "audit")}
    if audit_store:
        env["EDR_AUDIT_STORE"] = audit_store
    return sandbox.run_ansible(["-i", inventory(tmp_path), path, *extra], env=env)


@pytest.fixture
def hub(clean_sandbox, tmp_path):
    rc, out, err = playbook(clean_sandbox, tmp_path, "playbooks/setup_hub.yml")
    assert rc == 0, out + err
    return clean_sandbox


def headers(sandbox):
    items = sandbox.client("dynamodb").scan(TableName=TABLE)["Items"]
    return [i for i in items if i["record_key"]["S"] == "record"]


def test_run_is_written_to_dynamodb_with_resources_and_metrics(hub, tmp_path):
    path = write(tmp_path, "run.yml", LIFECYCLE_PLAY)
    rc, out, err = playbook(hub, tmp_path, path, "-e", "awx_user_name=jane")
    assert rc == 0, out + err
    [header] = headers(hub)
    eid = header["execution_id"]["S"]
    assert eid.startswith("edr-acme-")
    assert header["status"]["S"] == "succeeded" and header["customer"]["S"] == "acme"
    assert int(header["version"]["N"]) >= 3
    body = json.loads(header["body"]["S"])
    assert body["started_by"] == "jane" and body["operation"] == "failover"
    assert body["phases"]["INSTANTIATE"]["status"] == "succeeded"
    dynamodb = hub.client("dynamodb")
    items = dynamodb.query(TableName=TABLE, KeyConditionExpression="execution_id = :e",
                           ExpressionAttributeValues={":e": {"S": eid}})["Items"]
    resources = {i["record_key"]["S"]: json.loads(i["body"]["S"]) for i in items
                 if i["record_key"]["S"].startswith("resource#")}
    web = resources["resource#arn:aws:drs:us-west-2:210987654321:source-server/s-00000000000000001"]
    assert web["before"]["source_private_ip"] == "10.0.0.5" and web["after"]["recovery_instance_id"] == "i-tgt1"
    assert web["before"]["staging_account_id"] == "210987654321" and web["job_ids"] == ["drsjob-1"]
    # The scope lock was released
    assert not [i for i in dynamodb.scan(TableName=TABLE)["Items"] if i["execution_id"]["S"].startswith("lock#")]

    cloudwatch = hub.client("cloudwatch")
    metrics = cloudwatch.list_metrics(Namespace="EnterpriseDR")["Metrics"]
    names = {m["MetricName"] for m in metrics}
    assert {"RunDuration", "RunSucceeded", "PhaseDuration", "WaveDuration", "ReplicationLagBeforeRecovery"} <= names
    run_duration = next(m for m in metrics if m["MetricName"] == "RunDuration")
    assert {d["Name"]: d["Value"] for d in run_duration["Dimensions"]} == {
        "Customer": "acme", "Environment": "production", "Operation": "failover"}

    # status.yml: machine-readable JSON with every field
    status_file = tmp_path / "status.json"
    rc, out, err = playbook(hub, tmp_path, "playbooks/status.yml", "-e", f"execution_id={eid}",
                            "-e", f"status_file={status_file}")
    assert rc == 0, out + err
    status = json.loads(status_file.read_text())
    for key in ("status", "phase", "wave", "completed_resources", "pending_resources", "failed_resources",
                "elapsed_seconds", "estimated_completion", "resource_counts", "rto"):
        assert key in status, key
    assert status["status"] == "succeeded"
    assert status["completed_resources"] == ["web01"] and status["pending_resources"] == ["app01"]
    # -e customer=... reads the latest run of the customer
    latest_file = tmp_path / "latest.json"
    rc, out, err = playbook(hub, tmp_path, "playbooks/status.yml", "-e", "customer=acme",
                            "-e", f"status_file={latest_file}")
    assert rc == 0, out + err
    assert json.loads(latest_file.read_text())["execution_id"] == eid


def test_concurrent_start_is_refused_naming_the_first(hub, tmp_path):
    path = write(tmp_path, "start.yml", START_PLAY)
    procs = []
    for n in range(2):
        args = [str(hub_bin()), "-i", inventory(tmp_path), path, "-e", f"id_file={tmp_path / f'id{n}'}"]
        procs.append(subprocess.Popen(args, cwd=str(repo_root()), env=hub.ansible_env(
            {"EDR_AUDIT_LOG_DIR": str(tmp_path / "audit")}), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True))
    outputs = [p.communicate(timeout=300)[0] for p in procs]
    codes = [p.returncode for p in procs]
    assert sorted(codes) == [0, 2], outputs
    winner = (tmp_path / f"id{codes.index(0)}").read_text()
    loser_output = outputs[codes.index(2)]
    assert winner in loser_output and "is still active for acme/production" in loser_output
    # Only the winner was written; the playbook ended without changing anything, so dr_audit closed it as failed
    # (refused before any change) and released its scope lock: nothing is left locked (issue 12, observation 7)
    assert [(h["execution_id"]["S"], h["status"]["S"]) for h in headers(hub)] == [(winner, "failed")]
    locks = [i for i in hub.client("dynamodb").scan(TableName=TABLE)["Items"] if i["execution_id"]["S"] == "lock#acme"]
    assert locks == []
    # With nothing left locked, a third, sequential start is not refused: it starts an execution of its own
    rc, out, err = playbook(hub, tmp_path, path, "-e", f"id_file={tmp_path / 'id3'}")
    assert rc == 0, out + err
    assert (tmp_path / "id3").read_text() not in ("", winner)


def test_approve_playbook_releases_a_waiting_gate(hub, tmp_path):
    path = write(tmp_path, "start.yml", START_PLAY)
    # This start-only playbook stands for the first part of a run whose gate a second process holds; the audit
    # callback (which closes a run that ended before any change) only logs here, so the record stays open.
    rc, out, err = playbook(hub, tmp_path, path, "-e", f"id_file={tmp_path / 'id'}", audit_store="none")
    assert rc == 0, out + err
    eid = (tmp_path / "id").read_text()
    gate_play = write(tmp_path, "gate.yml", f"""
- name: Gate
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Wait for a decision
      enterprise_dr.orchestration.execution_record:
        action: wait_approval
        execution_id: {eid}
        gate: before-activate
        wait_timeout: 120
        poll_interval: 1
      register: gate
    - name: Keep the decision
      ansible.builtin.copy:
        content: "{{{{ gate | to_json }}}}"
        dest: {tmp_path / 'decision.json'}
        mode: "0644"
""")
    waiter = subprocess.Popen([str(hub_bin()), "-i", inventory(tmp_path), gate_play], cwd=str(repo_root()),
                              env=hub.ansible_env({"EDR_AUDIT_LOG_DIR": str(tmp_path / "audit")}),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            [header] = headers(hub)
            if header["status"]["S"] == "waiting_approval":
                break
            time.sleep(0.5)
        else:
            pytest.fail("the gate never marked the run as waiting")
        rc, out, err = playbook(hub, tmp_path, "playbooks/approve.yml", "-e", f"execution_id={eid}",
                                "-e", "decision=approve", "-e", "approver=jane.doe")
        assert rc == 0, out + err
        output = waiter.communicate(timeout=120)[0]
    finally:
        if waiter.poll() is None:
            waiter.kill()
    assert waiter.returncode == 0, output
    decision = json.loads((tmp_path / "decision.json").read_text())
    assert decision["decision"] == "approve" and decision["approver"] == "jane.doe" and decision["approved"]
    [header] = headers(hub)
    body = json.loads(header["body"]["S"])
    assert header["status"]["S"] == "running" and body["pending_gate"] is None
    assert body["approvals"][0]["gate"] == "before-activate" and body["approvals"][0]["approver"] == "jane.doe"
    # a second approve with the other decision is refused, naming who decided
    rc, out, err = playbook(hub, tmp_path, "playbooks/approve.yml", "-e", f"execution_id={eid}",
                            "-e", "decision=cancel", "-e", "gate=before-activate")
    assert rc == 2 and "already decided: approve by jane.doe" in out


def test_notifications_reach_a_subscribed_queue_in_order(hub, tmp_path):
    sns, sqs = hub.client("sns"), hub.client("sqs")
    topic = next(t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":enterprise-dr-acme"))
    queue_url = sqs.create_queue(QueueName="dr-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    rc, out, err = playbook(hub, tmp_path, write(tmp_path, "notify.yml", NOTIFY_PLAY))
    assert rc == 0, out + err
    bodies = []
    for _attempt in range(10):
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10,
                                       WaitTimeSeconds=1).get("Messages", [])
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        if len(bodies) >= 5:
            break
    events = [json.loads(b["Message"])["event"] for b in bodies]
    assert events == ["started", "gate_waiting", "wave_completed", "failed", "completed"]
    attributes = bodies[1]["MessageAttributes"]
    assert attributes["event"]["Value"] == "gate_waiting" and attributes["customer"]["Value"] == "acme"
    assert attributes["execution_id"]["Value"] == "edr-acme-20240501T120000-abcdef"
    gate = json.loads(bodies[1]["Message"])
    assert gate["how_to_decide"]["approve"].endswith(
        "approve.yml -e execution_id=edr-acme-20240501T120000-abcdef -e decision=approve")
    failed = json.loads(bodies[3]["Message"])
    assert failed["failed_resources"] == [{"resource": "s-2", "error": "target running"}]
    assert failed["remediation"] == "stop i-2 and re-run"


def test_notify_to_a_missing_topic_fails_with_the_fix(clean_sandbox, tmp_path):
    rc, out, err = playbook(clean_sandbox, tmp_path, write(tmp_path, "notify.yml", NOTIFY_PLAY))
    assert rc == 2 and "setup_hub.yml" in out


def repo_root():
    from tests.conftest import REPO_ROOT

    return REPO_ROOT


def hub_bin():
    return repo_root() / ".venv" / "bin" / "ansible-playbook"
