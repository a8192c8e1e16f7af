# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the application-tier adapters: sides of a pair, capacities, ECS convergence, twin pairing."""

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import autoscaling
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import ecs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import endpoint_checks
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import regional_pairs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import route53
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils.resources import pair_regional_twins

HOST = {"dr_arn": "arn:aws:autoscaling:us-west-2:1:autoScalingGroup:u:autoScalingGroupName/web",
        "inventory_hostname": "web", "dr_primary_region": "us-east-1", "dr_dr_region": "us-west-2"}


def test_sides_follow_the_direction_and_the_run_regions():
    assert regional_pairs.sides(HOST, "failover") == ("us-east-1", "us-west-2")
    assert regional_pairs.sides(HOST, "failback") == ("us-west-2", "us-east-1")
    assert regional_pairs.sides(HOST, "failover", "eu-west-1", "eu-central-1") == ("eu-west-1", "eu-central-1")


def test_recorded_before_is_found_by_resource():
    recorded = [{"resource": "other", "before": {"capacity": 1}}, {"resource": HOST["dr_arn"], "before": {"x": 2}}]
    assert regional_pairs.recorded_before(recorded, HOST["dr_arn"]) == {"x": 2}
    assert regional_pairs.recorded_before([], HOST["dr_arn"]) == {}


def test_capacity_rules():
    assert autoscaling.validate_capacity({"min_size": 2, "max_size": 4, "desired_capacity": 5}) == (
        "Desired capacity:5 must be between the specified min size:2 and max size:4")
    assert autoscaling.validate_capacity({"min_size": 2, "max_size": 4, "desired_capacity": 2}) is None
    assert autoscaling.scaled_down({"min_size": 2, "max_size": 4, "desired_capacity": 2}) == {
        "min_size": 0, "max_size": 4, "desired_capacity": 0}
    assert autoscaling.wanted_for_drill({"min_size": 0, "max_size": 0, "desired_capacity": 0}, 1) == {
        "min_size": 0, "max_size": 1, "desired_capacity": 1}
    assert autoscaling.needs_change({"min_size": 0, "max_size": 4, "desired_capacity": 0},
                                    {"min_size": 2, "max_size": 4, "desired_capacity": 2})
    assert not autoscaling.needs_change({"min_size": 2, "max_size": 4, "desired_capacity": 2},
                                        {"min_size": 2, "max_size": 4, "desired_capacity": 2})


def test_group_serves_only_when_every_instance_is_in_service_and_healthy():
    group = {"auto_scaling_group_name": "web", "min_size": 2, "max_size": 4, "desired_capacity": 2, "tags": [],
             "instances": [{"lifecycle_state": "InService", "health_status": "Healthy"},
                           {"lifecycle_state": "Pending", "health_status": "Healthy"}]}
    state = autoscaling.group_state(group)
    assert state["in_service"] == 1 and not autoscaling.serving(state, 2)
    group["instances"][1]["lifecycle_state"] = "InService"
    assert autoscaling.serving(autoscaling.group_state(group), 2)


def test_ecs_serves_after_the_deployment_completed():
    state = {"status": "ACTIVE", "desired_count": 3, "running_count": 3, "pending_count": 0, "deployments": 1,
             "rollout_state": "IN_PROGRESS"}
    assert not ecs.serving(state, 3)
    assert ecs.serving(dict(state, rollout_state="COMPLETED"), 3)
    assert not ecs.serving(dict(state, rollout_state="COMPLETED", running_count=2, pending_count=1), 3)
    assert not ecs.serving(dict(state, rollout_state="COMPLETED", deployments=2), 3)


def test_task_definitions_compare_by_what_they_run():
    left = {"family": "api", "cpu": "256", "memory": "512", "revision": 4,
            "containerDefinitions": [{"name": "app", "image": "api:2", "memory": 256, "environment": []}]}
    right = dict(left, revision=1, taskDefinitionArn="arn:other-region")
    assert ecs.same_definition(left, right)
    assert not ecs.same_definition(left, dict(left, containerDefinitions=[{"name": "app", "image": "api:1",
                                                                           "memory": 256}]))
    assert "revision" not in ecs.registration_of(left)


def test_endpoint_check_retries_until_it_passes():
    answers = iter([(False, "503"), (True, "200")])
    passed, detail = endpoint_checks.check("http://x", 60, attempt=lambda _u: next(answers), sleep=lambda _s: None)
    assert passed and detail == "200"


def test_primary_copy_of_a_pair_is_dropped_when_its_dr_twin_is_tagged():
    accounts = {"1": {"primary_region": "us-east-1", "dr_region": "us-west-2"}}

    def candidate(technology, region, resource_id, name):
        return {"technology": technology, "account_id": "1", "region": region, "resource_id": resource_id,
                "resource_name": name}

    candidates = [candidate("ecs", "us-east-1", "apps/api", "api"), candidate("ecs", "us-west-2", "apps/api", "api"),
                  candidate("ecs", "us-east-1", "apps/web", "web"),  # no DR twin tagged: stays a host
                  candidate("drs", "us-east-1", "s-1", "s-1")]
    kept = pair_regional_twins(candidates, accounts)
    assert [(c["technology"], c["region"], c["resource_id"]) for c in kept] == [
        ("ecs", "us-west-2", "apps/api"), ("ecs", "us-east-1", "apps/web"), ("drs", "us-east-1", "s-1")]


def _records():
    return [
        {"Name": "api.x.", "Type": "A", "SetIdentifier": "api-us-east-1", "Failover": "PRIMARY",
         "HealthCheckId": "hc-p", "ResourceRecords": [{"Value": "10.1.0.1"}]},
        {"Name": "api.x.", "Type": "A", "SetIdentifier": "api-us-west-2", "Failover": "SECONDARY",
         "HealthCheckId": "hc-s", "ResourceRecords": [{"Value": "10.2.0.1"}]},
        {"Name": "www.x.", "Type": "A", "SetIdentifier": "www-us-east-1", "Weight": 100,
         "ResourceRecords": [{"Value": "10.1.0.2"}]},
        {"Name": "www.x.", "Type": "A", "SetIdentifier": "www-us-west-2", "Weight": 0,
         "ResourceRecords": [{"Value": "10.2.0.2"}]},
        {"Name": "plain.x.", "Type": "A", "ResourceRecords": [{"Value": "10.9.9.9"}]},
    ]


def test_route53_failover_inverts_the_primary_and_moves_the_weight():
    checks = {"hc-p": {"inverted": False, "version": 1}, "hc-s": {"inverted": False, "version": 1}}
    plan = route53.plan_zone(_records(), checks, "us-east-1", "us-west-2")
    assert plan["problems"] == []
    assert plan["check_changes"] == [{"id": "hc-p", "inverted": True, "version": 1}]
    weights = {c["ResourceRecordSet"]["SetIdentifier"]: c["ResourceRecordSet"]["Weight"]
               for c in plan["record_changes"]}
    assert weights == {"www-us-west-2": 100, "www-us-east-1": 0}
    assert {e["name"]: e["values"] for e in plan["expected"]} == {"api.x": ["10.2.0.1"], "www.x": ["10.2.0.2"]}


def test_route53_failback_is_the_mirror_and_a_moved_zone_needs_nothing():
    moved = _records()
    moved[2]["Weight"], moved[3]["Weight"] = 0, 100
    checks = {"hc-p": {"inverted": True, "version": 2}, "hc-s": {"inverted": False, "version": 1}}
    assert route53.plan_zone(moved, checks, "us-east-1", "us-west-2")["lines"] == []  # resume: nothing twice
    back = route53.plan_zone(moved, checks, "us-west-2", "us-east-1")
    assert back["check_changes"] == [{"id": "hc-p", "inverted": False, "version": 2}]
    assert {c["ResourceRecordSet"]["SetIdentifier"]: c["ResourceRecordSet"]["Weight"]
            for c in back["record_changes"]} == {"www-us-east-1": 100, "www-us-west-2": 0}


def test_route53_refuses_a_primary_without_health_check():
    records = _records()
    del records[0]["HealthCheckId"]
    plan = route53.plan_zone(records, {"hc-s": {"inverted": False}}, "us-east-1", "us-west-2", names={"api.x"})
    assert plan["problems"] and "no health check" in plan["problems"][0]
