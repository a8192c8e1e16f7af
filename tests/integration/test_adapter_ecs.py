"""The ECS adapter through the real playbooks on the sandbox, asserting on ECS state via boto3."""

import pytest

from tests.integration.app_tier_helpers import ACCOUNT
from tests.integration.app_tier_helpers import DR
from tests.integration.app_tier_helpers import ESTATE
from tests.integration.app_tier_helpers import PRIMARY
from tests.integration.app_tier_helpers import mutating
from tests.integration.app_tier_helpers import records
from tests.integration.app_tier_helpers import resources_of
from tests.integration.app_tier_helpers import run
from tests.integration.app_tier_helpers import start_and_kill_when

ONLY = ["-e", '{"dr_technologies": ["ecs"]}', "-e", "customer=acme"]


@pytest.fixture
def estate(sandbox, tmp_path):
    sandbox.reset()
    sandbox.seed(ESTATE)
    return tmp_path


def service(sandbox, cluster, name, region):
    client = sandbox.client("ecs", ACCOUNT, region)
    [found] = client.describe_services(cluster=cluster, services=[name])["services"]
    return found


def api(sandbox, region):
    return service(sandbox, "acme-prod", "acme-prod-api", region)


def image_of(sandbox, region, task_definition):
    client = sandbox.client("ecs", ACCOUNT, region)
    return client.describe_task_definition(taskDefinition=task_definition)["taskDefinition"][
        "containerDefinitions"][0]["image"]


def calls(sandbox):
    return [(r["operation"], r["region"]) for r in mutating(sandbox, "ecs")]


def test_check_then_failover_then_failback(sandbox, estate):
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY, check=True)
    assert rc == 0, out[-3000:] + err[-2000:]
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []
    assert "would register acme-prod-api (the serving task definition) in us-west-2" in out
    assert "would set acme-prod/acme-prod-api in us-west-2 desired count 0 -> 3" in out
    assert "would set acme-prod/acme-prod-api in us-east-1 desired count 3 -> 0" in out

    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    dr = api(sandbox, DR)
    assert (dr["desiredCount"], dr["runningCount"], dr["pendingCount"]) == (3, 3, 0)
    [deployment] = dr["deployments"]
    assert deployment["rolloutState"] == "COMPLETED" and deployment["runningCount"] == 3
    # INSTANTIATE registered the primary's task definition in the DR region: the DR service runs the primary's image.
    assert image_of(sandbox, DR, dr["taskDefinition"]) == "public.ecr.aws/acme/api:2.4.1"
    old = api(sandbox, PRIMARY)
    assert old["status"] == "ACTIVE" and old["desiredCount"] == 0  # scaled to zero, never deleted
    # The other customer's services are untouched.
    assert service(sandbox, "globex-prod", "globex-prod-cart", PRIMARY)["desiredCount"] == 2
    assert service(sandbox, "globex-prod", "globex-prod-cart", DR)["desiredCount"] == 0
    assert calls(sandbox) == [("RegisterTaskDefinition", DR), ("UpdateService", DR), ("UpdateService", DR),
                              ("UpdateService", PRIMARY)]
    [record] = records(estate)
    assert record["status"] == "succeeded"
    [entry] = resources_of(estate, record).values()
    assert entry["name"] == "acme-prod-api" and entry["technology"] == "ecs"
    assert entry["before"]["desired_count"] == 3 and entry["before"]["target_desired_count"] == 0
    assert entry["after"]["region"] == DR and entry["after"]["running_count"] == 3
    assert "answered HTTP 200" in entry["after"]["health_check"]
    assert entry["after"]["old_region"] == PRIMARY and entry["after"]["old_desired_count"] == 0
    assert set(entry["phases"]) == {"PREFLIGHT", "INSTANTIATE", "ACTIVATE", "CLEANUP"}

    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failback.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    back = api(sandbox, PRIMARY)
    assert (back["desiredCount"], back["runningCount"]) == (3, 3)
    assert api(sandbox, DR)["desiredCount"] == 0
    # Both sides run the same task definition now: failback's INSTANTIATE registers nothing.
    assert calls(sandbox) == [("UpdateService", PRIMARY), ("UpdateService", DR)]


def test_drill_runs_a_dr_copy_and_leaves_nothing_behind(sandbox, estate):
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "drill.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    primary = api(sandbox, PRIMARY)
    assert primary["desiredCount"] == 3  # what clients use was never touched
    dr = api(sandbox, DR)
    assert dr["desiredCount"] == 0
    # The drill scaled the DR service up to the drill count and back: two calls, both in the DR region.
    assert calls(sandbox) == [("UpdateService", DR), ("UpdateService", DR)]
    [record] = records(estate)
    [entry] = resources_of(estate, record).values()
    assert entry["phases"]["ACTIVATE"]["status"] == "succeeded"
    assert entry["phases"]["CLEANUP"]["status"] == "succeeded"


def test_kill_mid_activate_then_rerun_scales_once(sandbox, estate):
    sandbox.drs_settings(time_scale=4.0)  # tasks start ~4 s apart: the kill lands while ACTIVATE waits

    def dr_scaled():
        return api(sandbox, DR)["desiredCount"] == 3

    sandbox.clear_requests()
    start_and_kill_when(sandbox, estate, "failover.yml", dr_scaled, *ONLY)
    assert calls(sandbox)[-1] == ("UpdateService", DR)
    sandbox.drs_settings(time_scale=0.3)
    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    scale_ups = [c for c in calls(sandbox) if c == ("UpdateService", DR)]
    # One UpdateService to point at the registered task definition, one scale-up: never a second scale-up.
    assert len(scale_ups) == 2
    assert calls(sandbox)[-1] == ("UpdateService", PRIMARY)
    dr = api(sandbox, DR)
    assert (dr["desiredCount"], dr["runningCount"]) == (3, 3)
    [record] = records(estate)
    assert record["status"] == "succeeded" and record.get("resumptions")


def test_twin_of_another_customer_is_refused_before_any_change(sandbox, estate):
    client = sandbox.client("ecs", ACCOUNT, PRIMARY)
    client.tag_resource(resourceArn=api(sandbox, PRIMARY)["serviceArn"], tags=[{"key": "Customer", "value": "globex"}])
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY)
    assert rc != 0
    assert "Customer='globex', not 'acme'" in out + err
    assert calls(sandbox) == []
    assert api(sandbox, DR)["desiredCount"] == 0
