# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EC2 Auto Scaling groups in a failover: the DR group takes the primary's capacity, the old group goes to zero.

Reading goes through amazon.aws's ``module_utils.autoscaling.get_autoscaling_groups`` (paginated, snake_case);
the steps here are what a failover adds: the capacity of a group, the change to reach a wanted capacity, and the
count of instances that serve (InService and Healthy). No waiter exists in botocore for Auto Scaling.
"""

from ansible_collections.amazon.aws.plugins.module_utils.autoscaling import AnsibleAutoScalingError
from ansible_collections.amazon.aws.plugins.module_utils.autoscaling import get_autoscaling_groups
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import regional_pairs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently

CAPACITY_KEYS = ("min_size", "max_size", "desired_capacity")


class GroupReadError(Exception):
    """Auto Scaling in one account and region did not answer (or refused)."""

    def __init__(self, account_id, region, error):
        super().__init__(f"{account_id or 'default account'}/{region}: {error}")
        self.account_id = account_id
        self.region = region
        self.error = error


def _tags(group):
    tags = group.get("tags") or []
    if isinstance(tags, dict):
        return tags
    return boto3_tag_list_to_ansible_dict(
        [{"Key": t.get("key"), "Value": t.get("value")} for t in tags])


def group_state(group):
    """What a failover needs of one group (a snake_case group from get_autoscaling_groups), or None."""
    if not group:
        return None
    instances = group.get("instances") or []
    serving = [i for i in instances
               if i.get("lifecycle_state") == "InService" and (i.get("health_status") or "").upper() == "HEALTHY"]
    return {
        "name": group["auto_scaling_group_name"],
        "arn": group.get("auto_scaling_group_arn"),
        "capacity": {key: group.get(key) for key in CAPACITY_KEYS},
        "in_service": len(serving),
        "instances": len(instances),
        "instance_states": sorted({i.get("lifecycle_state") for i in instances if i.get("lifecycle_state")}),
        "tags": _tags(group),
    }


def read_groups(client, names, account_id=None, region=None):
    """``{name: state}`` for the named groups of one account and region (absent names are left out)."""
    try:
        groups = get_autoscaling_groups(client, sorted(set(names)))
    except AnsibleAutoScalingError as e:
        raise GroupReadError(account_id, region, e.exception or e) from e
    return {g["auto_scaling_group_name"]: group_state(g) for g in groups or []}


def capacity_text(capacity):
    if not capacity:
        return "?/?/?"
    return "/".join(str(capacity.get(key, "?")) for key in CAPACITY_KEYS)


def wanted_for_drill(current, drill_capacity):
    """A drill's capacity: ``drill_capacity`` instances, within a max that allows it."""
    return {"min_size": 0, "max_size": max(int(current.get("max_size") or 0), drill_capacity),
            "desired_capacity": drill_capacity}


def scaled_down(current):
    """The old group at zero, kept (never deleted): min and desired 0, max unchanged."""
    return {"min_size": 0, "max_size": int(current.get("max_size") or 0), "desired_capacity": 0}


def validate_capacity(capacity):
    """None, or why min <= desired <= max does not hold (the error Auto Scaling would give)."""
    low, high, desired = (int(capacity[k]) for k in CAPACITY_KEYS)
    if not low <= desired <= high:
        return (f"Desired capacity:{desired} must be between the specified min size:{low} and max size:{high}")
    return None


def needs_change(current, wanted):
    return any(int(current.get(k) or 0) != int(wanted[k]) for k in CAPACITY_KEYS)


def update_capacity(client, name, wanted):
    client.update_auto_scaling_group(
        AutoScalingGroupName=name, MinSize=int(wanted["min_size"]), MaxSize=int(wanted["max_size"]),
        DesiredCapacity=int(wanted["desired_capacity"]))


def serving(state, desired):
    """True when ``desired`` instances are InService and healthy (and nothing else is pending)."""
    return state is not None and state["in_service"] >= int(desired) and state["instances"] == state["in_service"]


def read_sides(factory, hosts, direction, primary_region, dr_region):
    """``{(account, region): {name: state} | GroupReadError}`` for both sides of every host, one call per group."""
    wanted = {}
    for host in hosts:
        for region in regional_pairs.sides(host, direction, primary_region, dr_region):
            wanted.setdefault((host.get("dr_account_id"), region), set()).add(host["dr_resource_name"])

    def read(key):
        try:
            client = factory.client("autoscaling", account_id=key[0], region=key[1])
            return read_groups(client, wanted[key], key[0], key[1])
        except GroupReadError as e:
            return e

    return run_concurrently(read, list(wanted))


def side(found, host, region):
    block = found.get((host.get("dr_account_id"), region))
    if isinstance(block, GroupReadError):
        return {"region": region, "reachable": False, "error": regional_pairs.error_text(block.error)}
    state = (block or {}).get(host["dr_resource_name"])
    if state is None:
        return {"region": region, "reachable": True, "exists": False}
    return dict(state, region=region, reachable=True, exists=True)
