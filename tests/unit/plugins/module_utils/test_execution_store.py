# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Both execution stores behind one interface: the file store on disk, the DynamoDB store in moto's
in-process mock (no network)."""

import datetime
import json
import os
import re
import threading

import boto3
import pytest
from moto import mock_aws

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import execution as ex


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch):
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")


class SerializedClient:
    """A DynamoDB client whose calls moto answers one at a time.

    DynamoDB applies a conditional write to an item atomically; moto's in-process backend does not when
    threads call it (the condition is checked, another thread's put lands, then this put overwrites it), so
    two writers of one version could both succeed there and never in AWS. The sandbox serializes moto the
    same way (sandbox.locking.STATE_LOCK). Only the mock's bookkeeping is serialized: the store's
    read-merge-write cycles still interleave freely between calls."""

    def __init__(self, client):
        self._client = client
        self._lock = threading.Lock()

    def __getattr__(self, name):
        attr = getattr(self._client, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            with self._lock:
                return attr(*args, **kwargs)
        return call


@pytest.fixture
def dynamodb_store():
    with mock_aws():
        client = SerializedClient(boto3.client("dynamodb", region_name="us-east-1"))
        store = ex.DynamoDBStore(client, "unit-executions")
        assert store.ensure() is True
        yield store


@pytest.fixture
def file_store(tmp_path):
    return ex.FileStore(str(tmp_path / "store"))


@pytest.fixture(params=["file", "dynamodb"])
def store(request):
    return request.getfixturevalue(f"{request.param}_store")


def t(minute, second=0):
    return datetime.datetime(2024, 5, 1, 12, minute, second, tzinfo=datetime.UTC)


def test_execution_id_format():
    eid = ex.new_execution_id("Acme Corp", t(3, 4))
    assert re.fullmatch(r"edr-acme-corp-20240501T120304-[0-9a-f]{6}", eid)
    assert eid != ex.new_execution_id("Acme Corp", t(3, 4))


def test_started_by_prefers_awx_user():
    assert ex.resolve_started_by("alice", awx_user_name="bob") == "bob"
    assert ex.resolve_started_by("alice", tower_user_name="carol") == "carol"
    assert ex.resolve_started_by("alice") == "alice"
    assert ex.resolve_started_by(None)  # the OS user, never empty


def test_start_get_and_finish_releases_lock(store):
    rec = store.start("acme", "production", "failover", "alice", now=t(0))
    assert rec["status"] == "running" and rec["version"] == 1
    got = store.get(rec["execution_id"])
    assert got["customer"] == "acme" and got["operation"] == "failover" and got["started_by"] == "alice"
    assert got["resources"] == []
    assert store.active_run("acme", "production")["execution_id"] == rec["execution_id"]
    before, after, changed = store.finish(rec["execution_id"], "succeeded", now=t(5))
    assert changed and after["status"] == "succeeded" and after["ended_at"] == "2024-05-01T12:05:00Z"
    assert store.active_run("acme", "production") is None
    # finishing again with the same status changes nothing
    assert store.finish(rec["execution_id"], "succeeded")[2] is False
    with pytest.raises(ex.InvalidTransition, match="already finished with status succeeded"):
        store.finish(rec["execution_id"], "failed")


def test_second_start_refused_naming_the_active_run(store):
    first = store.start("acme", "production", "failover", "alice")
    with pytest.raises(ex.ActiveRunError) as err:
        store.start("acme", "production", "drill", "bob")
    assert first["execution_id"] in str(err.value)
    assert "alice" in str(err.value) and "failover" in str(err.value)
    # Other scopes are independent
    other = store.start("acme", "staging", "drill", "bob")
    globex = store.start("globex", "production", "failover", "bob")
    assert len({first["execution_id"], other["execution_id"], globex["execution_id"]}) == 3


@pytest.mark.parametrize("first_env, second_env", [(None, "production"), ("production", None)])
def test_a_run_for_every_environment_overlaps_each_environment(store, first_env, second_env):
    first = store.start("acme", first_env, "failover", "alice")
    with pytest.raises(ex.ActiveRunError) as err:
        store.start("acme", second_env, "drill", "bob")
    assert first["execution_id"] in str(err.value) and "overlaps" in str(err.value)
    with pytest.raises(ex.ActiveRunError):  # the dry run predicts the same refusal
        store.start("acme", second_env, "drill", "bob", dry_run=True)
    # The refused run left nothing behind: no record, no lock
    assert [r["execution_id"] for r in store.list("acme")] == [first["execution_id"]]
    assert store._lock_holder(ex.scope_key("acme", second_env)) is None
    # Another customer is unaffected, and the scope frees when the first run finishes
    store.start("globex", second_env, "drill", "bob")
    store.finish(first["execution_id"], "succeeded")
    assert store.start("acme", second_env, "drill", "bob")["status"] == "running"


def test_overlap_ignores_finished_and_orphaned_holders(store, monkeypatch):
    finished = store.start("acme", "production", "failover", "alice")
    store._modify(finished["execution_id"], lambda r: dict(r, status="failed"))  # release lost
    store._acquire(ex.scope_key("acme", "staging"), "edr-acme-20240501T120000-dead00", "drill")  # never wrote
    with pytest.raises(ex.ActiveRunError, match="dead00.*status starting.*acme/staging, which overlaps"):
        store.start("acme", None, "failover", "bob")
    later = ex.utcnow() + datetime.timedelta(seconds=ex.ORPHAN_LOCK_SECONDS + 60)
    monkeypatch.setattr(ex, "utcnow", lambda: later)
    assert store.start("acme", None, "failover", "bob")["status"] == "running"


def test_concurrent_overlapping_starts_never_both_run(store):
    for attempt in range(3):
        customer = f"cust{attempt}"
        results, errors = [], []
        barrier = threading.Barrier(2)

        def run(customer, environment, user, results, errors, barrier):
            barrier.wait()
            try:
                results.append(store.start(customer, environment, "failover", user))
            except ex.ActiveRunError as e:
                errors.append(e)

        threads = [threading.Thread(target=run, args=(customer, None, "alice", results, errors, barrier)),
                   threading.Thread(target=run, args=(customer, "production", "bob", results, errors, barrier))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(results) <= 1 and len(results) + len(errors) == 2
        held = store._customer_locks(customer)
        assert [h["holder"] for h in held.values()] == [r["execution_id"] for r in results]


def test_scopes_overlap():
    assert ex.scopes_overlap("acme#_all", "acme#production")
    assert ex.scopes_overlap("acme#production", "acme#production")
    assert not ex.scopes_overlap("acme#staging", "acme#production")
    assert not ex.scopes_overlap("acme#_all", "globex#_all")


def test_dry_run_start_writes_nothing_but_predicts_refusal(store):
    predicted = store.start("acme", "production", "failover", "alice", dry_run=True)
    assert predicted["status"] == "running"
    assert store.list("acme") == []
    assert store.active_run("acme", "production") is None
    store.start("acme", "production", "failover", "alice")
    with pytest.raises(ex.ActiveRunError):
        store.start("acme", "production", "failover", "alice", dry_run=True)


def test_concurrent_starts_only_one_wins(store):
    results, errors = [], []

    def run(user):
        try:
            results.append(store.start("acme", "production", "failover", user))
        except ex.ActiveRunError as e:
            errors.append(e)

    threads = [threading.Thread(target=run, args=(f"user{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 1
    assert len(errors) == 5
    assert all(results[0]["execution_id"] in str(e) for e in errors)


def test_resume_or_start_resumes_the_interrupted_run(store):
    rec, resumed = store.resume_or_start("acme", "production", "failover", "alice", now=t(0))
    assert resumed is False
    store.update(rec["execution_id"], {"phase": {"name": "instantiate", "status": "running"}}, now=t(1))
    store.finish(rec["execution_id"], "interrupted", now=t(2))
    assert store.active_run("acme", "production")["status"] == "interrupted"
    again, resumed = store.resume_or_start("acme", "production", "failover", "bob", now=t(3))
    assert resumed is True and again["execution_id"] == rec["execution_id"]
    assert again["status"] == "running"
    assert again["resumptions"] == [{"at": "2024-05-01T12:03:00Z", "by": "bob", "from_status": "interrupted"}]
    assert again["phases"]["INSTANTIATE"]["status"] == "running"
    # A different operation on the held scope is refused, naming the run
    with pytest.raises(ex.ActiveRunError, match=rec["execution_id"]):
        store.resume_or_start("acme", "production", "drill", "bob")
    # After it finished, the next call starts a new run
    store.finish(rec["execution_id"], "succeeded")
    fresh, resumed = store.resume_or_start("acme", "production", "failover", "carol")
    assert resumed is False and fresh["execution_id"] != rec["execution_id"]


def test_finished_run_cannot_be_resumed(store):
    rec = store.start("acme", None, "drill", "alice")
    store.finish(rec["execution_id"], "failed")
    with pytest.raises(ex.InvalidTransition, match="cannot be resumed"):
        store.resume(rec["execution_id"], "bob")


def test_update_merges_phases_waves_errors(store):
    rec = store.start("acme", "production", "failover", "alice", now=t(0))
    eid = rec["execution_id"]
    store.update(eid, {"phase": {"name": "INSTANTIATE", "status": "running"}}, now=t(1))
    store.update(eid, {"wave": {"number": 1, "status": "running"}}, now=t(1, 30))
    _before, after, changed, _keys = store.update(eid, {"wave": {"number": 1, "status": "succeeded"},
                                                        "errors": [{"message": "x failed", "remediation": "retry x"}]},
                                                  now=t(4))
    assert changed
    wave = after["waves"]["INSTANTIATE/1"]
    assert wave["started_at"] == "2024-05-01T12:01:30Z" and wave["ended_at"] == "2024-05-01T12:04:00Z"
    assert wave["duration_seconds"] == 150
    assert after["current_phase"] == "INSTANTIATE" and after["current_wave"] == 1
    assert after["errors"][0]["phase"] == "INSTANTIATE" and after["errors"][0]["remediation"] == "retry x"
    # the same update again is a no-op (idempotent) and the version does not move
    version = store.get(eid)["version"]
    _before, _after, changed, _keys = store.update(eid, {"wave": {"number": 1, "status": "succeeded"},
                                                         "errors": [{"message": "x failed", "remediation": "retry x"}]},
                                                   now=t(9))
    assert changed is False
    assert store.get(eid)["version"] == version
    with pytest.raises(ex.ExecutionError, match="unknown update keys"):
        store.update(eid, {"bogus": 1})


def test_dry_run_update_predicts_without_writing(store):
    rec = store.start("acme", "production", "failover", "alice")
    eid = rec["execution_id"]
    _before, after, changed, keys = store.update(eid, {"phase": {"name": "ACTIVATE", "status": "running"},
                                                       "resources": [{"resource": "i-1", "status": "running"}]},
                                                 dry_run=True)
    assert changed and after["current_phase"] == "ACTIVATE" and keys == ["i-1"]
    stored = store.get(eid)
    assert stored["phases"] == {} and stored["resources"] == [] and stored["version"] == 1


def test_resources_before_is_write_once_and_jobs_accumulate(store):
    rec = store.start("acme", "production", "failover", "alice", now=t(0))
    eid = rec["execution_id"]
    store.update(eid, {"resources": [{
        "resource": "s-1", "name": "web01", "technology": "drs", "wave": 1, "phase": "INSTANTIATE",
        "status": "running", "rto_target_minutes": 30,
        "before": {"source_instance_id": "i-src", "source_private_ip": "10.0.0.5", "target_instance_id": "i-tgt",
                   "staging_account_id": "210987654321"},
        "job_ids": ["drsjob-1"]}]}, now=t(1))
    # A resumed run reports the state it sees now as "before": it must not overwrite the original
    store.update(eid, {"resources": [{
        "resource": "s-1", "phase": "ACTIVATE", "status": "succeeded",
        "before": {"source_private_ip": "10.9.9.9"},
        "after": {"recovery_instance_id": "i-tgt", "target_private_ip": "10.0.0.5"},
        "job_ids": ["drsjob-1", "drsjob-2"]}]}, now=t(11))
    [res] = store.get(eid)["resources"]
    assert res["before"]["source_private_ip"] == "10.0.0.5"
    assert res["after"] == {"recovery_instance_id": "i-tgt", "target_private_ip": "10.0.0.5"}
    assert res["job_ids"] == ["drsjob-1", "drsjob-2"]
    assert res["phases"]["INSTANTIATE"]["status"] == "running"
    assert res["phases"]["ACTIVATE"]["ended_at"] == "2024-05-01T12:11:00Z"
    assert res["recovery_seconds"] == 600
    report = ex.rto_report(store.get(eid, with_resources=False), [res], now=t(20))
    assert report["resources"][0]["rto"] == {"target_minutes": 30.0, "measured_seconds": 600, "met": True}
    assert report["run"]["target_minutes"] == 30.0


def test_resource_entry_without_key_is_refused(store):
    rec = store.start("acme", "production", "failover", "alice")
    with pytest.raises(ex.ExecutionError, match="no 'resource' key"):
        store.update(rec["execution_id"], {"resources": [{"status": "running"}]})


def test_conditional_write_conflict_is_detected(store):
    rec = store.start("acme", "production", "failover", "alice")
    stale = store._load(rec["execution_id"])
    store.update(rec["execution_id"], {"details": {"a": 1}})
    with pytest.raises(ex.ConflictError):
        store._save(dict(stale, status="failed"), stale["version"])
    assert store.get(rec["execution_id"])["status"] == "running"
    # a create over an existing record is a conflict too
    with pytest.raises(ex.ConflictError):
        store._save(stale, None)
    # resource items: the second writer with the old version is told which resource conflicted
    store.update(rec["execution_id"], {"resources": [{"resource": "r-1", "status": "running"}]})
    entry = store._load_resources(rec["execution_id"])["r-1"]
    assert store._save_resources(rec["execution_id"], [(dict(entry, status="failed"), entry["version"])]) == set()
    assert store._save_resources(rec["execution_id"], [(dict(entry, status="succeeded"), entry["version"])]) == {"r-1"}


def test_concurrent_updates_lose_nothing(store):
    rec = store.start("acme", "production", "failover", "alice")
    eid = rec["execution_id"]

    failures = []

    def write(i):
        try:
            store.update(eid, {"details": {f"k{i}": i}, "errors": [f"error {i}"],
                               "resources": [{"resource": "shared", "job_ids": [f"job-{i}"]},
                                             {"resource": f"own-{i}", "status": "succeeded"}]})
        except Exception as e:  # a writer that gave up would otherwise vanish with its thread
            failures.append(repr(e))

    threads = [threading.Thread(target=write, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    final = store.get(eid)
    assert {f"k{i}" for i in range(8)} <= set(final["details"])
    assert len(final["errors"]) == 8
    shared = next(r for r in final["resources"] if r["resource"] == "shared")
    assert sorted(shared["job_ids"]) == sorted(f"job-{i}" for i in range(8))
    assert len(final["resources"]) == 9


def test_approval_flow(store):
    rec = store.start("acme", "production", "failover", "alice")
    eid = rec["execution_id"]
    with pytest.raises(ex.ExecutionError, match="not waiting at an approval gate"):
        store.record_approval(eid, "approve", "bob")
    waiting = store.request_approval(eid, "before-activate", timeout_seconds=1800, checklist=["wave 1 healthy"])
    assert waiting["status"] == "waiting_approval"
    assert waiting["pending_gate"]["gate"] == "before-activate"
    # requesting again is idempotent
    assert store.request_approval(eid, "before-activate")["pending_gate"] == waiting["pending_gate"]
    _before, after, changed, approval = store.record_approval(eid, "approve", "bob", mode="record", comment="ok")
    assert changed and after["status"] == "running" and after["pending_gate"] is None
    assert approval["gate"] == "before-activate" and approval["approver"] == "bob" and approval["decision"] == "approve"
    assert approval["request_id"] == waiting["pending_gate"]["request_id"]
    # the same decision again changes nothing; the opposite is refused, naming who decided
    assert store.record_approval(eid, "approve", "bob", gate="before-activate")[2] is False
    with pytest.raises(ex.ExecutionError, match="already decided: approve by bob"):
        store.record_approval(eid, "cancel", "mallory", gate="before-activate")
    decided = store.wait_for_decision(eid, "before-activate", timeout_seconds=1)
    assert decided["decision"] == "approve"


def test_advance_decision_is_consumed_by_the_gate(store):
    rec = store.start("acme", "production", "drill", "alice")
    eid = rec["execution_id"]
    store.record_approval(eid, "approve", "scheduler", gate="before-cleanup", mode="automatic")
    after = store.request_approval(eid, "before-cleanup")
    assert after["status"] == "running" and after["pending_gate"] is None
    assert store.wait_for_decision(eid, "before-cleanup", 1)["approver"] == "scheduler"


def test_wait_for_decision_times_out_without_approving(store):
    rec = store.start("acme", "production", "failover", "alice")
    eid = rec["execution_id"]
    store.request_approval(eid, "gate-1")
    clock = iter([0, 0, 5, 11, 11, 11])
    slept = []
    approval = store.wait_for_decision(eid, "gate-1", timeout_seconds=10, poll_interval=5,
                                       sleep=slept.append, clock=lambda: next(clock))
    assert approval["decision"] == "timeout"
    assert slept and all(s <= 5 for s in slept)
    final = store.get(eid)
    assert final["pending_gate"] is None and final["approvals"][-1]["decision"] == "timeout"


def test_wait_sees_a_decision_from_another_writer(store):
    rec = store.start("acme", "production", "failover", "alice")
    eid = rec["execution_id"]
    store.request_approval(eid, "gate-1")
    calls = []

    def sleep(_seconds):
        calls.append(1)
        if len(calls) == 2:
            store.record_approval(eid, "cancel", "carol")

    approval = store.wait_for_decision(eid, "gate-1", timeout_seconds=600, poll_interval=1, sleep=sleep)
    assert approval["decision"] == "cancel" and approval["approver"] == "carol"
    assert len(calls) == 2


def test_wait_on_a_cancelled_run_answers_cancel(store):
    rec = store.start("acme", "production", "failover", "alice")
    store.request_approval(rec["execution_id"], "gate-1")
    store.finish(rec["execution_id"], "cancelled")
    assert store.wait_for_decision(rec["execution_id"], "gate-1", 5)["decision"] == "cancel"


def test_latest_and_list(store):
    ids = []
    for minute in range(4):
        rec = store.start("acme", "production" if minute % 2 else "staging", "drill", "alice", now=t(minute))
        store.finish(rec["execution_id"], "succeeded" if minute != 2 else "failed", now=t(minute, 30))
        ids.append(rec["execution_id"])
    store.start("globex", "production", "drill", "bob", now=t(9))
    assert [r["execution_id"] for r in store.list("acme", limit=3)] == ids[::-1][:3]
    assert store.latest("acme")["execution_id"] == ids[3]
    assert store.latest("acme", "staging")["execution_id"] == ids[2]
    assert store.latest("nobody") is None
    report = ex.history_report(store.list("acme", limit=10))
    assert report["finished"] == 4 and report["succeeded"] == 3 and report["success_rate"] == 0.75
    assert report["mean_rto_seconds"] == 30


def test_missing_record(store):
    with pytest.raises(ex.RecordNotFound, match="edr-nope"):
        store.get("edr-nope")
    with pytest.raises(ex.RecordNotFound):
        store.update("edr-nope", {"status": "failed"})


def test_summary_counts_and_estimate(store):
    rec = store.start("acme", "production", "failover", "alice", now=t(0))
    eid = rec["execution_id"]
    store.update(eid, {"phase": {"name": "INSTANTIATE", "status": "running"},
                       "wave": {"number": 2, "status": "running"},
                       "resources": [{"resource": "a", "status": "succeeded"},
                                     {"resource": "b", "status": "failed", "error": "boom", "remediation": "fix b"},
                                     {"resource": "c", "status": "running"},
                                     {"resource": "d", "status": "pending"}]},
                 now=t(1))
    record = store.get(eid)
    summary = ex.summarize(record, record.pop("resources"), now=t(10))
    assert summary["resource_counts"] == {"total": 4, "completed": 1, "pending": 2, "failed": 1}
    assert summary["phase"] == "INSTANTIATE" and summary["wave"] == 2
    assert summary["elapsed_seconds"] == 600
    assert summary["estimated_remaining_seconds"] == 1200
    assert summary["estimated_completion"] == "2024-05-01T12:30:00Z"
    assert summary["failed_resources"] == [{"resource": "b", "name": None, "error": "boom", "remediation": "fix b"}]
    json.dumps(summary)


def test_thousand_resources_stay_small(dynamodb_store):
    rec = dynamodb_store.start("acme", "production", "failover", "alice")
    eid = rec["execution_id"]
    entries = [{"resource": f"arn:aws:drs:us-west-2:210987654321:source-server/s-{i:017x}", "name": f"web{i:04d}",
                "technology": "drs", "wave": 1 + i // 100, "status": "succeeded", "phase": "ACTIVATE",
                "before": {"source_instance_id": f"i-{i:017x}", "source_private_ip": f"10.0.{i // 250}.{i % 250}",
                           "target_instance_id": f"i-t{i:016x}", "staging_account_id": "210987654321"},
                "after": {"recovery_instance_id": f"i-t{i:016x}", "target_private_ip": f"10.1.{i // 250}.{i % 250}"},
                "job_ids": [f"drsjob-{i // 100:017x}"]} for i in range(1000)]
    dynamodb_store.update(eid, {"resources": entries})
    for wave in range(1, 11):
        dynamodb_store.update(eid, {"phase": {"name": "ACTIVATE", "status": "running"},
                                    "wave": {"number": wave, "status": "succeeded"}})
    client = dynamodb_store.client
    header = client.get_item(TableName="unit-executions",
                             Key={"execution_id": {"S": eid}, "record_key": {"S": "record"}})["Item"]
    assert len(header["body"]["S"]) < 50_000
    assert len(dynamodb_store.get(eid)["resources"]) == 1000


def test_file_store_writes_atomically_and_creates_nothing_on_read(tmp_path):
    store = ex.FileStore(str(tmp_path / "never"))
    assert store.list("acme") == []
    assert store.active_run("acme") is None
    assert not (tmp_path / "never").exists()
    store = ex.FileStore(str(tmp_path / "s"))
    rec = store.start("acme", None, "drill", "alice")
    path = tmp_path / "s" / "executions" / f"{rec['execution_id']}.json"
    assert json.loads(path.read_text())["version"] == 1
    assert not [p for p in (tmp_path / "s" / "executions").iterdir() if p.name.startswith(".tmp-")]
    with pytest.raises(ex.ExecutionError, match="not a valid execution ID"):
        store.get("../../etc/passwd")


def test_dynamodb_unreachable_is_a_store_error(monkeypatch):
    client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url="http://127.0.0.1:9",
                          config=__import__("botocore.config").config.Config(retries={"max_attempts": 1},
                                                                             connect_timeout=1))
    store = ex.DynamoDBStore(client, "t")
    with pytest.raises(ex.StoreUnavailable, match="DynamoDB did not answer") as raised:
        store.get("edr-x")
    assert "setup_hub.yml" not in str(raised.value)  # an unreachable endpoint is not a missing table


@pytest.mark.parametrize("code, expected, not_expected", [
    ("ProvisionedThroughputExceededException", "throttled", "setup_hub.yml"),
    ("ThrottlingException", "throttled", "setup_hub.yml"),
    ("ResourceNotFoundException", "setup_hub.yml", "throttled"),
    ("AccessDeniedException", "credentials", "setup_hub.yml"),
])
def test_store_advice_follows_the_error_code(code, expected, not_expected):
    advice = ex.store_advice(code, "t")
    assert expected in advice and not_expected not in advice


def test_dynamodb_table_schema_is_checked():
    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        client.create_table(TableName="wrong", BillingMode="PAY_PER_REQUEST",
                            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        with pytest.raises(ex.ExecutionError, match="another schema"):
            ex.DynamoDBStore(client, "wrong").ensure()
        store = ex.DynamoDBStore(client, "right")
        assert store.ensure(dry_run=True) is True
        assert store.describe() is None
        assert store.ensure() is True and store.ensure() is False


def test_lock_without_record_is_a_starting_run_until_it_is_orphaned(store, monkeypatch):
    key = ex.scope_key("acme", "production")
    store._acquire(key, "edr-acme-20240501T120000-dead00", "failover")
    with pytest.raises(ex.ActiveRunError, match="edr-acme-20240501T120000-dead00.*status starting"):
        store.start("acme", "production", "failover", "alice")
    later = ex.utcnow() + datetime.timedelta(seconds=ex.ORPHAN_LOCK_SECONDS + 60)
    monkeypatch.setattr(ex, "utcnow", lambda: later)
    rec = store.start("acme", "production", "failover", "alice")
    assert store._lock_holder(key)["holder"] == rec["execution_id"]


def test_stale_lock_of_a_finished_run_is_taken_over(store):
    first = store.start("acme", "production", "failover", "alice")
    key = ex.scope_key("acme", "production")
    # The release was lost (crash after the final write): the lock still names a finished run
    store._modify(first["execution_id"], lambda r: dict(r, status="failed"))
    assert store._lock_holder(key)["holder"] == first["execution_id"]
    second = store.start("acme", "production", "failover", "bob")
    assert store._lock_holder(key)["holder"] == second["execution_id"]


def test_finish_merges_errors_and_details(store):
    rec = store.start("acme", "production", "failover", "alice")
    _before, after, changed = store.finish(rec["execution_id"], "failed",
                                           errors=[{"message": "wave 2 failed", "remediation": "fix and re-run"}],
                                           details={"deferred_phases": ["CLEANUP"]})
    assert changed and after["details"]["deferred_phases"] == ["CLEANUP"]
    assert after["errors"][0]["remediation"] == "fix and re-run"


def test_file_store_writes_the_entries_compact_and_reads_them_back_unchanged(file_store):
    rec = file_store.start("acme", "production", "failover", "alice", now=t(0))
    eid = rec["execution_id"]
    entries = [{"resource": f"s-{i}", "name": f"web{i}", "wave": 1 + i % 2, "status": "succeeded", "phase": "ACTIVATE",
                "before": {"source_instance_id": f"i-{i}"}, "after": {"note": "two\nlines"}} for i in range(5)]
    file_store.update(eid, {"resources": entries}, now=t(1))
    text = open(os.path.join(file_store.path, "resources", eid + ".json"), encoding="utf-8").read()
    assert "\n" not in text.replace("\\n", "") and ", " not in text  # one compact line, rewritten whole per merge
    read_back = {e["resource"]: e["after"] for e in file_store.resources(eid)}
    assert read_back == {f"s-{i}": {"note": "two\nlines"} for i in range(5)}
    # The record header stays indented for people reading it by hand.
    assert "\n" in open(os.path.join(file_store.path, "executions", eid + ".json"), encoding="utf-8").read()


def test_summary_of_a_large_run_keeps_each_status_and_each_waves_rto_target(store):
    rec = store.start("acme", "production", "failover", "alice", now=t(0))
    eid = rec["execution_id"]
    statuses = ["succeeded", "failed", "running", "skipped", "cancelled", "pending"]
    entries = [{"resource": f"s-{i:04d}", "wave": 1 + i // 100, "status": statuses[i % 6],
                "rto_target_minutes": 30 if i // 100 == 0 else 60 + i // 100} for i in range(300)]
    store.update(eid, {"resources": entries, "wave": {"number": 2, "phase": "INSTANTIATE", "status": "running"}},
                 now=t(1))
    record = store.get(eid)
    summary = ex.summarize(record, record.pop("resources"), now=t(10))
    assert summary["resource_counts"] == {"total": 300, "completed": 100, "pending": 100, "failed": 100}
    pending = [f"s-{i:04d}" for i in range(300) if statuses[i % 6] in ("running", "pending")]
    assert summary["pending_resources"] == pending
    assert [w["rto"]["target_minutes"] for w in summary["rto"]["waves"]] == [61.0]
    assert summary["rto"]["run"]["target_minutes"] == 30.0
