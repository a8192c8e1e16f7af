# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collect DR-enabled resources from every account and region (the AWS side of the inventory).

Produces the raw discovery result documented in resources.py; that document is what the inventory
cache stores. Accounts and regions are queried concurrently: one session per account (a role
assumed with its external ID in refreshable 900-second sessions, or a named profile, or the hub's
own credentials), one client per account, region and service.
"""

import datetime
import threading
from concurrent.futures import ThreadPoolExecutor

try:
    from botocore.exceptions import BotoCoreError
    from botocore.exceptions import ClientError
except ImportError:  # reported by the inventory plugin
    BotoCoreError = ClientError = Exception
    DeferredRefreshableCredentials = object

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import clients
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import COLLECTION_NAME
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import COLLECTION_VERSION
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_CUSTOMER
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_DRS_TARGET
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_DRS_TARGET_VALUE
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_ENABLED
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_NAME
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils.resources import RAW_FORMAT

ROLE_SESSION_SECONDS = 900
# botocore refreshes role credentials 15 minutes before they expire: with 900-second sessions that
# would be an AssumeRole before every request. Refresh in the last 5 (advisory) / 2 (mandatory) minutes.
REFRESH_WINDOW_SECONDS = 5 * 60
INSTANCE_FILTER_BATCH = 200  # EC2 accepts at most 200 values per filter
USER_AGENT = f"{COLLECTION_NAME}/{COLLECTION_VERSION} dr_resources-inventory"


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_reason(exc):
    """A short, secret-free reason for an account or region that did not answer."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        op = getattr(exc, "operation_name", None)
        where = f" ({op})" if op else ""
        return f"{err.get('Code', 'ClientError')}{where}: {err.get('Message', str(exc))}"
    return f"{type(exc).__name__}: {exc}"


def customer_filter_values(customers):
    """Tag values to ask the tagging API for: it compares exactly, the collection compares without case."""
    values = []
    for customer in customers or []:
        for variant in (customer, customer.strip(), customer.strip().lower(), customer.strip().upper(),
                        customer.strip().title()):
            if variant and variant not in values:
                values.append(variant)
    return values


def tag_list_to_dict(tags):
    return {t.get("Key"): t.get("Value") for t in tags or [] if t.get("Key") is not None}


# One implementation of 900-second, late-refreshing role sessions for modules and the inventory.
ShortSessionCredentials = clients.ShortSessionCredentials
role_session = clients.assumed_role_session


class AccountSessions:
    """One boto3 session per account, created on first use; one client per (account, region, service)."""

    def __init__(self, base_session, endpoint_url=None, assume_role=None, botocore_config=None):
        # Every client of every account follows the collection's retry policy (module_utils/clients.py).
        self.base_session = clients.install_retry_policy(base_session)
        self.endpoint_url = endpoint_url
        self._assume_role = assume_role or role_session
        self._config = botocore_config
        self._sessions = {}
        self._clients = {}
        self._lock = threading.Lock()
        self._account_locks = {}

    def _account_lock(self, account_id):
        with self._lock:
            return self._account_locks.setdefault(account_id, threading.Lock())

    def session(self, spec):
        """The account's session; raises on an account that cannot be reached (reason in the message)."""
        account_id = spec["account_id"]
        with self._account_lock(account_id):
            if account_id in self._sessions:
                return self._sessions[account_id]
            if spec.get("role_arn"):
                session = self._assume_role(
                    self.base_session, spec["role_arn"], spec.get("external_id"), spec.get("session_name"),
                    region=spec.get("primary_region"), endpoint_url=self.endpoint_url, config=self._config,
                )
                # Fetch the first credentials now, so that a role that cannot be assumed is reported
                # once for the account instead of once per region and service.
                session.get_credentials().get_frozen_credentials()
            elif spec.get("profile"):
                session = clients.retrying_session(profile_name=spec["profile"])
                if session.get_credentials() is None:
                    raise ValueError(f"profile {spec['profile']!r} has no credentials")
            else:
                session = self.base_session
            self._sessions[account_id] = session
            return session

    def client(self, spec, service, region):
        key = (spec["account_id"], region, service)
        with self._lock:
            if key in self._clients:
                return self._clients[key]
        session = self.session(spec)
        with self._account_lock(spec["account_id"]):  # boto3 sessions are not thread-safe
            kwargs = {"region_name": region, "config": self._config}
            if self.endpoint_url:
                kwargs["endpoint_url"] = self.endpoint_url
            client = session.client(service, **kwargs)
        with self._lock:
            return self._clients.setdefault(key, client)


def default_botocore_config():
    return clients.retrying_config(user_agent_extra=USER_AGENT, connect_timeout=5, read_timeout=60)


def tagged_resources(client, customers=None):
    """Every resource carrying dr:enabled (any value: wrong values are reported, not skipped)."""
    filters = [{"Key": TAG_ENABLED}]
    if customers:
        filters.append({"Key": TAG_CUSTOMER, "Values": customer_filter_values(customers)})
    found = []
    for page in client.get_paginator("get_resources").paginate(TagFilters=filters, ResourcesPerPage=100):
        for item in page.get("ResourceTagMappingList", []):
            found.append({"arn": item["ResourceARN"], "tags": tag_list_to_dict(item.get("Tags"))})
    return found


def autoscaling_groups(client, customers=None):
    """Auto Scaling groups: the tagging API never returns them, so ask Auto Scaling itself."""
    filters = [{"Name": "tag-key", "Values": [TAG_ENABLED]}]
    if customers:
        filters.append({"Name": f"tag:{TAG_CUSTOMER}", "Values": customer_filter_values(customers)})
    found = []
    for page in client.get_paginator("describe_auto_scaling_groups").paginate(Filters=filters):
        for group in page.get("AutoScalingGroups", []):
            found.append({"arn": group["AutoScalingGroupARN"], "tags": tag_list_to_dict(group.get("Tags"))})
    return found


def eventbridge_endpoints(client, tagged):
    """EventBridge global endpoints homed in this region: endpoints take no tags, so an endpoint carries the tags
    of its primary event bus (dr:enabled there protects the endpoint). The bus is then the endpoint's, not a
    resource of its own. Returns the endpoints to add; consumed bus entries are removed from ``tagged``."""
    by_arn = {item["arn"]: item for item in tagged}
    found = []
    try:
        endpoints = client.list_endpoints().get("Endpoints", [])
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("AccessDeniedException", "UnknownOperationException"):
            return []
        raise
    for endpoint in endpoints:
        buses = [b.get("EventBusArn") for b in endpoint.get("EventBuses") or []]
        primary = by_arn.get(buses[0]) if buses else None
        if primary is None:
            continue
        routing = (endpoint.get("RoutingConfig") or {}).get("FailoverConfig") or {}
        found.append({"arn": endpoint["Arn"], "tags": dict(primary["tags"]), "eventbridge": {
            "kind": "endpoint", "endpoint_name": endpoint["Name"], "home_region": endpoint["Arn"].split(":")[3],
            "health_check_arn": (routing.get("Primary") or {}).get("HealthCheck"),
            "secondary_region": (routing.get("Secondary") or {}).get("Route"), "event_buses": buses}})
        tagged.remove(primary)
    return found


def efs_replications(client, tagged):
    """The DR copy of each tagged EFS file system (its replication configuration, either direction), so that a run
    from the cached inventory (the primary region down) still knows it. Mutates the tagged entries."""
    for item in tagged:
        parts = item["arn"].split(":")
        if parts[2:3] != ["elasticfilesystem"] or ":file-system/" not in item["arn"]:
            continue
        fs_id = item["arn"].rsplit("/", 1)[-1]
        spec = {"file_system_id": fs_id}
        try:
            replications = client.describe_replication_configurations(FileSystemId=fs_id).get("Replications", [])
        except ClientError:
            replications = []  # no replication (ReplicationNotFound) or not allowed: PREFLIGHT reports it
        for config in replications[:1]:
            destination = (config.get("Destinations") or [{}])[0]
            if config.get("SourceFileSystemId") == fs_id:
                spec.update(peer_file_system_id=destination.get("FileSystemId"), peer_region=destination.get("Region"))
            else:
                spec.update(peer_file_system_id=config.get("SourceFileSystemId"),
                            peer_region=config.get("SourceFileSystemRegion"))
            spec["replication_status"] = destination.get("Status")
        item["efs"] = spec


def opensearch_domains(client, tagged):
    """The DR domain of each tagged OpenSearch domain: its managed replication peer (``DescribeDomainReplication``),
    else the domain that follows it by cross-cluster replication (its inbound connection), so that a run from the
    cached inventory (the primary region down) still knows it. Mutates the tagged entries."""
    for item in tagged:
        if item["arn"].split(":")[2:3] != ["es"] or ":domain/" not in item["arn"]:
            continue
        name = item["arn"].rsplit("/", 1)[-1]
        spec = {"domain_name": name}
        try:
            answer = client.describe_domain_replication(DomainName=name)
        except ClientError:
            answer = {}  # not replicating, or not allowed: PREFLIGHT reports it
        peers = answer.get("Peers") or []
        if peers:
            peer_arn = peers[0].get("PeerDomainArn") or ""
            spec.update(mode="managed", peer_domain_name=peer_arn.rsplit("/", 1)[-1], peer_region=peer_arn.split(":")[3]
                        if peer_arn.count(":") >= 5 else None, role=answer.get("Role"),
                        replication_status=peers[0].get("Status"))
        else:
            try:
                inbound = client.describe_inbound_connections(
                    Filters=[{"Name": "remote-domain-info.domain-name", "Values": [name]}]).get("Connections", [])
            except ClientError:
                inbound = []
            live = [c for c in inbound if (c.get("ConnectionStatus") or {}).get("StatusCode") in (
                "ACTIVE", "APPROVED", "PROVISIONING", "PENDING_ACCEPTANCE")]
            if live:
                follower = live[0]["LocalDomainInfo"]["AWSDomainInformation"]
                spec.update(mode="ccr", peer_domain_name=follower.get("DomainName"), peer_region=follower.get("Region"),
                            connection_alias=live[0].get("ConnectionAlias"), connection_id=live[0].get("ConnectionId"))
        item["opensearch"] = spec


def rds_cluster_members(client, instance_arns):
    """Map DB instance ARNs to their Aurora cluster: members are failed over with the cluster, not alone."""
    members = {}
    arns_list = sorted(set(instance_arns))
    for start in range(0, len(arns_list), 100):
        batch = arns_list[start:start + 100]
        pages = client.get_paginator("describe_db_instances").paginate(
            Filters=[{"Name": "db-instance-id", "Values": batch}])
        for page in pages:
            for instance in page.get("DBInstances", []):
                if instance.get("DBClusterIdentifier"):
                    members[instance["DBInstanceArn"]] = instance["DBClusterIdentifier"]
    return members


def aurora_global_clusters(client):
    """Aurora global databases and their members: the tagging API does not return global clusters."""
    found = []
    for page in client.get_paginator("describe_global_clusters").paginate():
        for cluster in page.get("GlobalClusters", []):
            found.append({
                "arn": cluster["GlobalClusterArn"], "identifier": cluster["GlobalClusterIdentifier"],
                "engine": cluster.get("Engine"), "engine_version": cluster.get("EngineVersion"),
                "tags": tag_list_to_dict(cluster.get("TagList")),
                "members": [{"arn": m["DBClusterArn"], "region": m["DBClusterArn"].split(":")[3],
                             "is_writer": bool(m.get("IsWriter"))} for m in cluster.get("GlobalClusterMembers", [])],
            })
    return found


def rds_replication_links(client, instance_arns):
    """Replication links of non-Aurora DB instances: a cross-region replica pair is one host, not two."""
    links = {}
    arns_list = sorted(set(instance_arns))
    for start in range(0, len(arns_list), 100):
        pages = client.get_paginator("describe_db_instances").paginate(
            Filters=[{"Name": "db-instance-id", "Values": arns_list[start:start + 100]}])
        for page in pages:
            for instance in page.get("DBInstances", []):
                if instance.get("DBClusterIdentifier"):
                    continue
                links[instance["DBInstanceArn"]] = {
                    "identifier": instance["DBInstanceIdentifier"], "engine": instance.get("Engine"),
                    "source": instance.get("ReadReplicaSourceDBInstanceIdentifier"),
                    "replicas": list(instance.get("ReadReplicaDBInstanceIdentifiers") or []),
                }
    return links


def elasticache_datastores(client, arns):
    """ElastiCache: each tagged replication group's global datastore, and each datastore's members by region.

    A global datastore is one failover unit however many of its members are tagged; resources.py folds them onto one
    host with ``dr_elasticache``. Returns ``{"groups": {arn: {...}}, "globals": {global id: {...}}}``.
    """
    groups, global_ids = {}, set()
    for arn in arns:
        kind, dummy, name = arn.split(":", 5)[5].partition(":")
        if kind == "globalreplicationgroup":
            global_ids.add(name)
            continue
        try:
            found = client.describe_replication_groups(ReplicationGroupId=name)["ReplicationGroups"]
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("ReplicationGroupNotFoundFault", "ReplicationGroupNotFound"):
                continue
            raise
        info = (found[0].get("GlobalReplicationGroupInfo") or {}) if found else {}
        groups[arn] = {"replication_group_id": name, "global_replication_group_id":
                       info.get("GlobalReplicationGroupId") or None,
                       "role": (info.get("GlobalReplicationGroupMemberRole") or "").upper() or None,
                       "engine": found[0].get("Engine") if found else None,
                       "cache_node_type": found[0].get("CacheNodeType") if found else None}
        if groups[arn]["global_replication_group_id"]:
            global_ids.add(groups[arn]["global_replication_group_id"])
    datastores = {}
    for global_id in sorted(global_ids):
        try:
            found = client.describe_global_replication_groups(
                GlobalReplicationGroupId=global_id, ShowMemberInfo=True)["GlobalReplicationGroups"]
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") == "GlobalReplicationGroupNotFoundFault":
                continue
            raise
        for item in found:
            datastores[global_id] = {
                "global_replication_group_id": global_id, "arn": item.get("ARN"), "status": item.get("Status"),
                "engine": item.get("Engine"), "cache_node_type": item.get("CacheNodeType"),
                "members": [{"replication_group_id": m.get("ReplicationGroupId"),
                             "region": m.get("ReplicationGroupRegion"), "role": m.get("Role"),
                             "status": m.get("Status")} for m in item.get("Members") or []],
            }
    return {"groups": groups, "globals": datastores}


def elasticache_detached(client):
    """DR members an emergency failover detached (tag dr:elasticache-detached-from): ``{global id: {region: id}}``."""
    detached = {}
    pages = client.get_paginator("get_resources").paginate(
        TagFilters=[{"Key": "dr:elasticache-detached-from"}], ResourceTypeFilters=["elasticache:replicationgroup"])
    for page in pages:
        for item in page.get("ResourceTagMappingList", []):
            tags = tag_list_to_dict(item.get("Tags"))
            global_id = tags.get("dr:elasticache-detached-from")
            parts = item["ResourceARN"].split(":")
            if not global_id or len(parts) < 7 or parts[5] != "replicationgroup":
                continue
            pair = detached.setdefault(global_id, {})
            pair[parts[3]] = parts[6]
            for peer in (tags.get("dr:elasticache-detached-peers") or "").split(","):
                region, dummy, group_id = peer.partition("=")
                if region and group_id:
                    pair.setdefault(region.strip(), group_id.strip())
    return detached


def memorydb_clusters(client, arns):
    """MemoryDB: each tagged cluster's node type and multi-Region cluster, and each multi-Region cluster's members.

    Returns ``{"clusters": {arn: {...}}, "multi_region": {name: {"clusters": {region: cluster}}}}``.
    """
    clusters, multi_names = {}, set()
    for arn in arns:
        kind, dummy, name = arn.split(":", 5)[5].partition("/")
        if kind == "multiregioncluster":
            multi_names.add(name)
            continue
        try:
            found = client.describe_clusters(ClusterName=name)["Clusters"]
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") == "ClusterNotFoundFault":
                continue
            raise
        if not found:
            continue
        clusters[arn] = {"cluster_name": name, "multi_region_cluster_name": found[0].get("MultiRegionClusterName"),
                         "node_type": found[0].get("NodeType"), "status": found[0].get("Status")}
        if clusters[arn]["multi_region_cluster_name"]:
            multi_names.add(clusters[arn]["multi_region_cluster_name"])
    multi = {}
    for name in sorted(multi_names):
        try:
            found = client.describe_multi_region_clusters(MultiRegionClusterName=name, ShowClusterDetails=True)[
                "MultiRegionClusters"]
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") == "MultiRegionClusterNotFoundFault":
                continue
            raise
        for item in found:
            multi[name] = {"arn": item.get("ARN"), "node_type": item.get("NodeType"),
                           "clusters": {c["Region"]: c["ClusterName"] for c in item.get("Clusters") or []}}
    return {"clusters": clusters, "multi_region": multi}


def drs_source_servers(client):
    """DRS source servers of the region, reduced to what the inventory needs."""
    servers = []
    try:
        pages = list(client.get_paginator("describe_source_servers").paginate(filters={}))
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "UninitializedAccountException":
            return []  # DRS never initialized in this account and region: nothing replicates here
        raise
    for page in pages:
        for item in page.get("items", []):
            hints = (item.get("sourceProperties") or {}).get("identificationHints") or {}
            cloud = item.get("sourceCloudProperties") or {}
            hostname = hints.get("hostname") or (hints.get("fqdn") or "").split(".")[0] or None
            servers.append({
                "source_server_id": item["sourceServerID"],
                "arn": item.get("arn"),
                "tags": dict(item.get("tags") or {}),
                "hostname": hostname,
                "aws_instance_id": hints.get("awsInstanceID"),
                "origin_region": cloud.get("originRegion"),
                "origin_account_id": cloud.get("originAccountID"),
                "replication_direction": item.get("replicationDirection"),
                "replication_state": (item.get("dataReplicationInfo") or {}).get("dataReplicationState"),
            })
    return servers


def _instance_record(instance):
    tags = tag_list_to_dict(instance.get("Tags"))
    return {
        "instance_id": instance["InstanceId"],
        "name": tags.get(TAG_NAME),
        "tags": tags,
        "state": (instance.get("State") or {}).get("Name"),
        "private_ip": instance.get("PrivateIpAddress"),
        "subnet_id": instance.get("SubnetId"),
        "security_group_ids": [g["GroupId"] for g in instance.get("SecurityGroups") or []],
    }


def describe_instances(client, filters):
    found = []
    for page in client.get_paginator("describe_instances").paginate(Filters=filters):
        for reservation in page.get("Reservations", []):
            found.extend(_instance_record(i) for i in reservation.get("Instances", []))
    return found


def launch_targets(client):
    """Pre-provisioned DRS launch-into targets of the DR region."""
    return describe_instances(client, [{"Name": f"tag:{TAG_DRS_TARGET}", "Values": [TAG_DRS_TARGET_VALUE]}])


def instances_by_id(client, instance_ids):
    """The given instances, in batches; IDs that no longer exist are simply absent."""
    ids = sorted(set(instance_ids))
    found = {}
    for start in range(0, len(ids), INSTANCE_FILTER_BATCH):
        batch = ids[start:start + INSTANCE_FILTER_BATCH]
        for record in describe_instances(client, [{"Name": "instance-id", "Values": batch}]):
            found[record["instance_id"]] = record
    return found


def _scan_region(sessions, spec, region, customers):
    block = {"error": None, "source": "live", "tagged": [], "instances": {}}
    try:
        block["tagged"] = tagged_resources(sessions.client(spec, "resourcegroupstaggingapi", region), customers)
        block["tagged"].extend(autoscaling_groups(sessions.client(spec, "autoscaling", region), customers))
        if any(t["arn"].split(":")[2:3] == ["events"] for t in block["tagged"]):
            block["tagged"].extend(eventbridge_endpoints(sessions.client(spec, "events", region), block["tagged"]))
        if any(t["arn"].split(":")[2:3] == ["elasticfilesystem"] for t in block["tagged"]):
            efs_replications(sessions.client(spec, "efs", region), block["tagged"])
        if any(t["arn"].split(":")[2:3] == ["es"] for t in block["tagged"]):
            opensearch_domains(sessions.client(spec, "opensearch", region), block["tagged"])
        db_instances = [t["arn"] for t in block["tagged"] if t["arn"].split(":")[2:3] == ["rds"]
                        and t["arn"].split(":")[5:6] == ["db"]]
        if any(t["arn"].split(":")[2:3] == ["rds"] and t["arn"].split(":")[5:6] == ["cluster"]
               for t in block["tagged"]):
            block["aurora_global_clusters"] = aurora_global_clusters(sessions.client(spec, "rds", region))
        if db_instances:
            block["rds_cluster_members"] = rds_cluster_members(sessions.client(spec, "rds", region), db_instances)
            block["rds_replication"] = rds_replication_links(sessions.client(spec, "rds", region), db_instances)
        cache_arns = [t["arn"] for t in block["tagged"] if t["arn"].split(":")[2:3] == ["elasticache"]]
        if cache_arns:
            block["elasticache"] = elasticache_datastores(sessions.client(spec, "elasticache", region), cache_arns)
        memorydb_arns = [t["arn"] for t in block["tagged"] if t["arn"].split(":")[2:3] == ["memorydb"]]
        if memorydb_arns:
            block["memorydb"] = memorydb_clusters(sessions.client(spec, "memorydb", region), memorydb_arns)
        if region == spec["dr_region"] and any(t["arn"].split(":")[2:3] == ["elasticache"] for t in block["tagged"]):
            block.setdefault("elasticache", {})["detached"] = elasticache_detached(
                sessions.client(spec, "resourcegroupstaggingapi", region))
        if region == spec["dr_region"]:
            block["drs_servers"] = drs_source_servers(sessions.client(spec, "drs", region))
            block["targets"] = launch_targets(sessions.client(spec, "ec2", region))
    except (ClientError, BotoCoreError) as e:
        block = {"error": error_reason(e), "source": "live"}
    return block


def _lookup_instances(sessions, spec, region, block, instance_ids):
    try:
        block["instances"].update(instances_by_id(sessions.client(spec, "ec2", region), instance_ids))
    except (ClientError, BotoCoreError) as e:
        block.clear()
        block.update({"error": error_reason(e), "source": "live"})


def discover(sessions, accounts, customers=None, max_workers=8, extra_regions=()):
    """Query every account and region concurrently; return the raw discovery result.

    ``accounts``: dicts with account_id, name, primary_region, dr_region and profile or role_arn
    (+ external_id, session_name). An account that cannot be reached gets ``error`` (its reason);
    a region that does not answer gets ``error`` on its block. Nothing here raises for AWS errors.
    """
    result_accounts = []
    by_id = {}
    for spec in accounts:
        entry = {
            "account_id": spec["account_id"], "name": spec.get("name"),
            "primary_region": spec["primary_region"], "dr_region": spec["dr_region"],
            "credentials": {k: spec[k] for k in ("profile", "role_arn") if spec.get(k)},
            "error": None, "regions": {},
        }
        result_accounts.append(entry)
        by_id[spec["account_id"]] = (spec, entry)
    with ThreadPoolExecutor(max_workers=max(1, max_workers)) as pool:
        # Sessions first (AssumeRole happens here), so that one unreachable account is one report.
        futures = {spec["account_id"]: pool.submit(sessions.session, spec) for spec in accounts}
        for account_id, future in futures.items():
            try:
                future.result()
            except Exception as e:  # botocore raises many unrelated types for credential problems
                by_id[account_id][1]["error"] = error_reason(e)
        scans = {}
        for spec, entry in by_id.values():
            if entry["error"]:
                continue
            regions = [spec["primary_region"], spec["dr_region"]] + [r for r in extra_regions if r]
            for region in dict.fromkeys(regions):
                scans[(spec["account_id"], region)] = pool.submit(_scan_region, sessions, spec, region, customers)
        for (account_id, region), future in scans.items():
            by_id[account_id][1]["regions"][region] = future.result()
        # Source EC2 instances of DRS servers, in their origin account and region (DRS does not copy tags).
        wanted = {}
        for spec, entry in by_id.values():
            for block in entry["regions"].values():
                for server in block.get("drs_servers") or []:
                    if not server.get("aws_instance_id"):
                        continue
                    origin_account = server.get("origin_account_id")
                    if origin_account not in by_id or by_id[origin_account][1]["error"]:
                        origin_account = spec["account_id"]
                    origin_region = server.get("origin_region") or spec["primary_region"]
                    wanted.setdefault((origin_account, origin_region), set()).add(server["aws_instance_id"])
        lookups = []
        for (account_id, region), ids in sorted(wanted.items()):
            spec, entry = by_id[account_id]
            empty = {"error": None, "source": "live", "tagged": [], "instances": {}}
            block = entry["regions"].setdefault(region, empty)
            if block.get("error"):
                continue
            block.setdefault("instances", {})
            lookups.append(pool.submit(_lookup_instances, sessions, spec, region, block, ids))
        for future in lookups:
            future.result()
    return {"format": RAW_FORMAT, "discovered_at": utc_now(), "accounts": result_accounts}


def fill_from_cache(fresh, cached):
    """Replace what did not answer in ``fresh`` by the same account/region of ``cached``.

    Used in emergency runs (the primary region down): blocks taken from the cache are marked
    ``source: cache`` with ``cached_at``, so hosts built from them say so. Returns
    ``(merged, substituted)`` where ``substituted`` lists ``(account_id, region)`` pairs
    (region None for a whole account).
    """
    if not cached or cached.get("format") != RAW_FORMAT:
        return fresh, []
    cached_accounts = {a["account_id"]: a for a in cached.get("accounts", [])}
    cached_at = cached.get("discovered_at")
    substituted = []
    merged_accounts = []
    for account in fresh.get("accounts", []):
        old = cached_accounts.get(account["account_id"])
        account = dict(account, regions=dict(account.get("regions") or {}))
        if old and not old.get("error"):
            if account.get("error"):
                account["regions"] = {}
                for region, block in (old.get("regions") or {}).items():
                    if not block.get("error"):
                        account["regions"][region] = dict(block, source="cache", cached_at=cached_at)
                account["stale_reason"], account["error"] = account["error"], None
                substituted.append((account["account_id"], None))
            else:
                for region, block in list(account["regions"].items()):
                    old_block = (old.get("regions") or {}).get(region)
                    if block.get("error") and old_block and not old_block.get("error"):
                        account["regions"][region] = dict(old_block, source="cache", cached_at=cached_at,
                                                          stale_reason=block["error"])
                        substituted.append((account["account_id"], region))
        merged_accounts.append(account)
    return dict(fresh, accounts=merged_accounts), substituted
