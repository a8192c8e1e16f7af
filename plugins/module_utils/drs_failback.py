# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Round-trip failback with DRS: reverse replication, the failback prerequisites and the failback cleanup.

The vocabulary follows the DRS User Guide's cross-Region failback (behaviour.md 2.3):

- the *forward* source server replicates the original instance (primary region) into the DR region;
- a failover launches the *DR recovery instance* (the pre-provisioned target) in the DR region;
- ``ReverseReplication`` on it creates the *FAILBACK* source server in the original region, found by
  ``replicationDirection`` and ``identificationHints.awsInstanceID`` (never by the possibly stale
  ``reversedDirectionSourceServerArn``);
- launching the FAILBACK server into the original instance creates the *origin recovery instance*;
- ``ReverseReplication`` on that one re-points the forward source server at it (re-protect).

The pure functions are unit-tested; the readers take clients made by ClientFactory (retried on throttling).
"""

import time

try:
    from botocore.exceptions import ClientError
except ImportError:
    ClientError = Exception  # Handled by AnsibleAWSModule

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import error_code
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import error_message
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import parse_iso8601_duration
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs_launch import account_of
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.record_entries import make_entry

FAILOVER = "FAILOVER"
FAILBACK = "FAILBACK"
GONE_REPLICATION_STATES = ("DISCONNECTED",)
RECOVERY_INSTANCE_POLICY = "AWSElasticDisasterRecoveryRecoveryInstancePolicy"
# What the recovery instance's agent calls; a policy granting these is an equivalent of the managed one.
RECOVERY_INSTANCE_ACTIONS = ("drs:SendAgentMetricsForDrs", "drs:SendAgentLogsForDrs")
REPLICATION_PORTS = (1500, 443)
TAG_FAILBACK_TARGET = "dr:failback-target"
DEFAULT_LAG_THRESHOLD = 60

SEVERITY_CRITICAL = "critical"
SEVERITY_WARNING = "warning"


def is_agent_not_ready(error):
    """The ConflictException DRS answers until the recovery instance's agent has initialized (retry later)."""
    if error_code(error) != "ConflictException":
        return False
    text = error_message(error).lower()
    return any(word in text for word in ("initializ", "not ready", "agent", "must be running"))


# ------------------------------------------------------------------------------------------------ pairing

def _record_index(resources):
    index = {}
    for entry in resources or []:
        before = entry.get("before") or {}
        sid = before.get("source_server_id")
        if sid:
            merged = index.setdefault(sid, {"before": {}, "after": {}, "resource": entry.get("resource")})
            merged["before"].update({k: v for k, v in before.items() if v is not None})
            merged["after"].update({k: v for k, v in (entry.get("after") or {}).items() if v is not None})
    return index


def pair_servers(servers, failover_resources):
    """Join the inventory's DRS server entries with the failover's execution record entries.

    Each result carries what every failback step needs: the forward server (``source_server_id``,
    ``account_id``, ``region``), the original instance and its recorded private IP, the DR instance
    and its recorded private IP, and the staging account the failover used (None when unknown).
    """
    index = _record_index(failover_resources)
    pairs = []
    for server in servers or []:
        record = index.get(server["source_server_id"]) or {"before": {}, "after": {}}
        before, after = record["before"], record["after"]
        pairs.append({
            "source_server_id": server["source_server_id"],
            "account_id": server.get("account_id"),
            "region": server.get("region"),
            "hostname": server.get("hostname"),
            "resource": record.get("resource"),
            "recorded": bool(before),
            "staging_account_id": before.get("staging_account_id"),
            "original_instance_id": before.get("source_instance_id") or server.get("source_instance_id"),
            "original_region": before.get("source_region") or server.get("source_region"),
            "original_private_ip": before.get("source_private_ip"),
            "dr_instance_id": (after.get("ec2_instance_id") or after.get("recovery_instance_id")
                               or before.get("target_instance_id") or server.get("target_instance_id")),
            "dr_private_ip": before.get("target_private_ip") or after.get("private_ip"),
            "failback_source_server_id": after.get("failback_source_server_id"),
        })
    return pairs


# ------------------------------------------------------------------------------------------ DRS objects

def replication_state(server):
    return ((server or {}).get("dataReplicationInfo") or {}).get("dataReplicationState")


def lag_seconds(server):
    return parse_iso8601_duration(((server or {}).get("dataReplicationInfo") or {}).get("lagDuration"))


def aws_instance_id(server):
    return (((server or {}).get("sourceProperties") or {}).get("identificationHints") or {}).get("awsInstanceID")


def direction(server):
    return (server or {}).get("replicationDirection") or FAILOVER


def effective_staging_account(server):
    """The staging account a source server replicates into: the extended one, else its own account."""
    staging = (server or {}).get("stagingArea") or {}
    return staging.get("stagingAccountID") or account_of((server or {}).get("arn"))


def find_reversed_server(items, instance_id, wanted_direction):
    """The live source server replicating ``instance_id`` in ``wanted_direction`` (newest first), or None."""
    found = [s for s in items or [] if direction(s) == wanted_direction and aws_instance_id(s) == instance_id
             and replication_state(s) not in GONE_REPLICATION_STATES]
    if not found:
        return None
    # A stopped leftover of an earlier cycle loses against one that replicates.
    found.sort(key=lambda s: (replication_state(s) != "STOPPED",
                              (s.get("lifeCycle") or {}).get("addedToServiceDateTime") or ""), reverse=True)
    return found[0]


def pick_recovery_instance(items, drill=False):
    """The recovery instance a failback starts from: not a drill (unless asked), running first, newest first."""
    candidates = [i for i in items or [] if bool(i.get("isDrill")) == bool(drill)]
    if not candidates:
        return None
    candidates.sort(key=lambda i: (i.get("ec2InstanceState") == "RUNNING", i.get("pointInTimeSnapshotDateTime") or ""),
                    reverse=True)
    return candidates[0]


def reverse_started(recovery_instance, reversed_server):
    """Whether ReverseReplication already ran for this recovery instance (and its reversed server lives)."""
    state = replication_state(recovery_instance)
    return reversed_server is not None and state not in (None, "NOT_STARTED", "DISCONNECTED")


def replication_ready(server, lag_threshold=DEFAULT_LAG_THRESHOLD):
    """(ready, problem) for a reversed server: CONTINUOUS with lag within the threshold."""
    if server is None:
        return False, "no reversed-direction source server"
    state = replication_state(server)
    lag = lag_seconds(server)
    if state != "CONTINUOUS":
        return False, f"replication state is {state or 'unknown'}, not CONTINUOUS"
    if lag is not None and lag_threshold is not None and lag >= lag_threshold:
        return False, f"replication lag {lag}s is not under {lag_threshold}s"
    return True, None


def server_summary(server):
    if not server:
        return None
    return {
        "source_server_id": server.get("sourceServerID"),
        "arn": server.get("arn"),
        "account_id": account_of(server.get("arn")),
        "replication_direction": direction(server),
        "replication_state": replication_state(server),
        "lag_seconds": lag_seconds(server),
        "aws_instance_id": aws_instance_id(server),
        "staging_account_id": effective_staging_account(server),
    }


# ------------------------------------------------------------------------------------------ EC2 and IAM

def _port_in(permission, port):
    protocol = str(permission.get("IpProtocol"))
    if protocol == "-1":
        return True
    if protocol not in ("tcp", "6"):
        return False
    low, high = permission.get("FromPort"), permission.get("ToPort")
    return low is not None and high is not None and int(low) <= port <= int(high)


def egress_missing_ports(security_groups, ports=REPLICATION_PORTS):
    """The TCP ports of ``ports`` that no egress rule of ``security_groups`` allows."""
    permissions = [p for group in security_groups or [] for p in group.get("IpPermissionsEgress") or []]
    return [port for port in ports if not any(_port_in(p, port) for p in permissions)]


def _as_list(value):
    return value if isinstance(value, list) else [value]


def _action_allowed(pattern, action):
    pattern, action = pattern.lower(), action.lower()
    if pattern.endswith("*"):
        return action.startswith(pattern[:-1])
    return pattern == action


def document_allows(document, actions=RECOVERY_INSTANCE_ACTIONS):
    """Whether an IAM policy document allows every action of ``actions`` (Allow statements only)."""
    statements = _as_list((document or {}).get("Statement") or [])
    allowed = [a for s in statements if s.get("Effect") == "Allow" for a in _as_list(s.get("Action") or [])]
    return all(any(_action_allowed(p, action) for p in allowed) for action in actions)


def read_instance_profile(iam, profile_arn):
    """{name, roles: [{name, managed: [names], grants: bool}]} of an instance profile, from IAM."""
    name = profile_arn.split("/")[-1]
    profile = iam.get_instance_profile(InstanceProfileName=name)["InstanceProfile"]
    roles = []
    for role in profile.get("Roles") or []:
        attached = iam.list_attached_role_policies(RoleName=role["RoleName"]).get("AttachedPolicies") or []
        grants = False
        for policy in attached:
            if policy["PolicyName"] == RECOVERY_INSTANCE_POLICY:
                grants = True
                break
            try:
                meta = iam.get_policy(PolicyArn=policy["PolicyArn"])["Policy"]
                version = iam.get_policy_version(PolicyArn=policy["PolicyArn"], VersionId=meta["DefaultVersionId"])
                if document_allows(version["PolicyVersion"]["Document"]):
                    grants = True
                    break
            except ClientError:
                continue
        if not grants:
            for policy_name in iam.list_role_policies(RoleName=role["RoleName"]).get("PolicyNames") or []:
                document = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=policy_name)["PolicyDocument"]
                if document_allows(document):
                    grants = True
                    break
        roles.append({"name": role["RoleName"], "managed": [p["PolicyName"] for p in attached], "grants": grants})
    return {"name": name, "arn": profile_arn, "roles": roles}


# -------------------------------------------------------------------------------------------- readiness

def _check(passed, severity, detail, fix=None):
    return {"passed": bool(passed), "severity": severity, "detail": detail, "fix": None if passed else fix}


def assess(pair, facts, stage="failback", lag_threshold=DEFAULT_LAG_THRESHOLD, profile_severity=SEVERITY_WARNING,
           require_original_instance=True):
    """Pass/fail of every failback prerequisite of one server (pure: unit-tested).

    ``facts``: ``recovery_instance`` (DRS item), ``instance`` (EC2 item of the DR recovery instance),
    ``security_groups`` (EC2 items), ``profile`` (read_instance_profile() or None, or ``{"error": ...}``),
    ``origin_initialized`` (bool), ``original_instance`` (EC2 item or None), ``reversed`` (the FAILBACK
    source server or None). ``stage`` is ``reverse_replication`` (before ReverseReplication) or ``failback``
    (before launching back).
    """
    name = pair.get("hostname") or pair["source_server_id"]
    checks = {}
    staging = pair.get("staging_account_id")
    checks["failover_record"] = _check(
        staging and pair.get("original_instance_id"), SEVERITY_CRITICAL,
        f"staging account {staging}, original instance {pair.get('original_instance_id')}" if staging else
        f"the failover's execution record has no staging account for {name} ({pair['source_server_id']})",
        "fail over with this collection first (its record keeps the staging account and the original instance), "
        "or pass the failover's execution ID")

    ri = facts.get("recovery_instance")
    instance = facts.get("instance")
    state = ((instance or {}).get("State") or {}).get("Name")
    checks["recovery_instance_running"] = _check(
        ri is not None and state == "running", SEVERITY_CRITICAL,
        f"recovery instance {ri['recoveryInstanceID']} is {state}" if ri else
        f"{name} has no recovery instance in {pair.get('region')}",
        f"start the recovery instance {ri['recoveryInstanceID']} in {pair.get('region')}" if ri else
        "fail over first: there is nothing to fail back from")

    live_ip = (instance or {}).get("PrivateIpAddress")
    expected_ip = pair.get("dr_private_ip")
    checks["private_ip"] = _check(
        instance is not None and expected_ip and live_ip == expected_ip, SEVERITY_CRITICAL,
        f"private IP {live_ip}, recorded {expected_ip}",
        f"the recovery instance of {name} runs with {live_ip} but the failover recorded {expected_ip}: find out "
        "why it changed (replaced instance or network interface) and restore it before failing back")

    missing = egress_missing_ports(facts.get("security_groups") or []) if instance is not None else list(
        REPLICATION_PORTS)
    group_ids = [g["GroupId"] for g in facts.get("security_groups") or []]
    example_group = group_ids[0] if group_ids else "<sg>"
    checks["security_groups"] = _check(
        not missing, SEVERITY_CRITICAL,
        f"security groups {', '.join(group_ids) or 'none'} allow outbound TCP "
        f"{', '.join(str(p) for p in REPLICATION_PORTS if p not in missing)}" if not missing else
        (f"security groups {', '.join(group_ids)} of {name} do not allow outbound TCP " if group_ids else
         f"the recovery instance of {name} has no security group, so nothing allows outbound TCP ")
        + ", ".join(str(p) for p in missing),
        "add egress rules for TCP " + ", ".join(str(p) for p in missing) + " (replication to the staging area on "
        f"1500, the DRS endpoint of {pair.get('original_region')} on 443) to a security group of the recovery "
        "instance, e.g. aws ec2 authorize-security-group-egress --group-id " + example_group
        + " --protocol tcp --port 1500 --cidr <staging subnet CIDR>")

    profile = facts.get("profile")
    if profile is None:
        profile_ok, detail = False, f"the recovery instance of {name} has no IAM instance profile"
    elif profile.get("error"):
        profile_ok, detail = False, f"instance profile {profile.get('arn')} could not be read: {profile['error']}"
    else:
        profile_ok = any(r["grants"] for r in profile["roles"])
        detail = (f"instance profile {profile['name']} role(s) "
                  f"{', '.join(r['name'] for r in profile['roles']) or 'none'}"
                  + (" grant the DRS recovery-instance permissions" if profile_ok else
                     f" do not grant {RECOVERY_INSTANCE_POLICY} or an equivalent"))
    checks["instance_profile"] = _check(
        profile_ok, profile_severity, detail,
        f"attach an instance profile whose role has the managed policy {RECOVERY_INSTANCE_POLICY} "
        "(aws ec2 associate-iam-instance-profile) so the DRS agent can replicate back")

    checks["drs_initialized"] = _check(
        facts.get("origin_initialized"), SEVERITY_CRITICAL,
        f"DRS is {'initialized' if facts.get('origin_initialized') else 'not initialized'} in "
        f"{pair.get('original_region')} for account {staging}",
        f"initialize DRS in {pair.get('original_region')} (aws drs initialize-service --region "
        f"{pair.get('original_region')}) in account {staging}")

    original = facts.get("original_instance")
    if require_original_instance:
        o_state = ((original or {}).get("State") or {}).get("Name")
        o_tags = {t["Key"]: t["Value"] for t in (original or {}).get("Tags") or []}
        problems = []
        if original is None:
            problems.append(f"original instance {pair.get('original_instance_id')} not found in "
                            f"{pair.get('original_region')}")
        else:
            if o_state != "stopped":
                problems.append(f"original instance {original['InstanceId']} is {o_state}, not stopped")
            if o_tags.get(TAG_FAILBACK_TARGET) != "true":
                problems.append(f"original instance {original['InstanceId']} is not tagged {TAG_FAILBACK_TARGET}=true")
        checks["original_instance"] = _check(
            not problems, SEVERITY_CRITICAL,
            "; ".join(problems) or f"original instance {original['InstanceId']} is stopped and tagged "
                                   f"{TAG_FAILBACK_TARGET}=true",
            "the failover's CLEANUP keeps the original instance stopped and tagged as the failback target: re-run "
            "its CLEANUP, or stop and tag the instance (it must not have been terminated)")

    reversed_server = facts.get("reversed")
    if stage == "failback":
        ready, problem = replication_ready(reversed_server, lag_threshold)
        summary = server_summary(reversed_server)
        checks["failback_replication"] = _check(
            ready, SEVERITY_CRITICAL,
            f"FAILBACK source server {summary['source_server_id']} is {summary['replication_state']}"
            + (f" with lag {summary['lag_seconds']}s" if summary["lag_seconds"] is not None else "")
            if summary and ready else f"{name}: {problem}",
            "start reverse replication (the failover's REPLICATE phase, or drs_reverse_replication) and wait until "
            f"the FAILBACK source server in {pair.get('original_region')} is CONTINUOUS with lag under "
            f"{lag_threshold}s; a STOPPED one needs aws drs start-replication")
    if reversed_server is not None and staging:
        actual = effective_staging_account(reversed_server)
        checks["staging_account"] = _check(
            actual == staging, SEVERITY_CRITICAL,
            f"FAILBACK source server {reversed_server.get('sourceServerID')} stages in account {actual}, the failover "
            f"used {staging}",
            f"reverse replication must use the failover's staging account {staging}: stop and remove the FAILBACK "
            "source server and start reverse replication again from that account")

    blocking = [k for k, c in checks.items() if not c["passed"] and c["severity"] == SEVERITY_CRITICAL]
    warnings = [k for k, c in checks.items() if not c["passed"] and c["severity"] != SEVERITY_CRITICAL]
    return {"passed": not blocking, "blocking": blocking, "warnings": warnings, "checks": checks}


def describe_failures(rows):
    """One line per failed check, naming the server and the fix."""
    lines = []
    for row in rows:
        for name in row.get("blocking") or []:
            check = row["checks"][name]
            lines.append(f"{row.get('hostname') or row['source_server_id']} [{name}]: {check['detail']}. "
                         f"Fix: {check['fix']}")
    return lines


# ---------------------------------------------------------------------------------------------- readers

def drs_initialized(drs):
    """Whether DRS answers in this account and region (UninitializedAccountException means no)."""
    try:
        drs.describe_source_servers(filters={}, maxResults=1)
    except ClientError as e:
        if error_code(e) == "UninitializedAccountException":
            return False
        raise
    return True


def call_when_agent_ready(func, timeout, clock=time.monotonic, sleep=time.sleep, first_delay=1.0, max_delay=30.0):
    """Call ``func()``; retry the agent-not-ready ConflictException with exponential backoff until ``timeout``.

    Returns (result, attempts). Any other error, or the conflict after the timeout, is raised.
    """
    deadline = clock() + timeout
    delay = first_delay
    attempts = 0
    while True:
        attempts += 1
        try:
            return func(), attempts
        except ClientError as e:
            if not is_agent_not_ready(e) or clock() + delay > deadline:
                raise
        sleep(delay)
        delay = min(max_delay, delay * 2)


# ------------------------------------------------------------------------------------------------- view

class FailbackView:
    """Live DRS state of server pairs, read once per account and region (one client each, groups concurrently).

    After ``load(pairs)`` each pair carries ``forward`` (the forward source server), ``dr_recovery_instance``
    (its recovery instance in the DR region), ``failback_server`` (the FAILBACK source server in the original
    region, matched by direction and the DR instance's ID) and ``origin_recovery_instance`` (the FAILBACK
    server's recovery instance: the failed-back original instance), each None when absent.

    In the DR region it reads only the pairs' own source servers and recovery instances (filtered by source server
    ID), so a wave reads its own servers, not the estate's: at 1,000 servers in 10 waves, reading the whole region
    made every wave's REPLICATE read all 1,000 again. The original region is read whole: a FAILBACK server is found
    by the DR instance it replicates, which no DRS filter selects.
    """

    def __init__(self, factory, run_concurrently):
        self.factory = factory
        self.run_concurrently = run_concurrently
        self.initialized = {}
        self.servers = {}
        self.recovery_instances = {}
        # The source server IDs read in each account and region; None: every server of the region.
        self.scopes = {}

    def drs(self, account_id, region):
        return self.factory.client("drs", account_id=account_id, region=region)

    def _read_region(self, key):
        from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import describe_recovery_instances
        from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.drs import describe_source_servers

        client = self.drs(*key)
        if not drs_initialized(client):
            return False, [], []
        scope = self.scopes.get(key)
        if scope is None:
            return True, describe_source_servers(client), describe_recovery_instances(client)
        ids = sorted(scope)
        return (True, describe_source_servers(client, source_server_ids=ids),
                describe_recovery_instances(client, source_server_ids=ids))

    def refresh(self, keys):
        results = self.run_concurrently(self._read_region, sorted(set(keys), key=str))
        for key, (initialized, servers, instances) in results.items():
            self.initialized[key] = initialized
            self.servers[key] = servers
            self.recovery_instances[key] = instances

    @staticmethod
    def dr_key(pair):
        return (pair.get("account_id"), pair.get("region"))

    @staticmethod
    def origin_key(pair):
        return (pair.get("staging_account_id"), pair.get("original_region"))

    def scope(self, pairs):
        """Read the pairs' own servers in their DR region, and the whole original region."""
        origins = {self.origin_key(p) for p in pairs if p.get("staging_account_id") and p.get("original_region")}
        for key in origins:
            self.scopes[key] = None
        for pair in pairs:
            key = self.dr_key(pair)
            if key in self.scopes and self.scopes[key] is None:
                continue
            self.scopes.setdefault(key, set()).add(pair["source_server_id"])
        return {self.dr_key(p) for p in pairs} | origins

    def load(self, pairs):
        self.refresh(self.scope(pairs))
        for pair in pairs:
            self.attach(pair)
        return pairs

    def attach(self, pair):
        dr = self.dr_key(pair)
        forward = next((s for s in self.servers.get(dr, []) if s.get("sourceServerID") == pair["source_server_id"]),
                       None)
        pair["forward"] = forward
        ris = [i for i in self.recovery_instances.get(dr, []) if i.get("sourceServerID") == pair["source_server_id"]]
        pair["dr_recovery_instance"] = pick_recovery_instance(ris, drill=pair.get("drill", False))
        dr_instance = (pair["dr_recovery_instance"] or {}).get("ec2InstanceID") or pair.get("dr_instance_id")
        pair["dr_instance_id"] = dr_instance
        origin = self.origin_key(pair)
        pair["origin_initialized"] = self.initialized.get(origin, False)
        failback = None
        if pair.get("failback_source_server_id"):
            failback = next((s for s in self.servers.get(origin, [])
                             if s.get("sourceServerID") == pair["failback_source_server_id"]
                             and replication_state(s) not in GONE_REPLICATION_STATES), None)
        if failback is None and dr_instance:
            failback = find_reversed_server(self.servers.get(origin, []), dr_instance, FAILBACK)
        pair["failback_server"] = failback
        origin_ris = [i for i in self.recovery_instances.get(origin, [])
                      if failback and i.get("sourceServerID") == failback.get("sourceServerID")]
        pair["origin_recovery_instance"] = pick_recovery_instance(origin_ris, drill=pair.get("drill", False))
        return pair


# Paired with the ``servers`` and ``failover_resources`` options documented in each failback module.
FAILBACK_SERVERS_SPEC = dict(
    servers=dict(
        type="list",
        elements="dict",
        required=True,
        options=dict(
            source_server_id=dict(type="str", required=True),
            account_id=dict(type="str"),
            region=dict(type="str"),
            hostname=dict(type="str"),
            priority=dict(type="str"),
            source_instance_id=dict(type="str"),
            source_region=dict(type="str"),
            target_instance_id=dict(type="str"),
            expected_private_ip=dict(type="str"),
            staging_account_id=dict(type="str"),
        ),
    ),
    failover_resources=dict(type="list", elements="dict", default=[]),
)


def build_pairs(params, default_region):
    """pair_servers() over the module's options; an explicit staging_account_id wins over the record."""
    servers = [dict(s, region=s.get("region") or default_region) for s in params["servers"]]
    pairs = pair_servers(servers, params.get("failover_resources"))
    for pair, server in zip(pairs, servers):
        if server.get("staging_account_id"):
            pair["staging_account_id"] = server["staging_account_id"]
        if not pair.get("dr_private_ip") and server.get("expected_private_ip"):
            pair["dr_private_ip"] = server["expected_private_ip"]
    return pairs


def label(pair):
    name = pair.get("hostname")
    return f"{pair['source_server_id']} ({name})" if name else pair["source_server_id"]


def record_entry(pair, phase, status, after, error=None, remediation=None):
    """An execution record resource entry for the forward server of ``pair``."""
    return make_entry(
        resource=pair.get("resource") or (pair.get("forward") or {}).get("arn") or pair["source_server_id"],
        name=pair.get("hostname"), technology="drs", phase=phase, status=status,
        account_id=pair.get("account_id"), region=pair.get("region"), after=after,
        summary=f"{phase} {status}: replication " + str(after.get("failback_replication_state")
                                                        or after.get("reprotect_replication_state") or "starting"),
        error=error, remediation=remediation if error else None)
