"""Execution and readiness reports from real runs against the sandbox, checked against the execution record, the
sandbox's DRS state and its request log, and opened in headless Chromium."""

import json
import os
import shutil
import urllib.request

import pytest

from sandbox.control import SandboxError
from tests.integration.browser import Browser
from tests.integration.browser import ensure_chromium
from tests.integration.test_failover import ACCOUNT
from tests.integration.test_failover import DR
from tests.integration.test_failover import estate

pytestmark = [pytest.mark.sandbox, pytest.mark.playbook, pytest.mark.slow]

COMMON = ["-e", "execution_store=file", "-e", "poll_interval=1", "-e", "approval_mode=automatic",
          "-e", "allow_automatic_production=true", "-e", "wait_timeout_minutes=5", "-e", "failure_policy=continue"]


def _records(store):
    out = {}
    for path in sorted((store / "executions").glob("*.json")):
        record = json.loads(path.read_text())
        entries = json.loads((store / "resources" / path.name).read_text())
        out[record["operation"]] = (record, list(entries.values()) if isinstance(entries, dict) else entries)
    return out


@pytest.fixture(scope="module")
def evidence(sandbox, tmp_path_factory):
    """A failover of acme (app01's health check fails, app02 has a 0-minute RTO target), a drill of globex (web02's
    launch fails) and a readiness report after both, all with the file store."""
    root = tmp_path_factory.mktemp("evidence")
    store, reports = root / "store", root / "reports"
    sandbox.reset()
    seeded = estate()
    seeded["servers"][1]["health_check_url"] = "{sandbox}/_sandbox/health/acme-app01"
    seeded["servers"][2]["rto_target"] = 0
    seeded["servers"][0]["rpo_target"] = 5
    sandbox.seed(seeded)
    with pytest.raises(SandboxError, match="503"):
        sandbox.admin.call("PUT", "health/acme-app01", {"healthy": False})
    base = ["-e", f"execution_store_path={store}", "-e", f"report_dir={reports}", *COMMON]
    failover = sandbox.run_ansible(["playbooks/failover.yml", "-e", "customer=acme", "-e",
                                    "health_check_timeout_seconds=6", *base])
    sandbox.drs_settings(launch_failures=["globex-prod-web02"])
    drill = sandbox.run_ansible(["playbooks/drill.yml", "-e", "customer=globex", *base])
    sandbox.drs_settings(launch_failures=[])
    sandbox.clear_requests()
    readiness = sandbox.run_ansible(["playbooks/readiness.yml", "-e", f"execution_store_path={store}",
                                     "-e", "execution_store=file", "-e", f"report_dir={reports}",
                                     "-e", "readiness_report_name=readiness"])
    readiness_requests = sandbox.requests()
    return {"store": store, "reports": reports, "failover": failover, "drill": drill, "readiness": readiness,
            "readiness_requests": readiness_requests, "records": _records(store)}


def _report(evidence, operation):
    record, _entries = evidence["records"][operation]
    path = evidence["reports"] / f"{record['execution_id']}.json"
    assert path.exists(), f"no report for the {operation}: {sorted(os.listdir(evidence['reports']))}"
    return json.loads(path.read_text())


def test_failover_report_matches_the_record_and_the_sandbox(sandbox, evidence):
    rc, out, err = evidence["failover"]
    assert rc != 0, out[-2000:]  # app01 failed its health check: the run says so, after writing the report
    record, entries = evidence["records"]["failover"]
    report = _report(evidence, "failover")
    rows = {r["name"]: r for r in report["resources"]}
    assert set(rows) == {e["name"] for e in entries} == {"acme-prod-db01", "acme-prod-app01", "acme-prod-app02"}
    by_name = {e["name"]: e for e in entries}
    # The failed resource shows the record's error and fix.
    app01 = rows["acme-prod-app01"]
    assert app01["status"] == "failed" == by_name["acme-prod-app01"]["status"]
    assert app01["error"] == by_name["acme-prod-app01"]["error"] and "HTTP 503" in app01["error"]
    assert app01["remediation"] == by_name["acme-prod-app01"]["remediation"]
    assert any(e["message"] == app01["error"] and e["remediation"] == app01["remediation"] for e in report["errors"])
    assert any(c["name"] == "health_check" and c["passed"] is False for c in app01["health_checks"])
    # A missed RTO target is shown as missed.
    assert rows["acme-prod-app02"]["rto"]["target_minutes"] == 0 and rows["acme-prod-app02"]["rto"]["met"] is False
    assert "acme-prod-app02" in report["compliance"]["rto_missed"]
    # RPO measured from DRS: the job's creation against the recovery instance's point in time.
    drs = sandbox.client("drs", ACCOUNT, DR)
    db01 = by_name["acme-prod-db01"]
    server_id = db01["before"]["source_server_id"]
    [instance] = [i for i in drs.describe_recovery_instances(filters={"sourceServerIDs": [server_id]})["items"]
                  if not i.get("isDrill")]
    [job] = drs.describe_jobs(filters={"jobIDs": [instance["jobID"]]})["items"]
    point, created = instance["pointInTimeSnapshotDateTime"], job["creationDateTime"]
    assert db01["after"]["recovery_point_time"] == point and db01["after"]["recovery_started_at"] == created
    from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.execution import seconds_between
    assert rows["acme-prod-db01"]["rpo"] == {"target_minutes": 5.0, "met": True,
                                             "measured_seconds": max(0, seconds_between(point, created))}
    # The timeline has every phase and wave the record has.
    labels = {b["label"] for b in report["timeline"]["bars"]}
    assert {f"{w['phase']} wave {w['number']}" for w in record["waves"].values()} <= labels
    assert [a["gate"] for a in report["approvals"]] == [a["gate"] for a in record["approvals"]]
    page = (evidence["reports"] / f"{record['execution_id']}.html").read_text()
    assert page.count("<tr data-resource=") == 3 and "http://" not in page.split("<script")[0].split("</style>")[0]


def test_report_playbook_uploads_to_s3_and_returns_a_link(sandbox, evidence, tmp_path):
    record, _entries = evidence["records"]["failover"]
    sandbox.client("s3").create_bucket(Bucket="acme-dr-evidence")
    rc, out, err = sandbox.run_ansible(["playbooks/report.yml", "-e", f"execution_id={record['execution_id']}",
                                        "-e", "execution_store=file", "-e", f"execution_store_path={evidence['store']}",
                                        "-e", f"report_dir={tmp_path}", "-e", "report_s3_bucket=acme-dr-evidence"])
    assert rc == 0, out[-3000:] + err[-2000:]
    local = (tmp_path / f"{record['execution_id']}.html").read_bytes()
    key = f"enterprise-dr/reports/{record['execution_id']}.html"
    body = sandbox.client("s3").get_object(Bucket="acme-dr-evidence", Key=key)["Body"].read()
    assert body == local
    link = next(line for line in out.splitlines() if '"url":' in line).split('"url": "')[1].rstrip('",')
    with urllib.request.urlopen(link, timeout=30) as response:
        assert response.read() == local


def test_drill_report_passes_and_fails_per_resource(evidence):
    report = _report(evidence, "drill")
    record, entries = evidence["records"]["drill"]
    results = {r["name"]: r["drill_result"] for r in report["resources"]}
    assert results == {"globex-prod-web01": "pass", "globex-prod-web02": "fail"}
    assert report["drill"]["result"] == "fail"
    web02 = next(r for r in report["resources"] if r["name"] == "globex-prod-web02")
    assert web02["error"] == next(e for e in entries if e["name"] == "globex-prod-web02")["error"]
    assert web02["remediation"]


def test_readiness_report_is_read_only_and_covers_every_server(sandbox, evidence):
    rc, out, err = evidence["readiness"]
    assert rc == 0, out[-3000:] + err[-2000:]
    mutating = [r for r in evidence["readiness_requests"] if r["mutating"] and r["service"] != "sts"]
    assert mutating == []
    assert any(r["service"] == "drs" for r in evidence["readiness_requests"])
    report = json.loads((evidence["reports"] / "readiness.json").read_text())
    drs = sandbox.client("drs", ACCOUNT, DR)
    forward = drs.describe_source_servers(filters={})["items"]
    rows = {r["name"]: r for r in report["resources"]}
    assert set(rows) == {"acme-prod-db01", "acme-prod-app01", "acme-prod-app02", "globex-prod-web01",
                         "globex-prod-web02"}
    assert len(forward) >= len(rows)
    states = {s["sourceProperties"]["identificationHints"]["hostname"]: s["dataReplicationInfo"]["dataReplicationState"]
              for s in forward}
    for name, row in rows.items():
        assert row["replication_state"] == states[name]
        for problem in row["problems"]:
            assert problem["fix"], problem
    # db01 and app02 failed over: their failback prerequisites are checked; app01 failed ACTIVATE, globex only drilled.
    assert rows["acme-prod-app01"]["failback"] == "not failed over"
    assert rows["globex-prod-web01"]["failback"] == "not failed over"
    for name in ("acme-prod-db01", "acme-prod-app02"):
        assert rows[name]["failback"] != "not failed over", rows[name]


def test_readiness_to_s3_and_sns(sandbox, evidence, tmp_path):
    sandbox.client("s3").create_bucket(Bucket="dr-readiness")
    sns, sqs = sandbox.client("sns"), sandbox.client("sqs")
    topic = sns.create_topic(Name="enterprise-dr-readiness")["TopicArn"]
    queue = sqs.create_queue(QueueName="readiness-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    rc, out, err = sandbox.run_ansible([
        "playbooks/readiness.yml", "-e", "customer=globex", "-e", "execution_store=file",
        "-e", f"execution_store_path={evidence['store']}", "-e", f"report_dir={tmp_path}",
        "-e", "report_s3_bucket=dr-readiness", "-e", f"readiness_sns_topic_arn={topic}"])
    assert rc == 0, out[-3000:] + err[-2000:]
    [html] = list(tmp_path.glob("readiness-globex-*.html"))
    key = f"enterprise-dr/reports/{html.name}"
    assert sandbox.client("s3").get_object(Bucket="dr-readiness", Key=key)["Body"].read() == html.read_bytes()
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=2).get("Messages", [])
    [body] = [json.loads(json.loads(m["Body"])["Message"]) for m in messages]
    assert body["event"] == "report" and body["s3_html_uri"] == f"s3://dr-readiness/{key}" and body["url"]
    assert body["report"]["counts"]["total"] == 2 and [c["customer"] for c in body["report"]["customers"]] == ["globex"]


@pytest.fixture(scope="module")
def browser():
    chromium, driver = ensure_chromium()
    if chromium is None:
        pytest.skip(driver)
    instance = Browser(chromium, driver)
    try:
        yield instance
    finally:
        instance.close()


def _open(browser, path, shot):
    browser.open(str(path))
    errors = [e for e in browser.console() if e.get("level") in ("SEVERE", "ERROR")]
    assert errors == [], errors
    target = os.environ.get("EDR_SCREENSHOT_DIR")
    png = browser.screenshot(str(path.with_suffix(".png")))
    assert png.startswith(b"\x89PNG")
    if target:
        shutil.copy(path.with_suffix(".png"), os.path.join(target, shot))


ROWS = ("return Array.from(document.querySelectorAll('#resources tr[data-resource]'))"
        ".map(function(r){return r.dataset.resource;});")


def test_reports_in_a_real_browser(browser, evidence):
    for operation, shot in (("failover", "report_failover.png"), ("drill", "report_drill.png")):
        report = _report(evidence, operation)
        record, _entries = evidence["records"][operation]
        _open(browser, evidence["reports"] / f"{record['execution_id']}.html", shot)
        assert sorted(browser.script(ROWS)) == sorted(r["resource"] for r in report["resources"])
        assert browser.script("return document.querySelectorAll('#resources td[data-rto]').length;") == len(
            report["resources"])
        assert browser.script("return document.querySelectorAll('#resources td[data-rpo]').length;") == len(
            report["resources"])
        bars = browser.script("return Array.from(document.querySelectorAll('#timeline rect.bar'))"
                              ".map(function(b){return b.dataset.label;});")
        assert bars == [b["label"] for b in report["timeline"]["bars"] if b["offset_seconds"] is not None]
        assert browser.script("return document.getElementById('timeline').getBoundingClientRect().width;") > 500
        if operation == "failover":
            verdict = browser.script("var r=Array.from(document.querySelectorAll('#resources tr[data-resource]'))"
                                     ".find(function(r){return r.textContent.indexOf('acme-prod-app02')>=0;});"
                                     "return r.querySelector('td[data-rto]').dataset.rto;")
            assert verdict == "missed"
            failed = browser.script("return Array.from(document.querySelectorAll('#errors tr.error-row'))"
                                    ".map(function(r){return r.textContent;});")
            assert any("acme-prod-app01" in t and "HTTP 503" in t for t in failed)
            # The filter box narrows the table (the page's only script).
            visible = browser.script("var f=document.getElementById('filter');f.value='app02';"
                                     "f.dispatchEvent(new Event('input'));"
                                     "return Array.from(document.querySelectorAll('#resources tr[data-resource]'))"
                                     ".filter(function(r){return r.style.display!=='none';}).length;")
            assert visible == 1
        else:
            assert browser.script("return document.querySelectorAll('td.drill .fail').length;") == 1
    _open(browser, evidence["reports"] / "readiness.html", "report_readiness.png")
    readiness = json.loads((evidence["reports"] / "readiness.json").read_text())
    assert sorted(browser.script(ROWS)) == sorted(r["resource"] for r in readiness["resources"])
    assert browser.script("return document.querySelectorAll('#quotas tr[data-quota]').length;") == len(
        readiness["quotas"])
