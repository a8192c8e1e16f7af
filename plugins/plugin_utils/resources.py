# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Turn a raw discovery result into inventory hosts, host variables and groups.

Pure functions, no AWS call: the inventory plugin feeds them with what discovery.py collected
(or with the cached copy of it), and the unit tests feed them with fixture data.

The raw discovery result (the cached document)::

    {"format": 1, "discovered_at": "2025-01-01T00:00:00Z",
     "accounts": [{"account_id": "210987654321", "name": "workload-a",
                   "primary_region": "us-east-1", "dr_region": "us-west-2",
                   "credentials": {"role_arn": "..."},          # never the external ID
                   "error": None,                                 # or why the account is unreachable
                   "regions": {"us-east-1": {
                        "error": None, "source": "live",           # "cache" when taken from the last cache
                        "tagged": [{"arn": "...", "tags": {...}}], # tagging API + Auto Scaling groups
                        "drs_servers": [{...}],                    # DR region: DRS source servers
                        "targets": [{...}],                        # DR region: AWSDRS launch-into targets
                        "instances": {"i-...": {...}}}}}]}         # source EC2 instances of DRS servers
"""

import re
import sys

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import PRIORITY_RANK
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_CUSTOMER
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_DEPENDENCIES
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_DRS_TARGET
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_DRS_TARGET_VALUE
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_ENABLED
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_ENVIRONMENT
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_HEALTH_URL
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_NAME
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_PRIORITY
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_RPO
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_RTO
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_STRATEGY
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.common import TAG_WAVE
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import arns
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import grouping
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import technologies
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import validation

RAW_FORMAT = 1

# The recovery strategy a technology uses when dr:recovery-strategy is not set.
DEFAULT_STRATEGY = technologies.default_strategies()

# Tags on which a DRS source server and its source EC2 instance must agree.
_DR_TAG_PREFIX = "dr:"
_SCOPE_TAGS = (TAG_CUSTOMER, TAG_ENVIRONMENT)
_DEAD_TARGET_STATES = ("shutting-down", "terminated")


def normalize_name(value):
    """Names compare without case and surrounding whitespace (target Name == source hostname)."""
    return (value or "").strip().lower()


def _is_dr_tag(key):
    return key.startswith(_DR_TAG_PREFIX) or key in _SCOPE_TAGS


def _tags_equal(left, right):
    return normalize_name(left) == normalize_name(right)


def merge_drs_tags(arn, server_tags, instance_tags, instance_id):
    """Effective tags of a DRS source server: its own tags plus its source EC2 instance's tags.

    DRS does not copy EC2 tags, so application teams tag either side. Where both carry a DR tag
    with different values the tag is left out of the result and a problem names both values.
    Returns ``(tags, problems, conflicting_tag_names)``.
    """
    merged = dict(instance_tags or {})
    problems, conflicts = [], set()
    for key, value in (server_tags or {}).items():
        other = merged.get(key)
        if _is_dr_tag(key) and other is not None and not _tags_equal(value, other):
            conflicts.add(key)
            problems.append(validation.conflict_problem(arn, key, value, other, instance_id))
            continue
        merged[key] = value
    for key in conflicts:
        merged.pop(key, None)
    return merged, problems, conflicts


def _host_base_name(value):
    text = re.sub(r"\s+", "-", (value or "").strip())
    return re.sub(r"[^A-Za-z0-9._@-]", "_", text)


def _enabled_state(tags):
    """'yes', 'no' or 'invalid' for the dr:enabled tag of an effective tag set."""
    if TAG_ENABLED not in tags:
        return "no"
    parsed = validation.parse_enabled(tags.get(TAG_ENABLED))
    if parsed is None:
        return "invalid"
    return "yes" if parsed else "no"


def _in_scope(tags, customers, environments):
    if customers and normalize_name(tags.get(TAG_CUSTOMER)) not in customers:
        return False
    if environments and normalize_name(tags.get(TAG_ENVIRONMENT)) not in environments:
        return False
    return True


class _Candidate(dict):
    """One DR-enabled resource on its way to becoming a host (a dict with attribute defaults)."""

    def __init__(self, **kwargs):
        defaults = dict(problems=[], skip_tags=set(), sources=set(), source_server_id=None, hostname=None,
                        source_instance_id=None, replication_state=None, target=None)
        defaults.update(kwargs)
        super().__init__(**defaults)


def _collect(raw):
    """Candidates (not yet filtered by dr:enabled or scope) and the launch-into targets, per account/region."""
    accounts = {a["account_id"]: a for a in raw.get("accounts", [])}
    instances, tagged_ec2, targets, candidates = {}, {}, {}, []
    for account in raw.get("accounts", []):
        for region, block in (account.get("regions") or {}).items():
            for instance_id, instance in (block.get("instances") or {}).items():
                instances[(account["account_id"], region, instance_id)] = (instance, block.get("source", "live"))
    seen_arns = set()
    aurora_members = _aurora_membership(accounts)
    rds_members = {}
    for account_id, account in accounts.items():
        for region, block in sorted((account.get("regions") or {}).items()):
            source = block.get("source", "live")
            key_targets = targets.setdefault((account_id, region), [])
            for target in block.get("targets") or []:
                if target.get("state") not in _DEAD_TARGET_STATES:
                    key_targets.append(dict(target, account_id=account_id, region=region))
            for item in block.get("tagged") or []:
                arn, tags = item["arn"], dict(item.get("tags") or {})
                if (account_id, arn) in seen_arns:
                    continue  # global resources (Route 53) can come back from more than one region
                seen_arns.add((account_id, arn))
                try:
                    parts = arns.parse_arn(arn)
                except arns.ArnError:
                    continue
                if parts["service"] == "drs":
                    continue  # the DRS listing is authoritative for source servers
                if parts["service"] == "ec2" and parts["resource_type"] == "instance":
                    if tags.get(TAG_DRS_TARGET) == TAG_DRS_TARGET_VALUE:
                        continue  # a pre-provisioned target, attached to its source server
                    tagged_ec2[(account_id, region, parts["resource_id"])] = (arn, tags, source)
                    continue
                link = (block.get("rds_replication") or {}).get(arn)
                if link and (link.get("source") or link.get("replicas")):
                    rds_members[arn] = dict(link, account_id=account_id, region=region, tags=tags, source_block=source)
                    continue  # one half of a cross-region replica pair: the pair is the host
                if arn in aurora_members:
                    aurora_members[arn]["tagged"].append((arn, tags, source))
                    continue  # an Aurora global database member: the global cluster is the host
                members = block.get("rds_cluster_members") or {}
                if arn in members:
                    cluster_arn = (f"arn:{parts['partition']}:rds:{parts['region']}:{parts['account']}"
                                   f":cluster:{members[arn]}")
                    if any(t["arn"] == cluster_arn for t in block.get("tagged") or []):
                        continue  # an Aurora cluster member: the cluster is the host
                technology = arns.classify(arn)
                candidate = _Candidate(
                    arn=arn, technology=technology, account_id=account_id, region=_resource_region(technology, region),
                    tags=tags,
                    resource_id=parts["resource_id"], resource_name=arns.resource_name(arn),
                    base=tags.get(TAG_NAME) or arns.resource_name(arn),
                )
                if parts["service"] == "autoscaling":
                    candidate["resource_id"] = candidate["resource_name"]
                candidate["technology_vars"] = technology_vars(technology, parts, item)
                candidate["sources"].add(source)
                if technology == "elasticache":
                    candidate["elasticache_raw"] = block.get("elasticache") or {}
                if technology == "memorydb":
                    candidate["memorydb_raw"] = block.get("memorydb") or {}
                if technology is None:
                    candidate["problems"].append(validation.problem(
                        arn, TAG_ENABLED, tags.get(TAG_ENABLED),
                        "this resource type is not failed over by the collection", arns.unsupported_fix(arn)))
                elif arn in members:
                    candidate["problems"].append(validation.problem(
                        arn, TAG_ENABLED, tags.get(TAG_ENABLED),
                        f"this DB instance is a member of the Aurora cluster {members[arn]}, which is not tagged",
                        f"tag the cluster {members[arn]} with the DR tags instead, and remove dr:enabled here"))
                candidates.append(candidate)
    candidates.extend(_aurora_candidates(accounts, aurora_members))
    candidates.extend(_rds_pair_candidates(accounts, rds_members))
    candidates = fold_elasticache(candidates, accounts)
    candidates = fold_memorydb(candidates, accounts)
    consumed = set()
    for account_id, account in accounts.items():
        for region, block in sorted((account.get("regions") or {}).items()):
            for server in block.get("drs_servers") or []:
                if server.get("replication_direction") == "FAILBACK":
                    continue  # transient servers of a failback, not protected resources
                candidates.append(_drs_candidate(server, account_id, account, region, block, accounts, instances))
                instance_id = server.get("aws_instance_id")
                if instance_id:
                    consumed.add(_origin_key(server, account_id, account, accounts) + (instance_id,))
    for key, (arn, tags, source) in sorted(tagged_ec2.items()):
        if key in consumed:
            continue
        account_id, region, instance_id = key
        candidate = _Candidate(
            arn=arn, technology="drs", account_id=account_id, region=region, tags=tags,
            resource_id=instance_id, resource_name=instance_id, base=tags.get(TAG_NAME) or instance_id,
            source_instance_id=instance_id,
        )
        candidate["sources"].add(source)
        candidate["problems"].append(validation.problem(
            arn, TAG_ENABLED, tags.get(TAG_ENABLED),
            f"no DRS source server in account {account_id} replicates EC2 instance {instance_id}",
            "install the AWS Replication Agent on the instance (or add it to DRS) so that it replicates "
            "to the DR region, or remove dr:enabled from the instance",
        ))
        candidates.append(candidate)
    return candidates, targets


def _eventbridge_vars(parts, item):
    """dr_eventbridge: a rule's name and event bus (``rule/<name>`` or ``rule/<bus>/<name>``), or a global
    endpoint's name, home region, health check, secondary region and buses (from discovery)."""
    if item.get("eventbridge"):
        return dict(item["eventbridge"])
    path = parts["resource_id"].split("/")
    return {"kind": "rule", "rule_name": path[-1], "event_bus_name": path[0] if len(path) > 1 else "default"}


def _efs_vars(parts, item):
    """dr_efs: the file system and, from its replication configuration, its DR copy (discovery)."""
    return dict(item.get("efs") or {"file_system_id": parts["resource_id"]})


def _fsx_vars(parts, _item):
    """dr_fsx: the file system whose backups are copied to the DR region."""
    return {"file_system_id": parts["resource_id"]}


def _lambda_vars(parts, item):
    """dr_lambda: the function (the same name in both regions) and the alias clients invoke (``dr:alias``; None lets
    the adapter take the function's only alias)."""
    alias = str((item.get("tags") or {}).get("dr:alias") or "").strip() or None
    return {"function_name": parts["resource_id"].split(":")[0], "alias": alias}


def _opensearch_vars(parts, item):
    """dr_opensearch: the domain and, from discovery, its DR domain and how they are paired (managed or ccr)."""
    return dict(item.get("opensearch") or {"domain_name": parts["resource_id"].rsplit("/", 1)[-1]})


# Technology-specific host variables (one mapping per technology, e.g. dr_eventbridge), built from the ARN and what
# discovery collected for the resource.
TECHNOLOGY_VARS = {
    "eventbridge": ("dr_eventbridge", _eventbridge_vars),
    "efs": ("dr_efs", _efs_vars),
    "fsx": ("dr_fsx", _fsx_vars),
    "lambda": ("dr_lambda", _lambda_vars),
    "opensearch": ("dr_opensearch", _opensearch_vars),
}


def technology_vars(technology, parts, item):
    name, build = TECHNOLOGY_VARS.get(technology, (None, None))
    return {name: build(parts, item)} if build else {}


def _aurora_membership(accounts):
    """``{member cluster ARN: {"global": global cluster, "account_id", "tagged": []}}`` of every discovered Aurora
    global database (discovery reads them with describe_global_clusters: the tagging API does not return them)."""
    members = {}
    for account_id, account in accounts.items():
        for _region, block in sorted((account.get("regions") or {}).items()):
            for cluster in block.get("aurora_global_clusters") or []:
                for member in cluster.get("members") or []:
                    members.setdefault(member["arn"], {"global": cluster, "account_id": account_id, "tagged": []})
    return members


def _aurora_candidates(accounts, aurora_members):
    """One host per Aurora global database with a DR-tagged member: its tags are its members' tags.

    Members must agree on the DR and scope tags and each must carry Customer and Environment (the modules' scope
    guard checks every member): a disagreement is a problem on the host, which PREFLIGHT refuses before any change.
    """
    by_global = {}
    for entry in aurora_members.values():
        if entry["tagged"]:
            by_global.setdefault((entry["account_id"], entry["global"]["arn"]), entry["global"])
    candidates = []
    for (account_id, global_arn), cluster in sorted(by_global.items()):
        account = accounts[account_id]
        members = sorted(cluster.get("members") or [], key=lambda m: (not m.get("is_writer"), m["arn"]))
        member_tags = {}
        sources = set()
        for member in members:
            for arn, tags, source in aurora_members[member["arn"]]["tagged"]:
                member_tags[arn] = tags
                sources.add(source)
        tags, problems = dict(cluster.get("tags") or {}), []
        for member in members:
            own = member_tags.get(member["arn"], {})
            for key, value in own.items():
                other = tags.get(key)
                if _is_dr_tag(key) and other is not None and not _tags_equal(value, other):
                    problems.append(validation.problem(
                        global_arn, key, value,
                        f"member {member['arn']} says {key}={value!r}, another member or the global cluster says "
                        f"{key}={other!r}",
                        f"give every member of {cluster['identifier']} the same {key}, or remove the other customer's "
                        "cluster from this global database"))
                    continue
                tags.setdefault(key, value)
        for member in members:
            own = member_tags.get(member["arn"], {})
            for key in _SCOPE_TAGS:
                if key not in own and tags.get(key) is not None:
                    problems.append(validation.problem(
                        global_arn, key, None, f"member {member['arn']} has no {key} tag (every member is checked)",
                        f"tag {member['arn']} with {key}={tags[key]}"))
        by_region = {m["region"]: m for m in members}
        writer = next((m for m in members if m.get("is_writer")), None)
        primary = by_region.get(account.get("primary_region"))
        dr_member = by_region.get(account.get("dr_region"))
        candidate = _Candidate(
            arn=global_arn, technology="aurora", account_id=account_id,
            region=(primary or writer or members[0])["region"] if members else account.get("primary_region"),
            tags=tags, resource_id=cluster["identifier"], resource_name=cluster["identifier"],
            base=tags.get(TAG_NAME) or cluster["identifier"],
        )
        candidate["sources"].update(sources or {"live"})
        candidate["problems"].extend(problems)
        candidate["aurora"] = {
            "global_cluster_identifier": cluster["identifier"],
            "global_cluster_arn": global_arn,
            "engine": cluster.get("engine"),
            "engine_version": cluster.get("engine_version"),
            "writer_region": writer["region"] if writer else None,
            "writer_cluster_arn": writer["arn"] if writer else None,
            "primary_member_arn": primary["arn"] if primary else None,
            "dr_member_arn": dr_member["arn"] if dr_member else None,
            "members": [{"arn": m["arn"], "identifier": m["arn"].split(":")[-1], "region": m["region"],
                         "is_writer": bool(m.get("is_writer"))} for m in members],
        }
        candidates.append(candidate)
    return candidates


def _instance_arn(reference, like):
    """A replication reference (an ARN across regions, an identifier in the same region) as an ARN."""
    if reference.startswith("arn:"):
        return reference
    parts = like.split(":")
    return ":".join(parts[:6]) + ":" + reference if len(parts) > 6 else f"{':'.join(parts[:5])}:db:{reference}"


def _rds_pair_candidates(accounts, rds_members):
    """One host per RDS replication pair (primary + cross-region replica), named after the primary-region instance.

    Tagged halves must agree on DR and scope tags and each must carry Customer and Environment; otherwise the host
    has a problem, which PREFLIGHT refuses before any change.
    """
    groups = {}
    for arn, link in rds_members.items():
        root = _instance_arn(link["source"], arn) if link.get("source") else arn
        group = groups.setdefault((link["account_id"], root), set())
        group.add(arn)
        group.add(root)
        for replica in link.get("replicas") or []:
            group.add(_instance_arn(replica, arn))
    candidates = []
    for (account_id, root), members in sorted(groups.items()):
        account = accounts[account_id]
        by_region = {}
        for arn in sorted(members):
            by_region.setdefault(arn.split(":")[3], arn)
        primary_arn = by_region.get(account.get("primary_region")) or root
        tags, problems, sources = {}, [], set()
        for arn in [root] + sorted(members - {root}):
            link = rds_members.get(arn)
            if link is None:
                problems.append(validation.problem(
                    primary_arn, TAG_CUSTOMER, None, f"the pair's instance {arn} is not DR-tagged",
                    f"tag {arn} with the same DR tags (every instance of the pair is checked)"))
                continue
            sources.add(link["source_block"])
            for key, value in link["tags"].items():
                other = tags.get(key)
                if _is_dr_tag(key) and other is not None and not _tags_equal(value, other):
                    problems.append(validation.problem(
                        primary_arn, key, value, f"instance {arn} says {key}={value!r}, its pair says {other!r}",
                        f"give both instances of the pair the same {key}"))
                    continue
                tags.setdefault(key, value)
        parts = arns.parse_arn(primary_arn)
        candidate = _Candidate(
            arn=primary_arn, technology="rds", account_id=account_id, region=primary_arn.split(":")[3], tags=tags,
            resource_id=parts["resource_id"], resource_name=arns.resource_name(primary_arn),
            base=tags.get(TAG_NAME) or arns.resource_name(primary_arn),
        )
        candidate["sources"].update(sources or {"live"})
        candidate["problems"].extend(problems)
        candidate["rds"] = {
            "instances": {region: arn.split(":")[-1] for region, arn in sorted(by_region.items())},
            "instance_arns": dict(sorted(by_region.items())),
            "source_arn": root,
            "replica_arns": sorted(members - {root}),
            "engine": next((rds_members[a] for a in sorted(members) if a in rds_members), {}).get("engine"),
        }
        candidates.append(candidate)
    return candidates


def fold_elasticache(candidates, accounts):
    """One host per ElastiCache global datastore, with ``dr_elasticache`` (its replication groups per region).

    Teams tag the primary's replication group, the secondaries', the datastore, or all of them: the members of one
    datastore fold onto one host, the replication group in the account's primary region when it is tagged (its ARN
    never changes across failovers), else the datastore itself, else the first tagged member. A replication group
    that belongs to no global datastore stays a host of its own; PREFLIGHT refuses it by name, with the fix.
    """
    kept, by_datastore = [], {}
    detached = {}  # (account, region) -> {global id: {region: group}}: DR members detached by an emergency
    for candidate in candidates:
        raw = candidate.get("elasticache_raw") or {}
        if raw.get("detached"):
            detached[(candidate["account_id"], candidate["region"])] = raw["detached"]
    for candidate in candidates:
        if candidate["technology"] != "elasticache":
            kept.append(candidate)
            continue
        raw = candidate.pop("elasticache_raw", {}) or {}
        parts = arns.parse_arn(candidate["arn"])
        group = (raw.get("groups") or {}).get(candidate["arn"]) or {}
        if parts["resource_type"] == "globalreplicationgroup":
            global_id = parts["resource_id"]
        else:
            # A DR member an emergency failover detached names the datastore it left (and its peers) in its tags.
            global_id = group.get("global_replication_group_id") or candidate["tags"].get(
                "dr:elasticache-detached-from")
        datastore = (raw.get("globals") or {}).get(global_id) or {}
        replication_groups = {m["region"]: m["replication_group_id"] for m in datastore.get("members") or []}
        if group:
            replication_groups.setdefault(candidate["region"], group["replication_group_id"])
        for peer in (candidate["tags"].get("dr:elasticache-detached-peers") or "").split(","):
            region, dummy, group_id = peer.partition("=")
            if region and group_id:
                replication_groups.setdefault(region.strip(), group_id.strip())
        for (account_id, _region), block_detached in detached.items():
            if account_id != candidate["account_id"]:
                continue
            for region, group_id in (block_detached.get(global_id) or {}).items():
                replication_groups.setdefault(region, group_id)
        candidate["elasticache"] = {
            "global_replication_group_id": global_id,
            "global_arn": datastore.get("arn"),
            "replication_groups": replication_groups,
            "primary_region_at_discovery": next((m["region"] for m in datastore.get("members") or []
                                                 if (m.get("role") or "").upper() == "PRIMARY"), None),
            "engine": datastore.get("engine") or group.get("engine"),
            "cache_node_type": datastore.get("cache_node_type") or group.get("cache_node_type"),
        }
        if not global_id:
            kept.append(candidate)  # not in a global datastore: PREFLIGHT refuses it by name, with the fix
            continue
        by_datastore.setdefault((candidate["account_id"], global_id), []).append(candidate)
    for (account_id, _global_id), group in sorted(by_datastore.items()):
        primary_region = (accounts.get(account_id) or {}).get("primary_region")

        def rank(candidate, primary_region=primary_region):
            kind = arns.parse_arn(candidate["arn"])["resource_type"]
            return (0 if kind == "replicationgroup" and candidate["region"] == primary_region
                    else 1 if kind == "globalreplicationgroup" else 2, candidate["arn"])
        group.sort(key=rank)
        host = group[0]
        for other in group[1:]:
            for region, group_id in other["elasticache"]["replication_groups"].items():
                host["elasticache"]["replication_groups"].setdefault(region, group_id)
        if host["arn"].split(":")[5].startswith("globalreplicationgroup") and primary_region:
            host["region"] = primary_region
        for other in group[1:]:
            host["sources"].update(other["sources"])
        kept.append(host)
    return kept


def fold_memorydb(candidates, accounts):
    """One host per protected MemoryDB cluster, with ``dr_memorydb``.

    A cluster of a multi-Region cluster (or the multi-Region cluster itself) is ``mode: multi-region`` with its
    regional clusters; the tagged members of one multi-Region cluster fold onto one host. Any other cluster is
    ``mode: snapshot``: its DR copy is ``<name>-dr`` in the DR region (tag ``dr:memorydb-dr-cluster`` to name it), and
    a copy the collection restored (tag ``dr:memorydb-source``) folds onto the cluster it was restored from.
    """
    kept, groups = [], {}
    for candidate in candidates:
        if candidate["technology"] != "memorydb":
            kept.append(candidate)
            continue
        raw = candidate.pop("memorydb_raw", {}) or {}
        account = accounts.get(candidate["account_id"]) or {}
        primary, dr = account.get("primary_region"), account.get("dr_region")
        parts = arns.parse_arn(candidate["arn"])
        cluster = (raw.get("clusters") or {}).get(candidate["arn"]) or {}
        multi_name = parts["resource_id"] if parts["resource_type"] == "multiregioncluster" else cluster.get(
            "multi_region_cluster_name")
        if multi_name:
            multi = (raw.get("multi_region") or {}).get(multi_name) or {}
            candidate["memorydb"] = {"mode": "multi-region", "multi_region_cluster_name": multi_name,
                                     "cluster_name": cluster.get("cluster_name") or multi_name,
                                     "clusters": dict(multi.get("clusters") or {}),
                                     "node_type": multi.get("node_type") or cluster.get("node_type")}
            key = ("multi", multi_name)
        else:
            name = cluster.get("cluster_name") or parts["resource_id"]
            source = candidate["tags"].get("dr:memorydb-source")
            original = source or name
            clusters = {primary: original,
                        dr: candidate["tags"].get("dr:memorydb-dr-cluster") or f"{original}-dr"}
            clusters[candidate["region"]] = name
            candidate["memorydb"] = {"mode": "snapshot", "cluster_name": original, "clusters": clusters,
                                     "node_type": cluster.get("node_type")}
            key = ("snapshot", original)
        groups.setdefault((candidate["account_id"],) + key, []).append(candidate)
    for (account_id, _mode, _name), group in sorted(groups.items()):
        primary = (accounts.get(account_id) or {}).get("primary_region")

        def rank(c, primary=primary):
            regional = arns.parse_arn(c["arn"])["resource_type"] == "cluster"
            if regional and c["region"] == primary and not c["tags"].get("dr:memorydb-source"):
                return (0, c["arn"])
            return (1 if not regional else 2, c["arn"])
        group.sort(key=rank)
        host = group[0]
        for other in group[1:]:
            host["sources"].update(other["sources"])
            for region, name in other["memorydb"]["clusters"].items():
                host["memorydb"]["clusters"].setdefault(region, name)
        kept.append(host)
    return kept


def _origin_key(server, account_id, account, accounts):
    origin_account = server.get("origin_account_id")
    if origin_account not in accounts:
        origin_account = account_id
    origin_region = server.get("origin_region") or account.get("primary_region")
    return (origin_account, origin_region)


def _drs_candidate(server, account_id, account, region, block, accounts, instances):
    arn = server.get("arn") or f"arn:aws:drs:{region}:{account_id}:source-server/{server['source_server_id']}"
    instance_id = server.get("aws_instance_id")
    origin = _origin_key(server, account_id, account, accounts)
    instance, instance_source = instances.get(origin + (instance_id,), (None, None)) if instance_id else (None, None)
    instance_tags = (instance or {}).get("tags") or {}
    tags, problems, conflicts = merge_drs_tags(arn, server.get("tags") or {}, instance_tags, instance_id)
    hostname = server.get("hostname") or tags.get(TAG_NAME) or server["source_server_id"]
    candidate = _Candidate(
        arn=arn, technology="drs", account_id=account_id, region=region, tags=tags,
        resource_id=server["source_server_id"], resource_name=server["source_server_id"], base=hostname,
        source_server_id=server["source_server_id"], hostname=hostname, source_instance_id=instance_id,
        replication_state=server.get("replication_state"), origin_region=origin[1], origin_account_id=origin[0],
    )
    candidate["problems"].extend(problems)
    candidate["skip_tags"].update(conflicts)
    candidate["sources"].add(block.get("source", "live"))
    if instance_source:
        candidate["sources"].add(instance_source)
    return candidate


def _resource_region(technology, region):
    """A global technology's resources (Route 53) belong to the account, not to the region that listed them."""
    return "global" if (technologies.get(technology) or {}).get("scope") == "global" else region


# Technologies whose resource exists once per region with the same name (pilot light): the DR region's copy is the
# host, its primary-region twin is reached by name. When both copies carry the DR tags, one host stands for the pair.
REGIONAL_TWINS = ("autoscaling", "ecs", "lambda")


def _twin_key(candidate):
    if candidate["technology"] == "ecs":
        return candidate["resource_id"]  # cluster/service
    return candidate["resource_name"]


def pair_regional_twins(candidates, accounts):
    """Drop the primary-region copy of a pair whose DR-region twin is a candidate too (the host is the DR copy)."""
    in_dr = {(c["account_id"], c["technology"], _twin_key(c)) for c in candidates
             if c["technology"] in REGIONAL_TWINS
             and c["region"] == (accounts.get(c["account_id"]) or {}).get("dr_region")}
    kept = []
    for candidate in candidates:
        account = accounts.get(candidate["account_id"]) or {}
        if (candidate["technology"] in REGIONAL_TWINS and candidate["region"] == account.get("primary_region")
                and candidate["region"] != account.get("dr_region")
                and (candidate["account_id"], candidate["technology"], _twin_key(candidate)) in in_dr):
            continue
        kept.append(candidate)
    return kept


def _strategy(candidate):
    value = str(candidate["tags"].get(TAG_STRATEGY) or "")
    if value.strip():
        return value.strip().lower()
    return DEFAULT_STRATEGY.get(candidate["technology"])


def target_belongs_to(target_tags, customer, environment):
    """Whether a launch-into target may be a candidate for a server of ``customer``/``environment``.

    A target tagged with another Customer is never a candidate; nor one tagged with another Environment
    when both carry one. Untagged targets stay candidates (the Name match decides), as before.
    """
    tags = target_tags or {}
    target_customer = normalize_name(tags.get(TAG_CUSTOMER))
    if target_customer and target_customer != normalize_name(customer):
        return False
    target_environment = normalize_name(tags.get(TAG_ENVIRONMENT))
    if target_environment and normalize_name(environment) and target_environment != normalize_name(environment):
        return False
    return True


def match_targets(candidates, targets):
    """Attach each DRS candidate's launch-into target: normalized Name == normalized hostname, one to one.

    Only targets of the server's own customer (and environment, when the target names one) are candidates:
    another customer's target never causes a duplicate-Name refusal, never receives a server, and is never
    named in advice. Two candidate targets with one normalized Name, two servers claiming one target, and a
    launch-into-instance server without a target are problems on the servers concerned; nothing is guessed.
    """
    by_name = {}
    for key, items in targets.items():
        for target in items:
            name = normalize_name((target.get("tags") or {}).get(TAG_NAME) or target.get("name"))
            by_name.setdefault(key + (name,), []).append(target)
    claims = {}
    for candidate in candidates:
        if candidate["technology"] != "drs" or not candidate["source_server_id"]:
            continue
        name = normalize_name(candidate["hostname"])
        found = sorted((t for t in by_name.get((candidate["account_id"], candidate["region"], name), [])
                        if target_belongs_to(t.get("tags"), candidate["tags"].get(TAG_CUSTOMER),
                                             candidate["tags"].get(TAG_ENVIRONMENT))),
                       key=lambda t: t["instance_id"])
        if len(found) > 1:
            ids = ", ".join(t["instance_id"] for t in found)
            candidate["problems"].append(validation.problem(
                candidate["arn"], TAG_NAME, candidate["hostname"],
                f"{len(found)} pre-provisioned targets in {candidate['account_id']}/{candidate['region']} "
                f"have the Name {candidate['hostname'].strip()!r}: {ids}",
                f"keep one target per server: rename the other targets or remove their "
                f"{TAG_DRS_TARGET}={TAG_DRS_TARGET_VALUE} tag",
            ))
        elif found:
            claims.setdefault(found[0]["instance_id"], []).append(candidate)
            candidate["target"] = found[0]
        elif _strategy(candidate) == "launch-into-instance":
            candidate["problems"].append(validation.problem(
                candidate["arn"], TAG_STRATEGY, candidate["tags"].get(TAG_STRATEGY),
                f"no pre-provisioned target named {candidate['hostname']!r} in "
                f"{candidate['account_id']}/{candidate['region']}",
                f"create a stopped EC2 instance there tagged {TAG_DRS_TARGET}={TAG_DRS_TARGET_VALUE} and "
                f"Name={candidate['hostname']}, or set {TAG_STRATEGY}=new-instance",
            ))
    for instance_id, claimants in claims.items():
        if len(claimants) < 2:
            continue
        ids = ", ".join(sorted(c["source_server_id"] for c in claimants))
        for candidate in claimants:
            candidate["target"] = None
            candidate["problems"].append(validation.problem(
                candidate["arn"], TAG_NAME, candidate["hostname"],
                f"the pre-provisioned target {instance_id} is claimed by {len(claimants)} source servers ({ids})",
                "give each source server its own target: make the hostnames (and target Names) unique",
            ))


def assign_host_names(candidates):
    """Readable, unique host names: the base name, qualified by account, region, technology, ID on collision."""
    by_base = {}
    for candidate in candidates:
        by_base.setdefault(_host_base_name(candidate["base"]).lower(), []).append(candidate)

    def qualified(candidate, level):
        base = _host_base_name(candidate["base"]) or _host_base_name(candidate["resource_name"])
        parts = [candidate.get("account_name") or candidate["account_id"], candidate["region"],
                 candidate["technology"] or "unsupported", _host_base_name(candidate["resource_id"])]
        if level == 0:
            return base
        return f"{base}@{'.'.join(parts[:level])}"

    taken = set()
    for base in sorted(by_base):
        group = sorted(by_base[base], key=lambda c: c["arn"])
        for level in range(5):
            names = [qualified(c, level).lower() for c in group]
            if len(set(names)) == len(names):
                break
        for candidate in group:
            name = qualified(candidate, level)
            suffix = 2
            while name.lower() in taken:
                name = f"{qualified(candidate, level)}-{suffix}"
                suffix += 1
            taken.add(name.lower())
            candidate["host"] = name


def _resolver(candidates):
    """A dr:dependencies resolver per customer: host name, hostname, Name tag, resource name or ARN."""
    index = {}
    for candidate in candidates:
        keys = {candidate["host"], candidate["base"], candidate["resource_name"], candidate["arn"],
                candidate.get("hostname"), candidate["tags"].get(TAG_NAME), candidate["resource_id"]}
        customer = normalize_name(candidate["tags"].get(TAG_CUSTOMER))
        for key in keys:
            if key:
                index.setdefault((customer, normalize_name(key)), []).append(candidate)

    def resolve_for(candidate):
        customer = normalize_name(candidate["tags"].get(TAG_CUSTOMER))

        def resolve(name):
            found = [c for c in index.get((customer, normalize_name(name)), []) if c is not candidate]
            unique = {c["host"]: c for c in found}
            return [(host, validation.parse_wave(c["tags"].get(TAG_WAVE))) for host, c in sorted(unique.items())]
        return resolve
    return resolve_for


def _target_vars(target):
    if not target:
        return None
    return {
        "instance_id": target["instance_id"],
        "name": (target.get("tags") or {}).get(TAG_NAME, target.get("name")),
        "private_ip": target.get("private_ip"),
        "subnet_id": target.get("subnet_id"),
        "security_group_ids": list(target.get("security_group_ids") or []),
        "state": target.get("state"),
        "account_id": target["account_id"],
        "region": target["region"],
    }


def _host_vars(candidate, account):
    tags = candidate["tags"]
    wave = validation.parse_wave(tags.get(TAG_WAVE))
    priority = str(tags.get(TAG_PRIORITY) or validation.DEFAULT_PRIORITY).strip().lower()
    if priority not in PRIORITY_RANK:
        priority = None
    rto, rpo = tags.get(TAG_RTO), tags.get(TAG_RPO)
    credentials = {"account_id": candidate["account_id"]}
    access = account.get("credentials") or {}
    credentials.update({k: access[k] for k in ("profile", "role_arn") if access.get(k)})
    return {
        "ansible_connection": "local",
        # Modules run on the controller with the Python that runs Ansible (boto3 is installed there); host
        # variables are unsafe (never templated), so this is the path itself rather than ansible_playbook_python.
        "ansible_python_interpreter": sys.executable,
        "dr_technology": candidate["technology"],
        "dr_wave": wave,
        "dr_priority": priority,
        "dr_priority_rank": PRIORITY_RANK.get(priority, len(PRIORITY_RANK)),
        "dr_customer": str(tags.get(TAG_CUSTOMER) or "").strip() or None,
        "dr_environment": str(tags.get(TAG_ENVIRONMENT) or "").strip() or None,
        "dr_account_id": candidate["account_id"],
        "dr_account_name": account.get("name"),
        "dr_primary_region": account.get("primary_region"),
        "dr_dr_region": account.get("dr_region"),
        "dr_resource_region": candidate["region"],
        "dr_credentials": credentials,
        "dr_arn": candidate["arn"],
        "dr_resource_id": candidate["resource_id"],
        "dr_resource_name": candidate["resource_name"],
        "dr_source_server_id": candidate["source_server_id"],
        "dr_hostname": candidate["hostname"],
        "dr_source_instance_id": candidate["source_instance_id"],
        "dr_replication_state": candidate["replication_state"],
        "dr_recovery_strategy": _strategy(candidate),
        "dr_rto_target": validation.parse_minutes(rto) if rto is not None else None,
        "dr_rpo_target": validation.parse_minutes(rpo) if rpo is not None else None,
        "dr_health_check_url": str(tags.get(TAG_HEALTH_URL) or "").strip() or None,
        "dr_dependencies": validation.parse_dependencies(tags.get(TAG_DEPENDENCIES)),
        "dr_dependency_hosts": candidate.get("dependency_hosts", []),
        "dr_tags": dict(tags),
        "dr_target": _target_vars(candidate["target"]),
        "dr_aurora": candidate.get("aurora"),
        "dr_rds": candidate.get("rds"),
        "dr_validation_errors": candidate["problems"],
        "dr_inventory_source": "cache" if "cache" in candidate["sources"] else "live",
        **(candidate.get("technology_vars") or {}),
        **({"dr_elasticache": candidate["elasticache"]} if candidate.get("elasticache") else {}),
        **({"dr_memorydb": candidate["memorydb"]} if candidate.get("memorydb") else {}),
    }


def sort_key(hostvars):
    """Recovery order: wave, then priority (critical first), then host name."""
    wave = hostvars.get("dr_wave")
    return (wave if wave is not None else 10 ** 6, hostvars.get("dr_priority_rank", 99), hostvars.get("_host", ""))


def build_inventory(raw, customers=None, environments=None):
    """Hosts, groups and a summary from a raw discovery result, filtered to the optional scope.

    Returns ``{"hosts": {name: hostvars}, "groups": {name: [hosts]}, "problems": [...],
    "unreachable": [{"account_id", "name", "reason"}], "customers": [...], "environments": [...]}``.
    """
    customers = {normalize_name(c) for c in customers or [] if c}
    environments = {normalize_name(e) for e in environments or [] if e}
    accounts = {a["account_id"]: a for a in raw.get("accounts", [])}
    candidates, targets = _collect(raw)
    candidates = pair_regional_twins(candidates, accounts)
    enabled = []
    for candidate in candidates:
        state = _enabled_state(candidate["tags"])
        if state == "no" and TAG_ENABLED not in candidate["skip_tags"]:
            continue
        candidate["account_name"] = accounts[candidate["account_id"]].get("name")
        enabled.append(candidate)
    # Targets are matched over every enabled server of the account, whatever the scope, so that two
    # customers' servers claiming one target are caught in either customer's run.
    match_targets(enabled, targets)
    in_scope = [c for c in enabled if _in_scope(c["tags"], customers, environments)]
    assign_host_names(in_scope)
    resolver = _resolver(in_scope)
    for candidate in in_scope:
        tags = candidate["tags"]
        candidate["problems"] = validation.validate_tags(candidate["arn"], tags, skip=candidate["skip_tags"],
                                                         technology=candidate["technology"]) + candidate["problems"]
        dependencies = validation.parse_dependencies(tags.get(TAG_DEPENDENCIES))
        if dependencies:
            resolve = resolver(candidate)
            candidate["dependency_hosts"] = sorted({host for name in dependencies for host, _w in resolve(name)})
            candidate["problems"].extend(validation.dependency_problems(
                candidate["arn"], validation.parse_wave(tags.get(TAG_WAVE)), dependencies, resolve))
    hosts, groups, problems = {}, {}, []
    for candidate in sorted(in_scope, key=lambda c: c["host"]):
        hostvars = _host_vars(candidate, accounts[candidate["account_id"]])
        hosts[candidate["host"]] = hostvars
        problems.extend(candidate["problems"])
        for group in grouping.group_names(hostvars):
            groups.setdefault(group, []).append(candidate["host"])
    unreachable = []
    for account in raw.get("accounts", []):
        if account.get("error"):
            unreachable.append({"account_id": account["account_id"], "name": account.get("name"),
                                "region": None, "reason": account["error"]})
            continue
        for region, block in sorted((account.get("regions") or {}).items()):
            if block.get("error"):
                unreachable.append({"account_id": account["account_id"], "name": account.get("name"),
                                    "region": region, "reason": block["error"]})
    return {
        "hosts": hosts,
        "groups": groups,
        "problems": problems,
        "unreachable": unreachable,
        "customers": sorted({h["dr_customer"] for h in hosts.values() if h["dr_customer"]}),
        "environments": sorted({h["dr_environment"] for h in hosts.values() if h["dr_environment"]}),
    }
