"""playbooks/setup_hub.yml against the sandbox: table, topics and dashboard, idempotent."""

from __future__ import annotations

import json

TOPICS = {"enterprise-dr-acme", "enterprise-dr-globex", "enterprise-dr-notifications"}


def local_inventory(tmp_path):
    path = tmp_path / "local.ini"
    path.write_text("localhost ansible_connection=local ansible_python_interpreter=\"{{ ansible_playbook_python }}\"\n")
    return str(path)


def run_setup(sandbox, tmp_path, *extra):
    return sandbox.run_ansible(["-i", local_inventory(tmp_path), "playbooks/setup_hub.yml", *extra],
                               env={"EDR_AUDIT_LOG_DIR": str(tmp_path / "audit")})


def recap_changed(stdout):
    line = next(line for line in stdout.splitlines() if line.startswith("localhost") and "changed=" in line)
    return int(line.split("changed=")[1].split()[0])


def test_setup_hub_creates_everything_and_is_idempotent(clean_sandbox, tmp_path):
    sandbox = clean_sandbox
    rc, out, err = run_setup(sandbox, tmp_path)
    assert rc == 0, out + err
    assert recap_changed(out) == 4  # store, customer topics (one loop), shared topic, dashboard

    dynamodb = sandbox.client("dynamodb")
    table = dynamodb.describe_table(TableName="enterprise-dr-executions")["Table"]
    assert {k["AttributeName"]: k["KeyType"] for k in table["KeySchema"]} == {"execution_id": "HASH",
                                                                              "record_key": "RANGE"}
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["customer-started_at-index"]
    sns = sandbox.client("sns")
    names = {t["TopicArn"].rsplit(":", 1)[-1] for t in sns.list_topics()["Topics"]}
    assert TOPICS <= names
    body = json.loads(sandbox.client("cloudwatch").get_dashboard(DashboardName="EnterpriseDR")["DashboardBody"])
    assert len(body["widgets"]) == 8
    assert "EnterpriseDR" in body["widgets"][0]["properties"]["metrics"][0][0]["expression"]

    sandbox.clear_requests()
    rc, out, err = run_setup(sandbox, tmp_path)
    assert rc == 0, out + err
    assert recap_changed(out) == 0
    writes = [r for r in sandbox.mutating_requests() if r["service"] in ("dynamodb", "sns", "cloudwatch")]
    assert writes == []


def test_setup_hub_check_mode_creates_nothing(clean_sandbox, tmp_path):
    sandbox = clean_sandbox
    rc, out, err = run_setup(sandbox, tmp_path, "--check")
    assert rc == 0, out + err
    assert "enterprise-dr-executions" not in sandbox.client("dynamodb").list_tables()["TableNames"]
    assert sandbox.client("sns").list_topics()["Topics"] == []
    assert sandbox.client("cloudwatch").list_dashboards()["DashboardEntries"] == []
