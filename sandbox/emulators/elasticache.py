"""ElastiCache global datastores, which moto 5.2.5 does not model at all (reference/failover_apis.md section 3).

Emulated operations: Create/Describe/Failover/Disassociate/DeleteGlobalReplicationGroup, CreateReplicationGroup
with ``GlobalReplicationGroupId`` (a new secondary; ElastiCache infers its settings from the primary), and the
tagging calls on global datastore ARNs. Corrected moto answers: DescribeReplicationGroups (endpoints on the
sandbox's loopback port, so a TCP connectivity check reaches something; deleted groups really go away after a few
polls), the Resource Groups Tagging API's resource types (moto reports ``elasticache:replication-group``; the real
token is ``elasticache:replicationgroup``) and global datastores in its answers.

States follow Appendix B: global IDs carry the region prefix (``ldgnf-<suffix>`` in us-east-1); a new datastore is
``creating`` then ``primary-only``; a new secondary makes it ``modifying`` (member ``associating``) then
``available`` (member ``associated``); a failover is ``modifying`` then the roles flip; a disassociation is
``modifying`` (member ``disassociating``) then the member is gone (``primary-only`` when no secondary is left);
``InvalidGlobalReplicationGroupState`` when a failover is asked of a datastore that is not available. Each
transition completes after ``POLLS_PER_TRANSITION`` reads of ElastiCache (time scale in polls, as in the tests).

The datastore itself lives here (moto has no model for it); the membership and role of each replication group live
in moto's own replication groups, so DescribeReplicationGroups shows them.
"""

from __future__ import annotations

import hashlib
import os
from urllib.parse import parse_qs

from sandbox.emulators import register
from sandbox.locking import STATE_LOCK

DEFAULT_POLLS_PER_TRANSITION = int(os.environ.get("SANDBOX_ELASTICACHE_POLLS", "2"))
POLLS_PER_TRANSITION = DEFAULT_POLLS_PER_TRANSITION

# Region prefixes of global datastore IDs seen in AWS examples; other regions get a stable five-letter prefix.
REGION_PREFIXES = {"us-east-1": "ldgnf", "us-west-1": "virxk", "us-west-2": "sgaui", "us-east-2": "fpkhr",
                   "eu-west-1": "iudkw", "eu-central-1": "pkaow", "ap-southeast-1": "qxyzg"}

REAL_RESOURCE_TYPES = {
    "cache_clusters": "elasticache:cluster",
    "cache_subnet_groups": "elasticache:subnetgroup",
    "replication_groups": "elasticache:replicationgroup",
    "snapshots": "elasticache:snapshot",
    "users": "elasticache:user",
}

# account -> global id -> datastore document (the GlobalReplicationGroup shape, plus private keys with "_").
GLOBALS: dict[str, dict[str, dict]] = {}
# (account, region, replication group id) -> polls left before a deleting group is removed.
DELETING: dict[tuple, int] = {}


def reset():
    global POLLS_PER_TRANSITION
    GLOBALS.clear()
    DELETING.clear()
    POLLS_PER_TRANSITION = DEFAULT_POLLS_PER_TRANSITION


def configure(polls_per_transition=None):
    """``polls_per_transition``: reads of ElastiCache a transition started from now on takes (a failover that is
    still under way when an interrupted run is re-run). A reset restores the default."""
    global POLLS_PER_TRANSITION
    if polls_per_transition is not None:
        value = int(polls_per_transition)
        if value < 1:
            raise ValueError(f"polls_per_transition must be at least 1, got {value}")
        POLLS_PER_TRANSITION = value
    return {"polls_per_transition": POLLS_PER_TRANSITION}


def region_prefix(region):
    if region in REGION_PREFIXES:
        return REGION_PREFIXES[region]
    digest = hashlib.sha256(region.encode()).hexdigest()
    return "".join(chr(ord("a") + int(digest[i:i + 2], 16) % 26) for i in range(0, 10, 2))


def global_arn(account, global_id):
    return f"arn:aws:elasticache::{account}:globalreplicationgroup:{global_id}"


# ------------------------------------------------------------------------------------------- plumbing
class _Error(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _params(call):
    params = {}
    for source in (call.query_string, call.body.decode("utf-8", "replace") if call.body else ""):
        for key, values in parse_qs(source, keep_blank_values=True).items():
            params.setdefault(key, values[0])
    return params


def _list_param(params, prefix, member):
    """Query-protocol lists: Tags.Tag.1.Key=... -> [{"Key": ...}, ...]."""
    items = {}
    for key, value in params.items():
        head = f"{prefix}.{member}."
        if key.startswith(head):
            index, dummy, field = key[len(head):].partition(".")
            items.setdefault(int(index), {})[field] = value
    return [items[i] for i in sorted(items)]


def _serialize(operation, result):
    from moto.core.exceptions import ServiceException
    from moto.core.serialize import get_serializer_class
    from moto.core.utils import get_service_model

    operation_model = get_service_model("elasticache").operation_model(operation)
    serializer = get_serializer_class("elasticache", "query")(operation_model=operation_model)
    if isinstance(result, _Error):
        # moto looks the error shape up by the exception's module: make it one of ElastiCache's.
        error_class = type(result.code, (ServiceException,), {"__module__": "moto.elasticache.exceptions",
                                                              "code": result.code})
        error = error_class(result.message)
        answer = serializer.serialize(error)
        return result.status, answer["headers"], answer["body"]
    answer = serializer.serialize(result)
    return answer["status_code"], answer["headers"], answer["body"]


def _backend(account, region):
    from moto.elasticache.models import elasticache_backends

    return elasticache_backends[account][region]


def _replication_group(account, region, group_id):
    return _backend(account, region).replication_groups.get(group_id)


def _set_membership(group, global_id, role):
    group.global_replication_group_id = global_id or ""
    group.global_replication_group_member_role = role


# ------------------------------------------------------------------------------------------- the clock
def _advance(account=None):
    """One poll: every pending transition of every datastore moves one step closer to done."""
    for owner, stores in list(GLOBALS.items()):
        for global_id, store in list(stores.items()):
            pending = store["_pending"]
            if not pending:
                continue
            pending[0]["polls"] -= 1
            if pending[0]["polls"] <= 0:
                step = pending.pop(0)
                step["apply"](owner, global_id, store)
                _settle(store)
    for key in list(DELETING):
        DELETING[key] -= 1
        if DELETING[key] <= 0:
            account, region, group_id = key
            DELETING.pop(key)
            _backend(account, region).replication_groups.pop(group_id, None)


def _settle(store):
    if store["_pending"]:
        return
    if store["Status"] == "deleting":
        return
    secondaries = [m for m in store["Members"] if m["Role"] == "SECONDARY"]
    store["Status"] = "available" if secondaries else "primary-only"


def _schedule(store, apply, status="modifying"):
    store["Status"] = status
    store["_pending"].append({"polls": POLLS_PER_TRANSITION, "apply": apply})


def _find(account, global_id):
    store = GLOBALS.get(account, {}).get(global_id or "")
    if store is None:
        raise _Error("GlobalReplicationGroupNotFoundFault", f"Global replication group {global_id} not found.", 404)
    return store


def _public(store, members=True):
    document = {k: v for k, v in store.items() if not k.startswith("_")}
    if members:
        document["Members"] = [dict(m) for m in store["Members"]]
    else:
        document.pop("Members", None)
    return document


# ------------------------------------------------------------------------------------------ operations
def create_global(call, params):
    suffix = params.get("GlobalReplicationGroupIdSuffix")
    primary_id = params.get("PrimaryReplicationGroupId")
    if not suffix or not primary_id:
        raise _Error("InvalidParameterValue",
                     "GlobalReplicationGroupIdSuffix and PrimaryReplicationGroupId are required")
    group = _replication_group(call.account, call.region, primary_id)
    if group is None:
        raise _Error("ReplicationGroupNotFoundFault", f"Replication group {primary_id} not found.", 404)
    if group.global_replication_group_id:
        raise _Error("InvalidReplicationGroupState",
                     f"Replication group {primary_id} is already a member of {group.global_replication_group_id}.")
    global_id = f"{region_prefix(call.region)}-{suffix}"
    if global_id in GLOBALS.get(call.account, {}):
        raise _Error("GlobalReplicationGroupAlreadyExistsFault",
                     f"Global replication group {global_id} already exists.")
    store = {
        "GlobalReplicationGroupId": global_id,
        "GlobalReplicationGroupDescription": params.get("GlobalReplicationGroupDescription", ""),
        "Status": "creating",
        "CacheNodeType": group.cache_node_type,
        "Engine": group.engine,
        "EngineVersion": group.engine_version or "7.1",
        "Members": [{"ReplicationGroupId": primary_id, "ReplicationGroupRegion": call.region, "Role": "PRIMARY",
                     "AutomaticFailover": group.automatic_failover, "Status": "associating"}],
        "ClusterEnabled": bool(group.cluster_enabled),
        "AuthTokenEnabled": bool(group.auth_token_enabled),
        "TransitEncryptionEnabled": bool(group.transit_encryption_enabled),
        "AtRestEncryptionEnabled": bool(group.at_rest_encryption_enabled),
        "ARN": global_arn(call.account, global_id),
        "_tags": {t["Key"]: t.get("Value", "") for t in _list_param(params, "Tags", "Tag")},
        "_num_node_groups": len(group.node_groups),
        "_pending": [],
    }
    _set_membership(group, global_id, "PRIMARY")

    def created(_account, _global_id, current):
        current["Members"][0]["Status"] = "associated"

    _schedule(store, created, status="creating")
    GLOBALS.setdefault(call.account, {})[global_id] = store
    return "CreateGlobalReplicationGroup", {"GlobalReplicationGroup": _public(store)}


def describe_globals(call, params):
    _advance()
    show_members = params.get("ShowMemberInfo", "false").lower() == "true"
    wanted = params.get("GlobalReplicationGroupId")
    if wanted:
        stores = [_find(call.account, wanted)]
    else:
        stores = list(GLOBALS.get(call.account, {}).values())
    return "DescribeGlobalReplicationGroups", {
        "GlobalReplicationGroups": [_public(s, members=show_members) for s in stores]}


def failover_global(call, params):
    store = _find(call.account, params.get("GlobalReplicationGroupId"))
    region, group_id = params.get("PrimaryRegion"), params.get("PrimaryReplicationGroupId")
    if store["Status"] != "available":
        raise _Error("InvalidGlobalReplicationGroupState",
                     "The Global datastore is not available or in primary-only state")
    target = next((m for m in store["Members"]
                   if m["ReplicationGroupId"] == group_id and m["ReplicationGroupRegion"] == region), None)
    if target is None:
        raise _Error("InvalidParameterValue",
                     f"Replication group {group_id} in {region} is not a member of {store['GlobalReplicationGroupId']}")
    if target["Role"] == "PRIMARY":
        raise _Error("InvalidParameterValue", f"Replication group {group_id} is already the primary")

    def promoted(account, global_id, current):
        for member in current["Members"]:
            member["Role"] = "PRIMARY" if member is target else "SECONDARY"
            group = _replication_group(account, member["ReplicationGroupRegion"], member["ReplicationGroupId"])
            if group is not None:
                _set_membership(group, global_id, member["Role"])

    _schedule(store, promoted)
    return "FailoverGlobalReplicationGroup", {"GlobalReplicationGroup": _public(store)}


def disassociate_global(call, params):
    store = _find(call.account, params.get("GlobalReplicationGroupId"))
    region, group_id = params.get("ReplicationGroupRegion"), params.get("ReplicationGroupId")
    if store["Status"] in ("creating", "deleting"):
        raise _Error("InvalidGlobalReplicationGroupState", f"The Global datastore is {store['Status']}")
    member = next((m for m in store["Members"]
                   if m["ReplicationGroupId"] == group_id and m["ReplicationGroupRegion"] == region), None)
    if member is None:
        raise _Error("InvalidParameterValue",
                     f"Replication group {group_id} in {region} is not a member of {store['GlobalReplicationGroupId']}")
    if member["Role"] == "PRIMARY":
        raise _Error("InvalidParameterValue", "The primary replication group cannot be disassociated; fail over first")
    if member["Status"] == "disassociating":
        raise _Error("InvalidGlobalReplicationGroupState", f"{group_id} is already disassociating")
    answer = _public(store)
    member["Status"] = "disassociating"

    def removed(account, _global_id, current):
        current["Members"] = [m for m in current["Members"] if m is not member]
        group = _replication_group(account, region, group_id)
        if group is not None:
            _set_membership(group, None, None)

    _schedule(store, removed)
    return "DisassociateGlobalReplicationGroup", {"GlobalReplicationGroup": answer}


def delete_global(call, params):
    store = _find(call.account, params.get("GlobalReplicationGroupId"))
    if any(m["Role"] == "SECONDARY" for m in store["Members"]):
        raise _Error("InvalidGlobalReplicationGroupState",
                     "Disassociate every secondary replication group before deleting the Global datastore")
    global_id = store["GlobalReplicationGroupId"]

    def deleted(account, _global_id, current):
        for member in current["Members"]:
            group = _replication_group(account, member["ReplicationGroupRegion"], member["ReplicationGroupId"])
            if group is not None:
                _set_membership(group, None, None)
        GLOBALS.get(account, {}).pop(global_id, None)

    _schedule(store, deleted, status="deleting")
    return "DeleteGlobalReplicationGroup", {"GlobalReplicationGroup": _public(store)}


INFERRED = ("CacheNodeType", "Engine", "EngineVersion", "NumNodeGroups", "CacheParameterGroupName",
            "AutomaticFailoverEnabled", "PrimaryClusterId")


def create_secondary(call, params):
    """CreateReplicationGroup(GlobalReplicationGroupId=...): a new secondary region of the datastore. Without it, a
    restore from ``SnapshotName`` is checked (moto creates the group without looking for the snapshot)."""
    global_id = params.get("GlobalReplicationGroupId")
    if not global_id:
        wanted = params.get("SnapshotName")
        snapshot = _backend(call.account, call.region).snapshots.get(wanted) if wanted else None
        if wanted and snapshot is None:
            raise _Error("SnapshotNotFoundFault", f"Snapshot {wanted} not found.", 404)
        if snapshot is not None and snapshot.snapshot_status != "available":
            raise _Error("InvalidSnapshotState", f"Snapshot {wanted} is {snapshot.snapshot_status}.")
        return None  # an ordinary replication group (restored from the snapshot when named): moto creates it
    store = _find(call.account, global_id)
    passed = [name for name in INFERRED if name in params]
    if passed:
        raise _Error("InvalidParameterCombination",
                     f"{', '.join(passed)} cannot be given for a secondary: ElastiCache infers them from the primary")
    if store["Status"] in ("creating", "deleting"):
        raise _Error("InvalidGlobalReplicationGroupState", f"The Global datastore is {store['Status']}")
    if any(m["ReplicationGroupRegion"] == call.region for m in store["Members"]):
        raise _Error("InvalidParameterValue", f"The Global datastore already has a member in {call.region}")
    group_id = params.get("ReplicationGroupId")
    backend = _backend(call.account, call.region)
    if group_id in backend.replication_groups:
        raise _Error("ReplicationGroupAlreadyExists", f"Replication group {group_id} already exists.")
    tags = _list_param(params, "Tags", "Tag")
    group = backend.create_replication_group(
        replication_group_id=group_id, replication_group_description=params.get("ReplicationGroupDescription", ""),
        global_replication_group_id=global_id, primary_cluster_id=None, automatic_failover_enabled=True,
        multi_az_enabled=None, num_cache_clusters=2, preferred_cache_cluster_azs=[],
        num_node_groups=store["_num_node_groups"], replicas_per_node_group=None, node_group_configuration=[],
        cache_node_type=store["CacheNodeType"], engine=store["Engine"], engine_version=store["EngineVersion"],
        cache_parameter_group_name=None, cache_subnet_group_name=params.get("CacheSubnetGroupName"),
        cache_security_group_names=None, security_group_ids=None, tags=tags, snapshot_arns=None, snapshot_name=None,
        preferred_maintenance_window=None, port=None, notification_topic_arn=None, auto_minor_version_upgrade=None,
        snapshot_retention_limit=0, snapshot_window=None, auth_token=None, transit_encryption_enabled=None,
        at_rest_encryption_enabled=None, kms_key_id=None, user_group_ids=[], log_delivery_configurations=[],
        data_tiering_enabled=None, network_type=None, ip_discovery=None, transit_encryption_mode=None,
        cluster_mode="enabled" if store["ClusterEnabled"] else None, serverless_cache_snapshot_name=None,
    )
    _set_membership(group, global_id, "SECONDARY")
    member = {"ReplicationGroupId": group_id, "ReplicationGroupRegion": call.region, "Role": "SECONDARY",
              "AutomaticFailover": group.automatic_failover, "Status": "associating"}
    store["Members"].append(member)

    def associated(_account, _global_id, _current):
        member["Status"] = "associated"

    _schedule(store, associated)
    return "CreateReplicationGroup", {"ReplicationGroup": {
        "ReplicationGroupId": group_id, "Description": group.description, "Status": "creating",
        "GlobalReplicationGroupInfo": {"GlobalReplicationGroupId": global_id,
                                       "GlobalReplicationGroupMemberRole": "SECONDARY"},
        "CacheNodeType": group.cache_node_type, "Engine": group.engine, "ARN": group.arn}}


def _loopback(call):
    host = call.environ.get("HTTP_HOST") or ""
    port = host.rsplit(":", 1)[-1] if ":" in host else call.environ.get("SERVER_PORT", "80")
    return "127.0.0.1", int(port)


def correct_replication_groups(call, params):
    """Before moto answers DescribeReplicationGroups: the clock, loopback endpoints, deletions."""
    _advance()
    address, port = _loopback(call)
    backend = _backend(call.account, call.region)
    for group_id, group in list(backend.replication_groups.items()):
        if group.status == "deleting":
            DELETING.setdefault((call.account, call.region, group_id), POLLS_PER_TRANSITION)
        if not hasattr(group, "global_replication_group_member_role"):
            group.global_replication_group_member_role = None
        group.port = port
        for node_group in group.node_groups:
            if "primary_endpoint" in node_group:
                node_group["primary_endpoint"] = {"address": address, "port": port}
                node_group["primary_endpoint_address"] = address
                node_group["reader_endpoint"] = {"address": address, "port": port}
                node_group["reader_endpoint_address"] = address
                node_group["port"] = port
        if getattr(group, "configuration_endpoint", None):
            group.configuration_endpoint = {"address": address, "port": port}
    wanted = params.get("ReplicationGroupId")
    if wanted and wanted not in backend.replication_groups:
        raise _Error("ReplicationGroupNotFoundFault", f"ReplicationGroup {wanted} not found.", 404)
    return None


def _global_for_arn(call, params):
    arn = params.get("ResourceName") or ""
    if ":globalreplicationgroup:" not in arn:
        return None
    return _find(call.account, arn.rsplit(":", 1)[-1])


def add_tags(call, params):
    store = _global_for_arn(call, params)
    if store is None:
        return None
    store["_tags"].update({t["Key"]: t.get("Value", "") for t in _list_param(params, "Tags", "Tag")})
    return "AddTagsToResource", {"TagList": [{"Key": k, "Value": v} for k, v in store["_tags"].items()]}


def list_tags(call, params):
    store = _global_for_arn(call, params)
    if store is None:
        return None
    return "ListTagsForResource", {"TagList": [{"Key": k, "Value": v} for k, v in store["_tags"].items()]}


def remove_tags(call, params):
    store = _global_for_arn(call, params)
    if store is None:
        return None
    for key in [v for k, v in params.items() if k.startswith("TagKeys.member.")]:
        store["_tags"].pop(key, None)
    return "RemoveTagsFromResource", {"TagList": [{"Key": k, "Value": v} for k, v in store["_tags"].items()]}


HANDLERS = {
    "CreateGlobalReplicationGroup": create_global,
    "DescribeGlobalReplicationGroups": describe_globals,
    "FailoverGlobalReplicationGroup": failover_global,
    "DisassociateGlobalReplicationGroup": disassociate_global,
    "DeleteGlobalReplicationGroup": delete_global,
    "CreateReplicationGroup": create_secondary,
    "DescribeReplicationGroups": correct_replication_groups,
    "AddTagsToResource": add_tags,
    "ListTagsForResource": list_tags,
    "RemoveTagsFromResource": remove_tags,
}


def handle(call):
    params = _params(call)
    operation = call.operation or params.get("Action")
    with STATE_LOCK:
        try:
            answer = HANDLERS[operation](call, params)
        except _Error as error:
            return _serialize(operation, error)
    if answer is None:
        return None
    name, result = answer
    return _serialize(name, result)


def tick():
    with STATE_LOCK:
        _advance()


# ------------------------------------------------------------------------ tagging API: real resource types
def _iter_tagged_resources(self):
    from moto.core.resource_tagging import TaggedResource

    for attribute, resource_type in REAL_RESOURCE_TYPES.items():
        for resource in list(getattr(self, attribute).values()):
            if resource_type == "elasticache:user" and resource.id == "default":
                continue
            yield TaggedResource(arn=resource.arn, tags=self.tagging_service.get_tag_dict_for_resource(resource.arn),
                                 resource_type=resource_type, extra={"include_untagged": True})
    # A global datastore has a Region-less ARN; it is listed in the region of its primary member.
    for store in GLOBALS.get(self.account_id, {}).values():
        primary = next((m for m in store["Members"] if m["Role"] == "PRIMARY"), None)
        if primary and primary["ReplicationGroupRegion"] == self.region_name and store["_tags"]:
            yield TaggedResource(arn=store["ARN"], tags=dict(store["_tags"]),
                                 resource_type="elasticache:globalreplicationgroup", extra={})


def _patch_tagging():
    try:
        from moto.elasticache.models import ElastiCacheBackend
    except ImportError:
        return
    ElastiCacheBackend.iter_tagged_resources = _iter_tagged_resources


_patch_tagging()
register("elasticache-global-datastores", "elasticache", handle, operations=HANDLERS, reset=reset,
         configure=configure, tick=tick, tick_services=("elasticache",))
