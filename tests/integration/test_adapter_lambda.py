"""The Lambda adapter through the real playbooks on the sandbox, asserting on Lambda state via boto3."""

import time

import pytest

from iam import least_privilege
from tests.integration.app_tier_helpers import ACCOUNT
from tests.integration.app_tier_helpers import DR
from tests.integration.app_tier_helpers import PRIMARY
from tests.integration.app_tier_helpers import mutating
from tests.integration.app_tier_helpers import records
from tests.integration.app_tier_helpers import resources_of
from tests.integration.app_tier_helpers import run
from tests.integration.app_tier_helpers import start_and_kill_when

ESTATE = "tests/integration/estates/lambda.yml"
ONLY = ["-e", '{"dr_technologies": ["lambda"]}', "-e", "customer=acme"]
FUNCTION = "acme-prod-orders-fn"
HUB = "123456789012"


@pytest.fixture
def estate(sandbox, tmp_path):
    sandbox.reset()
    sandbox.seed(ESTATE)
    lam = client(sandbox, PRIMARY)
    deadline = time.monotonic() + 30
    while lam.get_provisioned_concurrency_config(FunctionName=FUNCTION, Qualifier="live")["Status"] != "READY":
        assert time.monotonic() < deadline, "the seeded provisioned concurrency never became READY"
        time.sleep(0.2)
    return tmp_path


def client(sandbox, region):
    return sandbox.client("lambda", ACCOUNT, region)


def state(sandbox, region, name=FUNCTION):
    """What clients get in a region: alias version, reserved/provisioned concurrency, mapping states, versions."""
    lam = client(sandbox, region)
    function = lam.get_function(FunctionName=name)
    alias = lam.get_alias(FunctionName=name, Name="live")
    try:
        provisioned = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="live")
        provisioned = (provisioned["RequestedProvisionedConcurrentExecutions"], provisioned["Status"])
    except lam.exceptions.ProvisionedConcurrencyConfigNotFoundException:
        provisioned = None
    arn = function["Configuration"]["FunctionArn"]
    mappings = [m["State"] for m in lam.list_event_source_mappings()["EventSourceMappings"]
                if m["FunctionArn"].startswith(arn)]
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=name)["Versions"]
                if v["Version"] != "$LATEST"]
    return {"alias": alias["FunctionVersion"], "code": _code_of(lam, name, alias["FunctionVersion"]),
            "reserved": (function.get("Concurrency") or {}).get("ReservedConcurrentExecutions"),
            "provisioned": provisioned, "mappings": mappings, "versions": versions}


def _code_of(lam, name, version):
    return lam.get_function(FunctionName=name, Qualifier=version)["Configuration"]["CodeSha256"]


def calls(sandbox):
    return [(r["operation"], r["region"]) for r in mutating(sandbox, "lambda")]


def test_check_then_failover_then_failback(sandbox, estate):
    primary_code = state(sandbox, PRIMARY)["code"]
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY, check=True)
    assert rc == 0, out[-3000:] + err[-2000:]
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []
    assert "would publish a version of $LATEST in us-west-2" in out
    assert "reserved concurrency 1 -> 20" in out and "provisioned concurrency on live -> 5" in out
    assert "disable event source mapping" in out

    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    # Least privilege: every call of the run is granted by iam/policies/lambda.json (plus discovery and the hub's).
    assert least_privilege.denials(sandbox.requests(), HUB, ["lambda"]) == []
    made = calls(sandbox)
    dr = state(sandbox, DR)
    # INSTANTIATE published the deployed release (version 2); ACTIVATE moved the alias to it, with production levels.
    assert dr["alias"] == "2" and dr["code"] == primary_code
    assert dr["reserved"] == 20 and dr["provisioned"] == (5, "READY")
    assert dr["mappings"] == ["Enabled"]
    old = state(sandbox, PRIMARY)
    assert old["mappings"] == ["Disabled"] and old["alias"] == "1" and old["reserved"] == 20  # only paused
    assert made == [("PublishVersion", DR), ("UpdateAlias", DR), ("PutFunctionConcurrency", DR),
                    ("PutProvisionedConcurrencyConfig", DR), ("UpdateEventSourceMapping", DR),
                    ("UpdateEventSourceMapping", PRIMARY)]
    assert dr["versions"] == ["1", "2"]  # CLEANUP keeps the newest 3 by default: nothing to delete yet
    [record] = records(estate)
    assert record["status"] == "succeeded"
    [entry] = resources_of(estate, record).values()
    assert entry["technology"] == "lambda" and entry["name"] == FUNCTION
    assert entry["before"]["production"] == {"from": PRIMARY, "reserved": 20, "provisioned": 5, "alias": "live",
                                             "alias_version": "1"}
    assert entry["after"]["alias_version"] == "2" and entry["after"]["region"] == DR
    assert entry["after"]["provisioned_concurrency"] == "5/5 READY"
    assert set(entry["phases"]) == {"PREFLIGHT", "INSTANTIATE", "ACTIVATE", "CLEANUP"}
    # The other customer's functions are untouched.
    globex = client(sandbox, DR).get_alias(FunctionName="globex-prod-mailer", Name="live")
    assert globex["FunctionVersion"] == "1"

    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failback.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    assert least_privilege.denials(sandbox.requests(), HUB, ["lambda"]) == []
    made = calls(sandbox)
    back = state(sandbox, PRIMARY)
    assert back["mappings"] == ["Enabled"] and back["reserved"] == 20 and back["provisioned"] == (5, "READY")
    assert back["code"] == primary_code
    assert state(sandbox, DR)["mappings"] == ["Disabled"]
    # The primary's newest version already is its $LATEST: nothing published, its alias already there.
    assert made == [("UpdateEventSourceMapping", PRIMARY), ("UpdateEventSourceMapping", DR)]


def test_drill_invokes_the_dr_alias_and_changes_nothing(sandbox, estate):
    before = (state(sandbox, PRIMARY), state(sandbox, DR))
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "drill.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    assert least_privilege.denials(sandbox.requests(), HUB, ["lambda"]) == []
    # One invocation of the DR alias; no alias, concurrency, version or event source change on either side.
    assert calls(sandbox) == [("Invoke", DR)]
    assert (state(sandbox, PRIMARY), state(sandbox, DR)) == before
    assert "acme-prod-orders-fn:live (version 1) in us-west-2 answered 200" in out
    [record] = records(estate)
    [entry] = resources_of(estate, record).values()
    assert entry["phases"]["ACTIVATE"]["status"] == "succeeded"
    assert entry["after"]["status_code"] == 200 and entry["after"]["executed_version"] == "1"
    assert '"sandbox": true' in entry["after"]["response"]


def test_kill_mid_activate_then_rerun_does_each_step_once(sandbox, estate):
    sandbox.drs_settings(time_scale=6.0)  # provisioned concurrency takes ~18 s: the kill lands while ACTIVATE waits
    lam = client(sandbox, DR)

    def provisioning():
        try:
            lam.get_provisioned_concurrency_config(FunctionName=FUNCTION, Qualifier="live")
            return True
        except lam.exceptions.ProvisionedConcurrencyConfigNotFoundException:
            return False

    sandbox.clear_requests()
    try:
        start_and_kill_when(sandbox, estate, "failover.yml", provisioning, *ONLY)
    finally:
        sandbox.drs_settings(time_scale=0.3)
    assert ("PutProvisionedConcurrencyConfig", DR) in calls(sandbox)
    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    made = calls(sandbox)
    for step in (("PublishVersion", DR), ("UpdateAlias", DR), ("PutFunctionConcurrency", DR),
                 ("PutProvisionedConcurrencyConfig", DR), ("UpdateEventSourceMapping", DR),
                 ("UpdateEventSourceMapping", PRIMARY)):
        assert made.count(step) == 1, (step, made)
    dr = state(sandbox, DR)
    assert dr["alias"] == "2" and dr["reserved"] == 20 and dr["provisioned"] == (5, "READY")
    [record] = records(estate)
    assert record["status"] == "succeeded" and record.get("resumptions")


def test_cleanup_keeps_versions_in_use_and_the_newest(sandbox, estate):
    from sandbox.resources import _zip_bytes

    lam = client(sandbox, DR)
    # Version 2 is an orphan release; a "previous" alias keeps version 1 in use; $LATEST is the release to publish.
    lam.update_function_code(FunctionName=FUNCTION, ZipFile=_zip_bytes("2.3.5"))
    assert lam.publish_version(FunctionName=FUNCTION)["Version"] == "2"
    lam.create_alias(FunctionName=FUNCTION, Name="previous", FunctionVersion="1")
    lam.update_function_code(FunctionName=FUNCTION, ZipFile=_zip_bytes("2.4.1"))
    arn = lam.get_function(FunctionName=FUNCTION)["Configuration"]["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={"dr:keep-versions": "1", "dr:alias": "live"})
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    assert ("DeleteFunction", DR) in calls(sandbox)
    dr = state(sandbox, DR)
    assert dr["alias"] == "3" and dr["versions"] == ["1", "3"]  # 1: the "previous" alias; 3: the newest, live
    [record] = records(estate)
    [entry] = resources_of(estate, record).values()
    assert entry["after"]["deleted_versions"] == ["2"]


def test_twin_of_another_customer_is_refused_before_any_change(sandbox, estate):
    lam = client(sandbox, PRIMARY)
    arn = lam.get_function(FunctionName=FUNCTION)["Configuration"]["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={"Customer": "globex"})
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY)
    assert rc != 0
    assert "Customer='globex', not 'acme'" in out + err
    assert calls(sandbox) == []
    assert state(sandbox, DR)["alias"] == "1"


def test_emergency_publishes_in_activate_and_defers_cleanup(sandbox, estate):
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY, "-e", "emergency=true")
    assert rc == 0, out[-3000:] + err[-2000:]
    # No INSTANTIATE in an emergency: ACTIVATE publishes the deployed release itself, then moves the alias.
    assert calls(sandbox) == [("PublishVersion", DR), ("UpdateAlias", DR), ("PutFunctionConcurrency", DR),
                              ("PutProvisionedConcurrencyConfig", DR), ("UpdateEventSourceMapping", DR),
                              ("UpdateEventSourceMapping", PRIMARY)]
    dr = state(sandbox, DR)
    assert dr["alias"] == "2" and dr["reserved"] == 20 and dr["mappings"] == ["Enabled"]
    [record] = records(estate)
    [entry] = resources_of(estate, record).values()
    assert set(entry["phases"]) == {"PREFLIGHT", "ACTIVATE"}
