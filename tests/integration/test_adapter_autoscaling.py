"""The Auto Scaling adapter through the real playbooks on the sandbox, asserting on Auto Scaling state via boto3."""

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

ONLY = ["-e", '{"dr_technologies": ["autoscaling"]}', "-e", "customer=acme"]


@pytest.fixture
def estate(sandbox, tmp_path):
    sandbox.reset()
    sandbox.seed(ESTATE)
    return tmp_path


def group(sandbox, name, region):
    client = sandbox.client("autoscaling", ACCOUNT, region)
    [found] = client.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    serving = [i for i in found["Instances"] if i["LifecycleState"] == "InService" and i["HealthStatus"] == "Healthy"]
    return (found["MinSize"], found["MaxSize"], found["DesiredCapacity"]), len(serving), found


def updates(sandbox):
    return [(r["operation"], r["region"]) for r in mutating(sandbox, "autoscaling")]


def test_check_then_failover_then_failback(sandbox, estate):
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY, check=True)
    assert rc == 0, out[-3000:] + err[-2000:]
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []
    assert "would set acme-prod-web in us-west-2 min/max/desired 0/4/0 -> 2/4/2" in out
    assert "would set acme-prod-web in us-east-1 min/max/desired 2/4/2 -> 0/4/0" in out
    assert group(sandbox, "acme-prod-web", DR)[0] == (0, 4, 0)

    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    capacity, serving, dummy = group(sandbox, "acme-prod-web", DR)
    assert capacity == (2, 4, 2) and serving == 2
    capacity, dummy, old = group(sandbox, "acme-prod-web", PRIMARY)
    assert capacity == (0, 4, 0) and old["AutoScalingGroupName"] == "acme-prod-web"  # scaled down, never deleted
    # The other customer's groups are untouched.
    assert group(sandbox, "globex-prod-batch", PRIMARY)[0] == (1, 2, 1)
    assert group(sandbox, "globex-prod-batch", DR)[0] == (0, 2, 0)
    assert updates(sandbox) == [("UpdateAutoScalingGroup", DR), ("UpdateAutoScalingGroup", PRIMARY)]
    # One record entry for the group, with the capacity PREFLIGHT captured and what ACTIVATE/CLEANUP did.
    [record] = records(estate)
    assert record["status"] == "succeeded"
    entries = list(resources_of(estate, record).values())
    assert len(entries) == 1
    [entry] = entries
    assert entry["name"] == "acme-prod-web" and entry["technology"] == "autoscaling"
    assert entry["before"]["capacity"] == {"min_size": 2, "max_size": 4, "desired_capacity": 2}
    assert entry["after"]["region"] == DR and entry["after"]["in_service"] == 2
    assert entry["after"]["old_region"] == PRIMARY and entry["after"]["old_capacity"]["desired_capacity"] == 0
    assert entry["rto_target_minutes"] == 15
    assert set(entry["phases"]) == {"PREFLIGHT", "ACTIVATE", "CLEANUP"}

    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failback.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    capacity, serving, dummy = group(sandbox, "acme-prod-web", PRIMARY)
    assert capacity == (2, 4, 2) and serving == 2
    assert group(sandbox, "acme-prod-web", DR)[0] == (0, 4, 0)
    assert updates(sandbox) == [("UpdateAutoScalingGroup", PRIMARY), ("UpdateAutoScalingGroup", DR)]


def test_drill_scales_a_dr_copy_and_leaves_nothing_behind(sandbox, estate):
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "drill.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    # The serving group was never touched; the DR group went to the drill capacity and back.
    assert group(sandbox, "acme-prod-web", PRIMARY)[0] == (2, 4, 2)
    capacity, dummy, found = group(sandbox, "acme-prod-web", DR)
    assert capacity == (0, 4, 0) and found["Instances"] == []
    assert updates(sandbox) == [("UpdateAutoScalingGroup", DR), ("UpdateAutoScalingGroup", DR)]
    [record] = records(estate)
    [entry] = resources_of(estate, record).values()
    assert entry["phases"]["ACTIVATE"]["status"] == "succeeded"
    assert "drill" in record["operation"]


def test_kill_mid_activate_then_rerun_scales_once(sandbox, estate):
    sandbox.drs_settings(time_scale=4.0)  # instances stay Pending ~12 s: the kill lands while ACTIVATE waits
    sandbox.clear_requests()

    def dr_scaled():
        return group(sandbox, "acme-prod-web", DR)[0][2] == 2

    start_and_kill_when(sandbox, estate, "failover.yml", dr_scaled, *ONLY)
    assert updates(sandbox) == [("UpdateAutoScalingGroup", DR)]
    sandbox.drs_settings(time_scale=0.3)
    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    # One scale-up of the DR group in all, then one scale-down of the old one.
    assert updates(sandbox) == [("UpdateAutoScalingGroup", DR), ("UpdateAutoScalingGroup", PRIMARY)]
    capacity, serving, dummy = group(sandbox, "acme-prod-web", DR)
    assert capacity == (2, 4, 2) and serving == 2
    assert group(sandbox, "acme-prod-web", PRIMARY)[0] == (0, 4, 0)
    [record] = records(estate)
    assert record["status"] == "succeeded" and record.get("resumptions")
    [entry] = resources_of(estate, record).values()
    assert entry["before"]["capacity"]["desired_capacity"] == 2


def test_twin_of_another_customer_is_refused_before_any_change(sandbox, estate):
    client = sandbox.client("autoscaling", ACCOUNT, PRIMARY)
    client.create_or_update_tags(Tags=[{"ResourceId": "acme-prod-web", "ResourceType": "auto-scaling-group",
                                        "Key": "Customer", "Value": "globex", "PropagateAtLaunch": False}])
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY)
    assert rc != 0
    assert "Customer='globex', not 'acme'" in out + err
    assert updates(sandbox) == []
    assert group(sandbox, "acme-prod-web", DR)[0] == (0, 4, 0)
    assert group(sandbox, "acme-prod-web", PRIMARY)[0] == (2, 4, 2)
