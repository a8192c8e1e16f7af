# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ARN parsing and technology classification for tag-driven discovery.

Classification follows the real ARN formats of each service (Service Authorization Reference),
not the resource-type strings a particular API implementation reports, so it holds for any
source of ARNs (Resource Groups Tagging API, Resource Explorer, describe calls).
"""

import re

from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import technologies

# (arn service, resource type token) -> dr_technology, from the technology registry.
# A resource type token is what precedes the first "/" or ":" of the ARN's resource part.
TECHNOLOGY_BY_ARN_TYPE = technologies.by_arn_type()

TECHNOLOGIES = technologies.names()

# Taggable resources that are part of a protected stack but are not the unit of failover:
# the fix tells the application team which resource to tag instead.
TAG_INSTEAD = {
    ("ecs", "cluster"): "tag the cluster's ECS services instead of the cluster",
    ("events", "event-bus"): "tag the EventBridge rules (or the global endpoint) instead of the event bus",
    ("fsx", "backup"): "tag the FSx file system instead of its backups",
    ("fsx", "volume"): "tag the FSx file system instead of its volumes",
    ("elasticache", "cluster"): "tag the ElastiCache replication group instead of its member clusters",
    ("lambda", "event-source-mapping"): "tag the Lambda function instead of its event source mapping",
    ("ec2", "volume"): "tag the EC2 instance (protected by DRS) instead of its volumes",
}

_ARN_RE = re.compile(
    r"^arn:(?P<partition>[^:]+):(?P<service>[^:]+):(?P<region>[^:]*):(?P<account>[^:]*):(?P<resource>.+)$")


class ArnError(ValueError):
    pass


def parse_arn(arn):
    """Split an ARN into partition, service, region, account, resource_type and resource_id."""
    match = _ARN_RE.match(arn or "")
    if not match:
        raise ArnError(f"not an ARN: {arn!r}")
    parts = match.groupdict()
    resource = parts["resource"]
    type_match = re.match(r"^([^/:]+)[/:](.*)$", resource)
    if type_match:
        parts["resource_type"], parts["resource_id"] = type_match.group(1), type_match.group(2)
    else:
        parts["resource_type"], parts["resource_id"] = resource, ""
    return parts


def classify(arn):
    """Return the dr_technology of ``arn`` or None when the collection does not fail it over."""
    try:
        parts = parse_arn(arn)
    except ArnError:
        return None
    return TECHNOLOGY_BY_ARN_TYPE.get((parts["service"], parts["resource_type"]))


def unsupported_fix(arn):
    """What an application team should do about a dr:enabled resource that is not a failover unit."""
    try:
        parts = parse_arn(arn)
    except ArnError:
        return "remove the dr:enabled tag from this resource"
    hint = TAG_INSTEAD.get((parts["service"], parts["resource_type"]))
    if hint:
        return f"{hint}, and remove dr:enabled from this resource"
    supported = ", ".join(TECHNOLOGIES)
    kind = f"{parts['service']}:{parts['resource_type']}" if parts["resource_id"] else parts["service"]
    return f"remove the dr:enabled tag: resource type {kind} is not one of {supported}"


def resource_name(arn):
    """The short, readable name of a resource from its ARN (the last meaningful path element)."""
    parts = parse_arn(arn)
    service, rtype, rid = parts["service"], parts["resource_type"], parts["resource_id"]
    if service == "autoscaling" and "autoScalingGroupName/" in rid:
        return rid.split("autoScalingGroupName/", 1)[1]
    if service == "lambda" and rtype == "function":
        return rid.split(":", 1)[0]  # drop a version or alias qualifier
    if not rid:
        return rtype
    return re.split(r"[/:]", rid)[-1]
