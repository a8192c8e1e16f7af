# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ECS services in a failover (pilot light): the DR region's service is kept at zero with the primary's task
definition, takes the primary's desired count in ACTIVATE, and the old service goes to zero in CLEANUP.

A service is named by ``cluster/service`` (the resource ID of its ARN); its twin in the other region has the same
cluster and service names. A service serves when ``runningCount == desiredCount``, nothing is pending, it has one
deployment and that deployment completed (``services_stable`` plus ``rolloutState``).
"""

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import regional_pairs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.batch import run_concurrently

DESCRIBE_BATCH = 10  # DescribeServices takes at most 10 services per call
# What a task definition is made of (RegisterTaskDefinition's parameters that DescribeTaskDefinition returns).
TASK_DEFINITION_KEYS = ("family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions", "volumes",
                        "placementConstraints", "requiresCompatibilities", "cpu", "memory", "pidMode", "ipcMode",
                        "proxyConfiguration", "inferenceAccelerators", "ephemeralStorage", "runtimePlatform")
CONTAINER_KEYS = ("name", "image", "cpu", "memory", "memoryReservation", "portMappings", "essential", "environment",
                  "command", "entryPoint", "secrets")


class ServiceReadError(Exception):
    def __init__(self, account_id, region, error):
        super().__init__(f"{account_id or 'default account'}/{region}: {error}")
        self.account_id = account_id
        self.region = region
        self.error = error


def split_id(resource_id):
    """``cluster/service`` -> ``(cluster, service)``."""
    cluster, dummy, service = (resource_id or "").partition("/")
    return cluster, service


def service_state(service, tags=None):
    deployments = service.get("deployments") or []
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), {})
    return {
        "arn": service.get("serviceArn"),
        "status": service.get("status"),
        "desired_count": service.get("desiredCount", 0),
        "running_count": service.get("runningCount", 0),
        "pending_count": service.get("pendingCount", 0),
        "deployments": len(deployments),
        "rollout_state": primary.get("rolloutState"),
        "task_definition": service.get("taskDefinition"),
        "tags": {t["key"]: t.get("value") for t in service.get("tags") or [] if "key" in t} if tags is None else tags,
    }


def serving(state, desired):
    """The service runs ``desired`` tasks and its deployment completed."""
    if not state or state.get("status") != "ACTIVE":
        return False
    return (state["desired_count"] == int(desired) and state["running_count"] == int(desired)
            and state["pending_count"] == 0 and state["deployments"] <= 1
            and state.get("rollout_state") in (None, "COMPLETED"))


def read_services(client, ids, account_id=None, region=None):
    """``{cluster/service: state}`` of one account and region; absent or INACTIVE services are left out."""
    by_cluster = {}
    for resource_id in sorted(set(ids)):
        cluster, service = split_id(resource_id)
        by_cluster.setdefault(cluster, []).append(service)
    found = {}
    try:
        for cluster, services in by_cluster.items():
            for start in range(0, len(services), DESCRIBE_BATCH):
                answer = client.describe_services(cluster=cluster, services=services[start:start + DESCRIBE_BATCH],
                                                  include=["TAGS"])
                for service in answer.get("services") or []:
                    if service.get("status") == "INACTIVE":
                        continue
                    found[f"{cluster}/{service['serviceName']}"] = service_state(service)
    except Exception as e:  # botocore's errors and connection failures alike: the caller decides
        if regional_pairs.botocore is not None and isinstance(
                e, (regional_pairs.botocore.exceptions.ClientError, regional_pairs.botocore.exceptions.BotoCoreError)):
            raise ServiceReadError(account_id, region, e) from e
        raise
    return found


def read_sides(factory, hosts, direction, primary_region, dr_region):
    """``{(account, region): {cluster/service: state} | ServiceReadError}`` for both sides of every host."""
    wanted = {}
    for host in hosts:
        for region in regional_pairs.sides(host, direction, primary_region, dr_region):
            wanted.setdefault((host.get("dr_account_id"), region), set()).add(host["dr_resource_id"])

    def read(key):
        try:
            return read_services(factory.client("ecs", account_id=key[0], region=key[1]), wanted[key], key[0], key[1])
        except ServiceReadError as e:
            return e

    return run_concurrently(read, list(wanted))


def side(found, host, region):
    block = found.get((host.get("dr_account_id"), region))
    if isinstance(block, ServiceReadError):
        return {"region": region, "reachable": False, "error": regional_pairs.error_text(block.error)}
    state = (block or {}).get(host["dr_resource_id"])
    if state is None:
        return {"region": region, "reachable": True, "exists": False}
    return dict(state, region=region, reachable=True, exists=True)


def update_desired(client, resource_id, desired, task_definition=None):
    cluster, service = split_id(resource_id)
    params = {"cluster": cluster, "service": service, "desiredCount": int(desired)}
    if task_definition:
        params["taskDefinition"] = task_definition
    client.update_service(**params)


def describe_task_definition(client, arn):
    return client.describe_task_definition(taskDefinition=arn)["taskDefinition"]


def _containers(definition):
    return [{k: c.get(k) for k in CONTAINER_KEYS if c.get(k) not in (None, [], {})}
            for c in sorted(definition.get("containerDefinitions") or [], key=lambda c: c.get("name") or "")]


def same_definition(left, right):
    """Two task definitions run the same thing (family, containers, size), whatever their revision and region."""
    if not left or not right:
        return False
    return (left.get("family") == right.get("family") and _containers(left) == _containers(right)
            and str(left.get("cpu")) == str(right.get("cpu")) and str(left.get("memory")) == str(right.get("memory")))


def registration_of(definition):
    """RegisterTaskDefinition parameters that recreate ``definition`` in another region."""
    return {k: definition[k] for k in TASK_DEFINITION_KEYS if definition.get(k) not in (None, [], {})}


def register_copy(client, definition):
    return client.register_task_definition(**registration_of(definition))["taskDefinition"]
