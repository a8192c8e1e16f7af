# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The technology registry: the one place that says what each technology is and where it takes part.

Inventory (classification by ARN, default strategy), preflight (which adapters exist), the plan, the wave engine
(which adapter entry point runs in which phase), the gates and the report read this; none of them names a
technology. docs/adapters.md explains the contract and the checklist for adding a technology.

Each technology declares:

``title``             what people call it (plan, report)
``arn_types``         ``(arn service, resource type token)`` pairs that classify a discovered ARN
``default_strategy``  the ``dr:recovery-strategy`` used when the tag is absent
``scope``             ``regional`` (a resource lives in one region) or ``global`` (it belongs to the account)
``role``              the adapter role, ``roles/adapter_<technology>`` (None: no adapter yet, refused by PREFLIGHT)
``operations``        per operation (``failover``, ``drill``, ``failback``, ``emergency``): the phases it takes part
                      in; ``preflight`` is a phase too. An operation that is absent is refused by PREFLIGHT.
``entry_points``      optional ``{operation: prefix}``: the operation's entry points are ``<prefix><phase>``
                      (DRS's failback is its own flow: ``failback_activate`` ...); default ``<phase>``
``plan``              per operation and phase, one line for people: what the phase does to this technology
``plan_fields``       host variables shown on each resource's plan line (technology-specific identifiers)
``report_fields``     ``after`` keys of its record entries that the summary shows (besides ``summary``)
"""

PHASES = ("preflight", "instantiate", "activate", "cleanup", "replicate")
OPERATIONS = ("failover", "drill", "failback", "emergency")
ALL_PHASES = list(PHASES)


def _technology(title, arn_types, default_strategy, scope="regional", role=None, operations=None, entry_points=None,
                plan=None, plan_fields=(), report_fields=()):
    return {
        "title": title,
        "arn_types": [list(pair) for pair in arn_types],
        "default_strategy": default_strategy,
        "scope": scope,
        "role": role,
        "operations": {op: list(phases) for op, phases in (operations or {}).items()},
        "entry_points": dict(entry_points or {}),
        "plan": plan or {},
        "plan_fields": list(plan_fields),
        "report_fields": list(report_fields),
    }


TECHNOLOGIES = {
    "drs": _technology(
        "AWS Elastic Disaster Recovery",
        [("drs", "source-server"), ("ec2", "instance")],  # an EC2 instance protected by DRS (its source server)
        "launch-into-instance",
        role="adapter_drs",
        operations={
            "failover": ALL_PHASES,
            "drill": ["preflight", "instantiate", "activate", "cleanup"],
            "failback": ALL_PHASES,
            # The primary region is down: launch and validate at once (ACTIVATE); CLEANUP and REPLICATE are deferred.
            "emergency": ["preflight", "activate"],
        },
        entry_points={"failback": "failback_"},
        plan={
            "failover": {
                "instantiate": "turn off copyPrivateIp/copyTags/right-sizing, set launch into the matched target, "
                               "start recovery jobs",
                "activate": "check each server runs on its target with its private IP, status checks, health check URL",
                "cleanup": "stop the original source instances and tag them dr:failback-target "
                           "(terminate if round_trip_failback=false)",
                "replicate": "reverse replication to the original region and staging account, wait until CONTINUOUS",
            },
            "drill": {
                "instantiate": "set launch into the matched target, start drill jobs (isDrill)",
                "activate": "check each drill instance runs on its target with its private IP and passes status checks",
                "cleanup": "remove drill recovery instances, stop the targets (never terminated), "
                           "delete volumes left behind",
            },
            "failback": {
                "instantiate": "set the FAILBACK servers to launch into the original instances, start recovery jobs",
                "activate": "check each server runs again on its original instance ID and private IP, "
                            "health check URL",
                "cleanup": "return the DR recovery instances to stopped targets, clean up the FAILBACK servers",
                "replicate": "re-protect the original instances (forward replication CONTINUOUS again)",
            },
            "emergency": {
                "activate": "launch into the matched targets at once and validate critical servers only",
            },
        },
        plan_fields=["dr_source_server_id", "dr_hostname"],
        report_fields=["ec2_instance_id", "private_ip", "launch_status", "job_id"],
    ),
    "aurora": _technology(
        "Aurora global database",
        [("rds", "cluster"), ("rds", "global-cluster")], "switchover",
        role="adapter_aurora",
        operations={
            "failover": ALL_PHASES,
            # Copy-on-write clone of the DR secondary (INSTANTIATE), checked (ACTIVATE), deleted (CLEANUP).
            "drill": ["preflight", "instantiate", "activate", "cleanup"],
            # The writer back to the original region (a switchover), then the old DR region connected again.
            "failback": ["preflight", "instantiate", "activate", "cleanup", "replicate"],
            # The primary region is down: FailoverGlobalCluster with AllowDataLoss in ACTIVATE at once.
            "emergency": ["preflight", "activate"],
        },
        plan={
            "failover": {
                "instantiate": "check the DR secondary is available, connected and has a DB instance",
                "activate": "SwitchoverGlobalCluster to the DR member (no data loss), wait until FailoverState "
                            "clears and it is the writer, TCP check of the writer endpoint",
                "cleanup": "the old primary: kept as a secondary (switchover) or wait until Aurora rebuilt it "
                           "(after an unplanned failover)",
                "replicate": "the old region's member connected again as a secondary of the new writer",
            },
            "drill": {
                "instantiate": "copy-on-write clone of the DR secondary with one DB instance (never switched)",
                "activate": "TCP check of the clone's endpoint",
                "cleanup": "delete the clone and its DB instance",
            },
            "failback": {
                "instantiate": "check the original region's member is available, connected and has a DB instance",
                "activate": "SwitchoverGlobalCluster back to the original region, wait, TCP check of the writer",
                "cleanup": "the DR member kept as a secondary",
                "replicate": "the DR member connected again as a secondary",
            },
            "emergency": {
                "activate": "FailoverGlobalCluster with AllowDataLoss to the DR member, wait, TCP check of the writer",
            },
        },
        plan_fields=["dr_aurora"],
        report_fields=["writer_region", "writer_endpoint", "clone", "endpoint_answered"]),
    "rds": _technology(
        "RDS cross-region read replica", [("rds", "db")], "promote-replica",
        role="adapter_rds",
        operations={
            "failover": ["preflight", "activate", "replicate"],
            # A snapshot of the DR replica restored into a temporary instance, checked, deleted.
            "drill": ["preflight", "instantiate", "activate", "cleanup"],
            "failback": ["preflight", "activate", "replicate"],
            "emergency": ["preflight", "activate"],
        },
        plan={
            "failover": {
                "activate": "PromoteReadReplica in the DR region, wait until available, TCP check of its endpoint",
                "replicate": "the old primary renamed <id>-pre-<execution> (kept), a new read replica under its "
                             "identifier from the promoted instance",
            },
            "drill": {
                "instantiate": "snapshot the DR replica and restore it into a temporary <id>-drill instance "
                               "(the replica keeps replicating)",
                "activate": "TCP check of the temporary instance's endpoint",
                "cleanup": "delete the temporary instance and its snapshot",
            },
            "failback": {
                "activate": "PromoteReadReplica in the original region, wait, TCP check",
                "replicate": "the DR instance renamed (kept), a new read replica there from the original region",
            },
            "emergency": {
                "activate": "PromoteReadReplica in the DR region at once (writes not yet replicated are lost)",
            },
        },
        plan_fields=["dr_rds"],
        report_fields=["primary_region", "endpoint", "drill_instance", "retired_old_primary"]),
    "elasticache": _technology(
        "ElastiCache global datastore",
        [("elasticache", "replicationgroup"), ("elasticache", "globalreplicationgroup")], "failover",
        role="adapter_elasticache",
        operations={
            "failover": ["preflight", "activate", "replicate"],
            # The primary region is down: detach the DR member (standalone primary); REPLICATE is deferred.
            "emergency": ["preflight", "activate"],
            "drill": ["preflight", "instantiate", "activate", "cleanup"],
            "failback": ["preflight", "activate"],
        },
        plan={
            "failover": {
                "preflight": "datastore available, DR member associated, node types/engines/shards equal, "
                             "every member in scope",
                "activate": "FailoverGlobalReplicationGroup to the DR region's member, wait for the role flip, "
                            "check TCP to its primary endpoint",
                "replicate": "re-associate the old region as a secondary where an emergency failover detached it",
            },
            "emergency": {
                "preflight": "the DR member answers and is in scope (the primary region may not answer)",
                "activate": "disassociate the DR member from the datastore (standalone primary), "
                            "check TCP to its primary endpoint",
            },
            "drill": {
                "preflight": "datastore available, DR member associated, node types/engines/shards equal",
                "instantiate": "restore the DR member's latest snapshot into a temporary replication group",
                "activate": "check TCP to the temporary replication group (the datastore is never failed over)",
                "cleanup": "delete the temporary replication group and any snapshot the drill took",
            },
            "failback": {
                "preflight": "datastore available, the original region's member associated",
                "activate": "FailoverGlobalReplicationGroup back to the original region's member, "
                            "check TCP to its primary endpoint",
            },
        },
        plan_fields=["dr_resource_name"],
        report_fields=["target_replication_group", "target_role", "connectivity", "recovery_point_time"]),
    "memorydb": _technology(
        "MemoryDB", [("memorydb", "cluster"), ("memorydb", "multiregioncluster")], "failover",
        role="adapter_memorydb",
        operations={
            "failover": ["preflight", "instantiate", "activate", "replicate"],
            # The primary region is down: restore from the newest seed already in the DR bucket, then promote.
            "emergency": ["preflight", "activate"],
            "drill": ["preflight", "instantiate", "activate", "cleanup"],
            "failback": ["preflight", "instantiate", "activate", "cleanup"],
        },
        plan={
            "failover": {
                "preflight": "multi-Region: the DR regional cluster available; snapshot: a snapshot to restore, "
                             "export buckets, every cluster in scope",
                "instantiate": "snapshot clusters: export the newest snapshot, copy it to the DR bucket, restore "
                               "the DR cluster from it",
                "activate": "multi-Region: check the DR regional cluster (nothing promoted); snapshot: TCP check and "
                            "mark the restored cluster primary",
                "replicate": "snapshot clusters: snapshot the new primary, copy the export back to the original "
                             "region",
            },
            "emergency": {
                "preflight": "the DR side answers; snapshot clusters: a seed already in the DR bucket",
                "activate": "restore from the newest seed in the DR bucket, TCP check, mark primary "
                            "(multi-Region: check only)",
            },
            "drill": {
                "preflight": "as for a failover",
                "instantiate": "restore the newest snapshot into a temporary cluster in the DR region",
                "activate": "check the temporary cluster (TCP); nothing is promoted",
                "cleanup": "delete the temporary cluster, the drill's exports and seed",
            },
            "failback": {
                "preflight": "the DR cluster is primary and answers",
                "instantiate": "snapshot the DR cluster, copy it back, replace the stale original (final snapshot "
                               "kept) by a restore",
                "activate": "TCP check, mark the original cluster primary again",
                "cleanup": "delete the DR copy (final snapshot kept)",
            },
        },
        plan_fields=["dr_resource_name"],
        report_fields=["target_cluster", "target_role", "connectivity", "recovery_point_time"]),
    "ecs": _technology(
        "ECS service", [("ecs", "service")], "scale-up",
        role="adapter_ecs",
        operations={
            "failover": ["preflight", "instantiate", "activate", "cleanup"],
            "drill": ["preflight", "activate", "cleanup"],
            "failback": ["preflight", "instantiate", "activate", "cleanup"],
            # The primary region is down: scale the DR service up at once; scaling the old one down is deferred.
            "emergency": ["preflight", "activate"],
        },
        plan={
            "failover": {
                "instantiate": "make sure the DR service runs the primary's task definition (registered in the DR "
                               "region when it differs), desired count kept at zero",
                "activate": "scale the DR service to the primary's captured desired count, wait until running = "
                            "desired and the deployment completed, check dr:health-check-url",
                "cleanup": "scale the primary service to zero (never deleted) once the DR service serves",
            },
            "drill": {
                "activate": "scale the DR service to the drill count and wait until it runs (the primary service is "
                            "not touched)",
                "cleanup": "return the DR service to its count before the drill",
            },
            "failback": {
                "instantiate": "make sure the primary service runs the DR service's task definition, at zero tasks",
                "activate": "scale the primary service back to the DR service's desired count, wait, check "
                            "dr:health-check-url",
                "cleanup": "scale the DR service back to zero (never deleted)",
            },
            "emergency": {
                "activate": "scale the DR service to the recorded count (or dr:desired-count) at once, wait, check "
                            "dr:health-check-url",
            },
        },
        plan_fields=["dr_resource_id"],
        report_fields=["region", "desired_count", "running_count", "health_check"],
    ),
    "lambda": _technology(
        "Lambda function", [("lambda", "function")], "move-alias",
        role="adapter_lambda",
        operations={
            "failover": ["preflight", "instantiate", "activate", "cleanup"],
            # Invoke the DR alias: nothing is published, moved or scaled, so nothing is left to clean up.
            "drill": ["preflight", "activate"],
            "failback": ["preflight", "instantiate", "activate", "cleanup"],
            # The primary region is down: ACTIVATE publishes when INSTANTIATE did not, and disables the old region's
            # event sources only if that region answers.
            "emergency": ["preflight", "activate"],
        },
        plan={
            "failover": {
                "preflight": "read both functions and the alias clients invoke, capture the primary's reserved and "
                             "provisioned concurrency",
                "instantiate": "publish a version of the DR function's $LATEST (unless its newest version is it)",
                "activate": "point the DR alias at that version, set reserved and provisioned concurrency to the "
                            "captured production levels (wait READY), enable the DR region's event source mappings, "
                            "disable the old region's",
                "cleanup": "delete the DR function's versions beyond the newest kept (never one in use)",
            },
            "drill": {
                "activate": "invoke the DR alias and check it answers (no alias, concurrency or event source "
                            "changes)",
            },
            "failback": {
                "preflight": "read both functions, capture the DR function's reserved and provisioned concurrency",
                "instantiate": "publish a version of the primary function's $LATEST (unless its newest version is it)",
                "activate": "point the primary alias at it, production concurrency (wait READY), enable the primary "
                            "region's event source mappings, disable the DR region's",
                "cleanup": "delete the primary function's versions beyond the newest kept (never one in use)",
            },
            "emergency": {
                "activate": "publish if needed and point the DR alias at it, concurrency from the record or the "
                            "dr:reserved-concurrency/dr:provisioned-concurrency tags, enable the DR event sources "
                            "(the old region's are disabled only if it answers)",
            },
        },
        plan_fields=["dr_lambda"],
        report_fields=["region", "alias_version", "reserved_concurrency", "provisioned_concurrency",
                       "published_version", "deleted_versions", "executed_version"],
    ),
    "route53": _technology(
        # The hosted zone is the failover unit; its health checks are members (tag them Customer/Environment only).
        "Route 53 DNS failover", [("route53", "healthcheck"), ("route53", "hostedzone")], "dns-failover",
        scope="global",
        role="adapter_route53",
        operations={
            "failover": ["preflight", "activate"],
            "failback": ["preflight", "activate"],
            "emergency": ["preflight", "activate"],
            "drill": ["preflight", "activate"],
        },
        plan={
            "failover": {
                "activate": "flip failover records to the DR region through their health checks, shift weighted "
                            "records to it, wait for INSYNC, check that DNS answers with the DR endpoint",
            },
            "failback": {
                "activate": "flip failover and weighted records back to the primary region, wait for INSYNC, check "
                            "that DNS answers with the primary endpoint",
            },
            "emergency": {
                "activate": "flip DNS to the DR region at once (no health pre-check of the DR endpoint), wait for "
                            "INSYNC, check the answers",
            },
            "drill": {
                "activate": "never touches DNS: report what ACTIVATE would change",
            },
        },
        plan_fields=["dr_resource_id"],
        report_fields=["serving_region", "dns_seconds", "answers"],
    ),
    "opensearch": _technology(
        "OpenSearch domain", [("es", "domain")], "switchover",
        role="adapter_opensearch",
        operations={
            "failover": ["preflight", "activate", "replicate"],
            # Checks only: the DR domain answers, is readable and its followers are current.
            "drill": ["preflight", "activate"],
            "failback": ["preflight", "activate", "replicate"],
            # The primary region is down: FailoverReplication (AllowDataLoss) or stop CCR at once; REPLICATE deferred.
            "emergency": ["preflight", "activate"],
        },
        plan={
            "failover": {
                "preflight": "the DR domain is the ACTIVE secondary (managed replication) or every follower index "
                             "SYNCING (cross-cluster replication); both domains in scope",
                "activate": "managed: SwitchoverReplication to the DR domain, wait until PRIMARY; CCR: wait until the "
                            "followers caught up, stop their replication (writable); check the endpoint",
                "replicate": "managed: nothing after a switchover; CCR: connect the old primary to the DR domain, keep "
                             "its stale indexes as <index>-pre-<execution>, replicate DR -> original, wait SYNCING",
            },
            "drill": {"activate": "check the DR domain answers, is readable and its followers are current "
                                  "(nothing changes)"},
            "failback": {
                "activate": "managed: SwitchoverReplication back to the original domain; CCR: stop the original "
                            "domain's followers; check the endpoint",
                "replicate": "managed: nothing after a switchover; CCR: replicate original -> DR again",
            },
            "emergency": {"activate": "managed: FailoverReplication with AllowDataLoss (the old primary EJECTED); "
                                      "CCR: stop the followers at once; check the endpoint; REPLICATE later"},
        },
        plan_fields=["dr_resource_name"],
        report_fields=["active_domain", "active_region", "replication", "endpoint_answered"],
    ),
    "autoscaling": _technology(
        "EC2 Auto Scaling group", [("autoscaling", "autoScalingGroup")], "scale-up",
        role="adapter_autoscaling",
        operations={
            "failover": ["preflight", "activate", "cleanup"],
            "drill": ["preflight", "activate", "cleanup"],
            "failback": ["preflight", "activate", "cleanup"],
            # The primary region is down: scale the DR group up; scaling the old one down is deferred.
            "emergency": ["preflight", "activate"],
        },
        plan={
            "failover": {
                "activate": "set the DR group's min/max/desired to the primary's captured capacity, wait until that "
                            "many instances are InService and healthy",
                "cleanup": "scale the primary group to zero (min and desired 0, never deleted) once the DR group "
                           "serves",
            },
            "drill": {
                "activate": "scale the DR group to the drill capacity and wait for InService instances (the primary "
                            "group is not touched)",
                "cleanup": "return the DR group to its capacity before the drill",
            },
            "failback": {
                "activate": "set the primary group back to the DR group's capacity, wait for InService instances",
                "cleanup": "scale the DR group back to zero (never deleted)",
            },
            "emergency": {
                "activate": "set the DR group to the recorded capacity (or dr:desired-count) at once and wait for "
                            "InService instances",
            },
        },
        plan_fields=["dr_resource_name"],
        report_fields=["region", "capacity", "in_service"],
    ),
    "eventbridge": _technology(
        "EventBridge rules and global endpoints", [("events", "rule"), ("events", "endpoint")], "enable-rules",
        role="adapter_eventbridge",
        operations={
            "failover": ["preflight", "activate"],
            "drill": ["preflight", "activate"],
            "failback": ["preflight", "activate"],
            "emergency": ["preflight", "activate"],
        },
        plan={
            "failover": {
                "activate": "enable the rule in the DR region, disable it in the old region when that answers; "
                            "global endpoint: force its Route 53 health check unhealthy, check the endpoint ACTIVE",
            },
            "drill": {"activate": "report the rule states and endpoint health check a failover would change "
                                  "(nothing changes)"},
            "failback": {
                "activate": "enable the rule in the primary region, disable it in the DR region; global endpoint: "
                            "clear the health check's Disabled/Inverted, check the endpoint ACTIVE",
            },
            "emergency": {"activate": "enable the rule in the DR region (the old region's rule is disabled only "
                                      "if that region answers); global endpoint: force its health check unhealthy"},
        },
        plan_fields=["dr_resource_name"],
        report_fields=["active_region_rule_state", "old_region_rule_state", "routing_to", "endpoint_state"],
    ),
    "efs": _technology(
        "EFS replication", [("elasticfilesystem", "file-system")], "replication-failover",
        role="adapter_efs",
        operations={
            "failover": ["preflight", "activate", "replicate"],
            "drill": ["preflight", "activate"],
            "failback": ["preflight", "activate", "replicate"],
            # The primary region is down: make the DR copy writable at once; the reverse replication is deferred.
            "emergency": ["preflight", "activate"],
        },
        plan={
            "failover": {
                "activate": "delete the replication configuration: the DR file system becomes writable (its "
                            "protection and last sync recorded)",
                "replicate": "set the original file system's overwrite protection DISABLED, replicate DR -> "
                             "original, wait until ENABLED",
            },
            "drill": {"activate": "check the replication is ENABLED and its last sync current (nothing changes)"},
            "failback": {
                "activate": "delete the reverse replication: the original file system becomes writable",
                "replicate": "set the DR file system's overwrite protection DISABLED, replicate original -> DR, "
                             "wait until ENABLED",
            },
            "emergency": {"activate": "delete the local replication configuration (LOCAL_CONFIGURATION_ONLY): the DR "
                                      "file system becomes writable; REPLICATE later"},
        },
        plan_fields=["dr_resource_id"],
        report_fields=["dr_file_system_id", "dr_protection", "replication", "recovery_point_time"],
    ),
    "fsx": _technology(
        "FSx restore from backup", [("fsx", "file-system")], "restore-from-backup",
        role="adapter_fsx",
        # No failback: the way back is the backup copy REPLICATE leaves in the original region
        # (docs/technologies/fsx.md); PREFLIGHT of a failback refuses FSx resources by name with the fix.
        operations={
            "failover": ["preflight", "instantiate", "activate", "replicate"],
            "drill": ["preflight", "instantiate", "activate", "cleanup"],
            "emergency": ["preflight", "activate"],
        },
        plan={
            "failover": {
                "instantiate": "restore the newest backup copied to the DR region into a new file system",
                "activate": "check the restored file system is AVAILABLE",
                "replicate": "back up the restored file system and copy the backup to the original region",
            },
            "drill": {
                "instantiate": "restore the newest DR backup copy into a temporary file system",
                "activate": "check the temporary file system is AVAILABLE",
                "cleanup": "delete the temporary file system",
            },
            "emergency": {"activate": "restore the newest DR backup copy and check it is AVAILABLE"},
        },
        plan_fields=["dr_resource_id"],
        report_fields=["restored_file_system_id", "restored_lifecycle", "backup_id", "recovery_point_time"],
    ),
}

# Recovery order of technologies inside one wave when a team gives no dr:dependencies: data first, then compute,
# then traffic. Shown in the plan; waves remain the primary ordering.
DISPLAY_ORDER = ("aurora", "rds", "elasticache", "memorydb", "efs", "fsx", "opensearch", "drs", "autoscaling", "ecs",
                 "lambda", "eventbridge", "route53")


def names():
    return tuple(DISPLAY_ORDER)


def get(technology):
    return TECHNOLOGIES.get(technology)


def by_arn_type():
    """``{(service, resource type): technology}`` for ARN classification."""
    return {tuple(pair): name for name, spec in TECHNOLOGIES.items() for pair in spec["arn_types"]}


def default_strategies():
    return {name: spec["default_strategy"] for name, spec in TECHNOLOGIES.items()}


def operation_key(operation, emergency=False):
    """The registry operation of a run: an emergency failover is its own operation."""
    return "emergency" if emergency and operation == "failover" else operation


def supports(technology, operation, emergency=False):
    """True when the technology has an adapter that takes part in the operation."""
    spec = TECHNOLOGIES.get(technology)
    if not spec or not spec["role"]:
        return False
    return operation_key(operation, emergency) in spec["operations"]


def supported(operation=None, emergency=False):
    """Technologies with an adapter (for the operation, when given), in display order."""
    return [name for name in DISPLAY_ORDER
            if TECHNOLOGIES[name]["role"] and (operation is None or supports(name, operation, emergency))]


def takes_part(technology, operation, phase, emergency=False):
    spec = TECHNOLOGIES.get(technology)
    if not supports(technology, operation, emergency):
        return False
    return phase.lower() in spec["operations"][operation_key(operation, emergency)]


def entry_point(technology, operation, phase, emergency=False):
    """``{technology, role, tasks_from}`` of the adapter entry point, or None where the technology takes no part."""
    if not takes_part(technology, operation, phase, emergency):
        return None
    spec = TECHNOLOGIES[technology]
    prefix = spec["entry_points"].get(operation_key(operation, emergency),
                                      spec["entry_points"].get(operation, ""))
    return {"technology": technology, "role": spec["role"], "tasks_from": f"{prefix}{phase.lower()}"}


def adapters(technologies, operation, phase, emergency=False):
    """The entry points to call for the technologies present, in display order (absent ones cost nothing)."""
    present = set(technologies or [])
    return [point for point in (entry_point(name, operation, phase, emergency) for name in DISPLAY_ORDER
                                if name in present) if point]


def plan_line(technology, operation, phase, emergency=False):
    spec = TECHNOLOGIES.get(technology) or {}
    plan = spec.get("plan") or {}
    key = operation_key(operation, emergency)
    return (plan.get(key) or {}).get(phase.lower()) or (plan.get(operation) or {}).get(phase.lower())
