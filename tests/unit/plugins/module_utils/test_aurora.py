"""Aurora planning without AWS: what a writer move needs, and what PREFLIGHT refuses."""

import pytest

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import aurora

EAST = "arn:aws:rds:us-east-1:210987654321:cluster:orders-us-east-1"
WEST = "arn:aws:rds:us-west-2:210987654321:cluster:orders-us-west-2"


def state(writer=EAST, failover=None, west_instances=1, west_sync="connected", west_version="15.4", lag=0.5):
    members = [
        {"arn": EAST, "identifier": "orders-us-east-1", "region": "us-east-1", "is_writer": writer == EAST,
         "exists": True, "instances": 1, "engine_version": "15.4", "status": "available",
         "synchronization_status": None if writer == EAST else "connected"},
        {"arn": WEST, "identifier": "orders-us-west-2", "region": "us-west-2", "is_writer": writer == WEST,
         "exists": True, "instances": west_instances, "engine_version": west_version, "status": "available",
         "synchronization_status": None if writer == WEST else west_sync, "replication_lag_seconds": lag},
    ]
    return {"global_cluster_identifier": "orders", "failover_state": failover or {}, "writer_arn": writer,
            "writer_region": writer.split(":")[3], "members": members}


def test_a_switchover_is_planned_when_the_target_is_a_ready_secondary():
    action, target = aurora.plan_move(state(), "us-west-2")
    assert (action, target["arn"]) == ("switchover", WEST)
    assert aurora.plan_move(state(), "us-west-2", allow_data_loss=True)[0] == "failover"


def test_resume_never_switches_twice():
    assert aurora.plan_move(state(writer=WEST), "us-west-2")[0] == "none"
    in_progress = {"Status": "switching-over", "FromDbClusterArn": EAST, "ToDbClusterArn": WEST}
    assert aurora.plan_move(state(failover=in_progress), "us-west-2")[0] == "wait"
    with pytest.raises(aurora.AuroraError, match="not to"):
        aurora.plan_move(state(writer=WEST, failover={"Status": "pending", "ToDbClusterArn": EAST}), "us-west-2")


def test_a_headless_or_missing_target_is_refused_with_the_fix():
    with pytest.raises(aurora.AuroraError) as error:
        aurora.plan_move(state(west_instances=0), "us-west-2")
    assert "no DB instance" in str(error.value) and "create a DB instance" in error.value.remediation
    with pytest.raises(aurora.AuroraError, match="no member in eu-west-1"):
        aurora.plan_move(state(), "eu-west-1")


def test_readiness_checks_versions_sync_instances_and_lag_against_the_rpo_target():
    assert aurora.readiness(state(), "us-west-2", rpo_target_minutes=1) == []
    problems = aurora.readiness(state(west_version="14.9", west_sync="pending-resync", west_instances=0, lag=90),
                                "us-west-2", rpo_target_minutes=1, lag_threshold_seconds=300)
    text = " | ".join(problems)
    assert "different engine versions" in text and "pending-resync" in text and "no DB instance" in text
    assert "lags 90 s" in text and "60 s" in text


def test_a_move_to_the_dr_member_already_under_way_is_not_refused_but_one_elsewhere_is():
    """A run killed in ACTIVATE during the switchover is re-run: its PREFLIGHT must let ACTIVATE wait for it."""
    to_dr = {"Status": "switching-over", "FromDbClusterArn": EAST, "ToDbClusterArn": WEST}
    moving = state(failover=to_dr, west_sync="pending-resync")  # members are in transition meanwhile
    assert aurora.readiness(moving, "us-west-2") == []
    assert aurora.plan_move(moving, "us-west-2")[0] == "wait"
    elsewhere = {"Status": "failing-over", "FromDbClusterArn": WEST, "ToDbClusterArn": EAST}
    assert aurora.readiness(state(writer=WEST, failover=elsewhere), "us-west-2") == [
        "orders is failing-over (a switchover or failover in progress)"]


def test_scope_pairs_name_every_member():
    pairs = aurora.scope_pairs(state(), "orders")
    assert [p[0].split(" ")[0] for p in pairs] == [EAST, WEST]
