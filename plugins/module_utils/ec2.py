# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Batched EC2 reads and writes used by the DRS lifecycle modules (retried by the client's policy)."""

ID_BATCH = 200


def _chunks(values, size):
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start:start + size]


def _full_result(paginator, filters):
    return paginator.paginate(Filters=filters).build_full_result()


def tags_dict(instance):
    return {t["Key"]: t["Value"] for t in instance.get("Tags", []) or []}


def describe_instances(client, instance_ids):
    """{instance_id: instance} for the IDs that exist (missing IDs are simply absent)."""
    found = {}
    paginator = client.get_paginator("describe_instances")
    for batch in _chunks(sorted(set(i for i in instance_ids if i)), ID_BATCH):
        pages = _full_result(paginator, [{"Name": "instance-id", "Values": batch}])
        for reservation in pages.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                found[instance["InstanceId"]] = instance
    return found


def instance_status(client, instance_ids):
    """{instance_id: {"instance": ok|impaired|..., "system": ...}} for running instances."""
    statuses = {}
    for batch in _chunks(sorted(set(i for i in instance_ids if i)), 100):
        response = client.describe_instance_status(InstanceIds=batch, IncludeAllInstances=True)
        for item in response.get("InstanceStatuses", []):
            statuses[item["InstanceId"]] = {
                "instance": (item.get("InstanceStatus") or {}).get("Status"),
                "system": (item.get("SystemStatus") or {}).get("Status"),
                "state": (item.get("InstanceState") or {}).get("Name"),
            }
    return statuses


def instance_summary(instance):
    return {
        "instance_id": instance["InstanceId"],
        "state": (instance.get("State") or {}).get("Name"),
        "private_ip": instance.get("PrivateIpAddress"),
        "instance_type": instance.get("InstanceType"),
        "subnet_id": instance.get("SubnetId"),
        "tags": tags_dict(instance),
    }
