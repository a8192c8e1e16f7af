"""Estates: a YAML description of accounts, networks, servers and other resources, seeded into the sandbox.

``load()`` reads a file or mapping, ``validate()`` reports every error by its path in the document,
``expand()`` turns ``generate`` blocks into servers, and ``seed()`` creates everything through boto3
against a running sandbox (DRS source servers through the sandbox's admin endpoint), returning the
IDs of what it created. The schema is documented in docs/sandbox.md.
"""

from __future__ import annotations

import ipaddress
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

DEFAULT_HUB_ACCOUNT = "123456789012"
DEFAULT_ROLE_NAME = "EnterpriseDRWorkloadRole"
# Amazon Linux (x86_64, no platform) in every region of moto's image catalogue. Not ami-12c6146b: that one
# is a Windows image, which DRS launch-into compatibility checks reject for Linux source servers.
DEFAULT_AMI = "ami-760aaa0f"
PRIORITIES = ("critical", "high", "medium", "low")
REPLICATION_STATES = (
    "STOPPED", "INITIATING", "INITIAL_SYNC", "BACKLOG", "CREATING_SNAPSHOT", "CONTINUOUS", "PAUSED",
    "RESCAN", "STALLED", "DISCONNECTED",
)
TARGET_STATES = ("stopped", "running")
AWSDRS_TAG = ("AWSDRS", "AllowLaunchingIntoThisInstance")
ACCOUNT_ID = re.compile(r"^\d{12}$")
REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")

TOP_LEVEL_KEYS = {
    "version", "name", "description", "hub", "regions", "customers", "accounts", "servers", "generate",
    "resources", "sandbox", "defaults",
}
ACCOUNT_KEYS = {"account_id", "name", "role_name", "external_id", "staging_account", "networks"}
SERVER_KEYS = {
    "hostname", "account", "customer", "environment", "wave", "priority", "recovery_strategy", "rto_target",
    "rpo_target", "health_check_url", "dependencies", "enabled", "tags", "source", "drs", "target",
}
SOURCE_KEYS = {"private_ip", "subnet", "security_groups", "instance_type", "image_id", "tags", "state"}
DRS_KEYS = {
    "account", "replication_state", "lag_seconds", "staging_account", "tags", "copy_tags", "os", "instance_type",
    "boot_mode", "architecture", "last_snapshot_minutes_ago", "initialize", "enabled", "disks",
}
TARGET_KEYS = {"name", "private_ip", "subnet", "security_groups", "instance_type", "image_id", "tags", "state",
               "enabled", "awsdrs_tag"}
GENERATE_KEYS = {
    "count", "name", "customers", "environment", "environments", "accounts", "waves", "priorities",
    "recovery_strategy", "rto_target", "rpo_target", "replication_state", "lag_seconds", "subnets",
    "security_groups", "target", "drs", "tags", "start",
}
RESOURCE_TYPES = {
    "rds_cluster", "rds_instance", "lambda_function", "ecs_service", "dynamodb_table", "sns_topic", "sqs_queue",
    "autoscaling_group", "elasticache_replication_group", "efs_file_system", "eventbridge_rule", "s3_bucket",
    "route53_zone", "eventbridge_endpoint", "fsx_file_system", "aurora_global_cluster", "elasticache_global_datastore",
    "memorydb_cluster",
    "opensearch_domain",
}
TAGGED_FIELDS = (
    ("customer", "Customer"), ("environment", "Environment"), ("wave", "dr:wave"), ("priority", "dr:priority"),
    ("recovery_strategy", "dr:recovery-strategy"), ("rto_target", "dr:rto-target"),
    ("rpo_target", "dr:rpo-target"), ("health_check_url", "dr:health-check-url"),
)


class EstateError(ValueError):
    """The estate file is invalid; ``errors`` lists each problem as 'path: message'."""

    def __init__(self, errors: list[str], source: str = "estate"):
        self.errors = errors
        super().__init__(f"{source} is invalid:\n" + "\n".join(f"  - {error}" for error in errors))


# ----------------------------------------------------------------------------------------- loading
def load(source) -> dict:
    """Read an estate from a path or return a copy of a mapping."""
    if isinstance(source, dict):
        return json.loads(json.dumps(source))
    path = Path(source)
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EstateError([f"cannot read {path}: {exc.strerror}"], str(path)) from None
    except yaml.YAMLError as exc:
        raise EstateError([f"not valid YAML: {exc}"], str(path)) from None
    if not isinstance(document, dict):
        raise EstateError(["the estate must be a mapping at the top level"], str(path))
    return document


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _account_lookup(estate: dict) -> dict:
    """Map account names and IDs (and the hub) to account IDs."""
    lookup = {}
    hub = estate.get("hub") or {}
    hub_id = str(hub.get("account_id", DEFAULT_HUB_ACCOUNT))
    lookup[hub_id] = hub_id
    lookup[str(hub.get("name", "hub"))] = hub_id
    for account in estate.get("accounts") or []:
        if isinstance(account, dict) and account.get("account_id"):
            lookup[str(account["account_id"])] = str(account["account_id"])
            if account.get("name"):
                lookup[str(account["name"])] = str(account["account_id"])
    return lookup


def validate(estate: dict) -> list[str]:
    """Return every problem in the estate as 'path: message' (empty when valid)."""
    errors: list[str] = []

    def err(path, message):
        errors.append(f"{path}: {message}")

    def check_keys(mapping, allowed, path):
        for key in sorted(set(mapping) - allowed, key=str):
            err(f"{path}.{key}" if path else key, f"unknown field (allowed: {', '.join(sorted(allowed))})")

    if not isinstance(estate, dict):
        return ["(top): the estate must be a mapping"]
    check_keys(estate, TOP_LEVEL_KEYS, "")
    if estate.get("version", 1) != 1:
        err("version", f"unsupported version {estate.get('version')!r}; this sandbox reads version 1")

    hub = estate.get("hub", {})
    if not isinstance(hub, dict):
        err("hub", "must be a mapping with account_id and name")
        hub = {}
    if "account_id" in hub and not ACCOUNT_ID.match(str(hub["account_id"])):
        err("hub.account_id", f"{hub['account_id']!r} is not a 12-digit account ID (quote it in YAML)")

    regions = estate.get("regions")
    if not isinstance(regions, dict) or not regions.get("primary") or not regions.get("dr"):
        err("regions", "required: a mapping with primary and dr regions, e.g. {primary: us-east-1, dr: us-west-2}")
        regions = {"primary": "us-east-1", "dr": "us-west-2"}
    else:
        for key in ("primary", "dr"):
            if not REGION.match(str(regions[key])):
                err(f"regions.{key}", f"{regions[key]!r} is not a region name")
        if regions.get("primary") == regions.get("dr"):
            err("regions.dr", "must differ from regions.primary")
    known_regions = {regions.get("primary"), regions.get("dr")}

    customers = estate.get("customers")
    if not isinstance(customers, list) or not customers or not all(isinstance(c, str) and c for c in customers):
        err("customers", "required: a list of customer identifiers, e.g. [acme, globex]")
        customers = []

    accounts = estate.get("accounts")
    account_names = set()
    account_networks: dict = {}
    account_groups: dict = {}
    if not isinstance(accounts, list) or not accounts:
        err("accounts", "required: a list of workload accounts")
        accounts = []
    seen_ids = set()
    for index, account in enumerate(accounts):
        path = f"accounts[{index}]"
        if not isinstance(account, dict):
            err(path, "must be a mapping")
            continue
        check_keys(account, ACCOUNT_KEYS, path)
        account_id = str(account.get("account_id", ""))
        if not ACCOUNT_ID.match(account_id):
            err(f"{path}.account_id", f"{account.get('account_id')!r} is not a 12-digit account ID (quote it in YAML)")
        elif account_id in seen_ids:
            err(f"{path}.account_id", f"{account_id} is declared twice")
        seen_ids.add(account_id)
        if not account.get("name"):
            err(f"{path}.name", "required")
        elif account["name"] in account_names:
            err(f"{path}.name", f"{account['name']!r} is declared twice")
        account_names.add(account.get("name"))
        if not account.get("external_id"):
            err(f"{path}.external_id", "required: the external ID the hub passes when it assumes the role")
        networks = account.get("networks") or {}
        if not isinstance(networks, dict):
            err(f"{path}.networks", "must map a region name to its network")
            networks = {}
        subnets_by_region, groups_by_region = {}, {}
        for region, network in networks.items():
            npath = f"{path}.networks.{region}"
            if region not in known_regions:
                err(npath, f"region {region!r} is neither the primary nor the DR region")
            subnets_by_region[region], groups_by_region[region] = _validate_network(network, npath, err)
        for key in (account.get("name"), account_id):
            account_networks[key] = subnets_by_region
            account_groups[key] = groups_by_region

    lookup = _account_lookup(estate)

    def check_account(value, path, required=True):
        if value is None:
            if required:
                err(path, "required: an account name or ID from accounts")
            return None
        if str(value) not in lookup:
            err(path, f"unknown account {value!r}; declared: {', '.join(sorted(account_names - {None}))}")
            return None
        return str(value)

    def check_subnet(account, region, subnet, ip, path):
        if subnet is None:
            return
        networks = account_networks.get(account, {})
        subnets = networks.get(region, {})
        if subnet not in subnets:
            err(f"{path}.subnet", f"subnet {subnet!r} is not declared in accounts[{account}].networks.{region}")
            return
        if ip is not None:
            try:
                if ipaddress.ip_address(ip) not in ipaddress.ip_network(subnets[subnet]):
                    err(f"{path}.private_ip", f"{ip} is outside subnet {subnet} ({subnets[subnet]})")
            except ValueError:
                err(f"{path}.private_ip", f"{ip!r} is not an IPv4 address")

    def check_tags(value, path):
        if value is None:
            return
        if not isinstance(value, dict):
            err(path, "tags must be a mapping of key to value")
            return
        for key, tag_value in value.items():
            if not isinstance(key, str) or not key:
                err(path, f"tag key {key!r} must be a non-empty string")
            if tag_value is not None and not isinstance(tag_value, (str, int, float, bool)):
                err(f"{path}.{key}", "tag values must be scalars")

    servers = estate.get("servers") or []
    if not isinstance(servers, list):
        err("servers", "must be a list")
        servers = []
    hostnames = {}
    ips = {}
    for index, server in enumerate(servers):
        path = f"servers[{index}]"
        if not isinstance(server, dict):
            err(path, "must be a mapping")
            continue
        check_keys(server, SERVER_KEYS, path)
        hostname = server.get("hostname")
        if not hostname or not isinstance(hostname, str):
            err(f"{path}.hostname", "required")
        elif hostname.strip().lower() in hostnames:
            err(f"{path}.hostname", f"{hostname!r} duplicates {hostnames[hostname.strip().lower()]}")
        else:
            hostnames[hostname.strip().lower()] = path
        account = check_account(server.get("account"), f"{path}.account")
        _validate_dr_fields(server, path, err, customers)
        check_tags(server.get("tags"), f"{path}.tags")
        for part, keys, region in (("source", SOURCE_KEYS, regions.get("primary")),
                                   ("target", TARGET_KEYS, regions.get("dr"))):
            block = server.get(part)
            if block is None or block is False:
                continue
            if not isinstance(block, dict):
                err(f"{path}.{part}", "must be a mapping (or false to leave it out)")
                continue
            check_keys(block, keys, f"{path}.{part}")
            check_tags(block.get("tags"), f"{path}.{part}.tags")
            if "state" in block and block["state"] not in TARGET_STATES:
                err(f"{path}.{part}.state", f"must be one of {', '.join(TARGET_STATES)}")
            ip = block.get("private_ip")
            if ip is not None:
                key = (account, region, ip)
                if key in ips:
                    err(f"{path}.{part}.private_ip", f"{ip} is already used by {ips[key]}")
                ips[key] = f"{path}.{part}"
            if ip is not None and block.get("subnet") is None:
                err(f"{path}.{part}.subnet", "required when private_ip is set")
            if account:
                check_subnet(account, region, block.get("subnet"), ip, f"{path}.{part}")
                for group in block.get("security_groups") or []:
                    groups = account_groups.get(account, {}).get(region, set())
                    if group not in groups:
                        err(f"{path}.{part}.security_groups", f"security group {group!r} is not declared in "
                                                              f"the account's {region} network")
        drs = server.get("drs")
        if isinstance(drs, dict):
            check_keys(drs, DRS_KEYS, f"{path}.drs")
            if drs.get("account") is not None:
                check_account(drs["account"], f"{path}.drs.account")
            if drs.get("staging_account") is not None:
                check_account(drs["staging_account"], f"{path}.drs.staging_account")
            if drs.get("replication_state", "CONTINUOUS") not in REPLICATION_STATES:
                err(f"{path}.drs.replication_state", f"must be one of {', '.join(REPLICATION_STATES)}")
            if "lag_seconds" in drs and (not _is_int(drs["lag_seconds"]) or drs["lag_seconds"] < 0):
                err(f"{path}.drs.lag_seconds", "must be a non-negative integer")
            check_tags(drs.get("tags"), f"{path}.drs.tags")
        elif drs not in (None, False):
            err(f"{path}.drs", "must be a mapping (or false to leave the server out of DRS)")

    generate = estate.get("generate") or []
    if not isinstance(generate, list):
        err("generate", "must be a list of generator blocks")
        generate = []
    for index, block in enumerate(generate):
        path = f"generate[{index}]"
        if not isinstance(block, dict):
            err(path, "must be a mapping")
            continue
        check_keys(block, GENERATE_KEYS, path)
        if not _is_int(block.get("count")) or block["count"] < 1:
            err(f"{path}.count", "required: a positive integer")
        pattern = block.get("name", "gen-{customer}-{index:04d}")
        try:
            pattern.format(index=1, customer="c", environment="e", wave=1, account="a", priority="p")
        except (KeyError, ValueError, IndexError, AttributeError) as exc:
            err(f"{path}.name", f"invalid name pattern {pattern!r} ({exc}); fields: index, customer, environment, "
                                "wave, account, priority")
        for customer in block.get("customers") or []:
            if customer not in customers:
                err(f"{path}.customers", f"unknown customer {customer!r}")
        for account_ref in block.get("accounts") or []:
            check_account(account_ref, f"{path}.accounts")
        waves = block.get("waves", 1)
        if not (_is_int(waves) and waves >= 1) and not (isinstance(waves, list) and all(_is_int(w) for w in waves)):
            err(f"{path}.waves", "must be a positive integer (waves 1..N) or a list of wave numbers")
        for priority in block.get("priorities") or []:
            if priority not in PRIORITIES:
                err(f"{path}.priorities", f"{priority!r} is not one of {', '.join(PRIORITIES)}")

    resources = estate.get("resources") or []
    if not isinstance(resources, list):
        err("resources", "must be a list")
        resources = []
    names = set()
    for index, resource in enumerate(resources):
        path = f"resources[{index}]"
        if not isinstance(resource, dict):
            err(path, "must be a mapping")
            continue
        if resource.get("type") not in RESOURCE_TYPES:
            err(f"{path}.type", f"{resource.get('type')!r} is not one of {', '.join(sorted(RESOURCE_TYPES))}")
        if not resource.get("name"):
            err(f"{path}.name", "required")
        key = (resource.get("type"), resource.get("name"), resource.get("account"), resource.get("region"))
        if key in names:
            err(f"{path}.name", f"{resource.get('name')!r} is declared twice for this type, account and region")
        names.add(key)
        check_account(resource.get("account"), f"{path}.account")
        if resource.get("region", regions.get("primary")) not in known_regions:
            err(f"{path}.region", f"{resource.get('region')!r} is neither the primary nor the DR region")
        _validate_dr_fields(resource, path, err, customers, required=False)
        check_tags(resource.get("tags"), f"{path}.tags")

    sandbox = estate.get("sandbox") or {}
    if not isinstance(sandbox, dict):
        err("sandbox", "must be a mapping with drs, faults and iam_enforcement")
    else:
        for key in set(sandbox) - {"drs", "faults", "iam_enforcement"}:
            err(f"sandbox.{key}", "unknown field (allowed: drs, faults, iam_enforcement)")
        if not isinstance(sandbox.get("iam_enforcement", False), bool):
            err("sandbox.iam_enforcement", "must be true or false")
        if sandbox.get("drs") is not None and not isinstance(sandbox["drs"], dict):
            err("sandbox.drs", "must be a mapping of DRS emulator settings")
        if sandbox.get("faults") is not None and not isinstance(sandbox["faults"], dict):
            err("sandbox.faults", "must be a mapping of fault settings")
    return errors


def _validate_network(network, path, err) -> tuple[dict, set]:
    subnets: dict = {}
    groups: set = set()
    if not isinstance(network, dict):
        err(path, "must be a mapping with vpc, subnets and security_groups")
        return subnets, groups
    for key in set(network) - {"vpc", "subnets", "security_groups"}:
        err(f"{path}.{key}", "unknown field (allowed: vpc, subnets, security_groups)")
    vpc = network.get("vpc") or {}
    try:
        vpc_net = ipaddress.ip_network(vpc.get("cidr"))
    except (TypeError, ValueError):
        err(f"{path}.vpc.cidr", f"{vpc.get('cidr')!r} is not a CIDR block")
        vpc_net = None
    for index, subnet in enumerate(network.get("subnets") or []):
        spath = f"{path}.subnets[{index}]"
        if not isinstance(subnet, dict) or not subnet.get("name"):
            err(spath, "needs a name and a cidr")
            continue
        try:
            net = ipaddress.ip_network(subnet.get("cidr"))
        except (TypeError, ValueError):
            err(f"{spath}.cidr", f"{subnet.get('cidr')!r} is not a CIDR block")
            continue
        if vpc_net is not None and not net.subnet_of(vpc_net):
            err(f"{spath}.cidr", f"{net} is not inside the VPC {vpc_net}")
        if subnet["name"] in subnets:
            err(f"{spath}.name", f"subnet {subnet['name']!r} is declared twice")
        subnets[subnet["name"]] = str(net)
    for index, group in enumerate(network.get("security_groups") or []):
        gpath = f"{path}.security_groups[{index}]"
        if not isinstance(group, dict) or not group.get("name"):
            err(gpath, "needs a name")
            continue
        groups.add(group["name"])
        for direction in ("ingress", "egress"):
            for rindex, rule in enumerate(group.get(direction) or []):
                rpath = f"{gpath}.{direction}[{rindex}]"
                if not isinstance(rule, dict):
                    err(rpath, "must be a mapping with protocol, port (or from_port/to_port) and cidr")
                    continue
                if rule.get("protocol", "tcp") not in ("tcp", "udp", "icmp", "-1", "all"):
                    err(f"{rpath}.protocol", f"{rule.get('protocol')!r} must be tcp, udp, icmp or all")
                if rule.get("protocol", "tcp") not in ("-1", "all") and "port" not in rule and "from_port" not in rule:
                    err(rpath, "needs port or from_port/to_port")
                if not rule.get("cidr") and not rule.get("source_group"):
                    err(rpath, "needs cidr or source_group")
    return subnets, groups


def _validate_dr_fields(item, path, err, customers, required=True):
    if required or "customer" in item:
        if item.get("customer") not in customers:
            err(f"{path}.customer", f"{item.get('customer')!r} is not one of the estate's customers "
                                    f"({', '.join(customers)})")
    if required and not item.get("environment"):
        err(f"{path}.environment", "required (production, staging, development ...)")
    if required or "wave" in item:
        if not _is_int(item.get("wave")) or item["wave"] < 1:
            err(f"{path}.wave", f"{item.get('wave')!r} must be a positive integer")
    if "priority" in item and item["priority"] not in PRIORITIES:
        err(f"{path}.priority", f"{item['priority']!r} is not one of {', '.join(PRIORITIES)}")
    for key in ("rto_target", "rpo_target"):
        if key in item and (not _is_int(item[key]) or item[key] < 0):
            err(f"{path}.{key}", "minutes, a non-negative integer")
    deps = item.get("dependencies")
    if deps is not None and not isinstance(deps, (list, str)):
        err(f"{path}.dependencies", "a list of names or a comma-separated string")


def check(estate: dict, source: str = "estate") -> dict:
    """Validate and expand; raise EstateError listing every problem."""
    errors = validate(estate)
    if errors:
        raise EstateError(errors, source)
    return expand(estate)


# --------------------------------------------------------------------------------------- expansion
def expand(estate: dict) -> dict:
    """Return a copy with generate blocks turned into servers and defaults filled in."""
    estate = json.loads(json.dumps(estate))
    lookup = _account_lookup(estate)
    names = {account["account_id"]: account["name"] for account in estate["accounts"]}
    servers = list(estate.get("servers") or [])
    for block in estate.get("generate") or []:
        servers.extend(_generate(block, estate, lookup, names))
    for server in servers:
        server["account_id"] = lookup[str(server["account"])]
    estate["servers"] = servers
    estate.setdefault("hub", {})
    estate["hub"].setdefault("account_id", DEFAULT_HUB_ACCOUNT)
    estate["hub"]["account_id"] = str(estate["hub"]["account_id"])
    estate["hub"].setdefault("name", "hub")
    for account in estate["accounts"]:
        account["account_id"] = str(account["account_id"])
        account.setdefault("role_name", (estate.get("defaults") or {}).get("role_name", DEFAULT_ROLE_NAME))
    return estate


def _generate(block, estate, lookup, names):
    count = block["count"]
    customers = block.get("customers") or estate["customers"]
    accounts = [lookup[str(a)] for a in (block.get("accounts") or [a["account_id"] for a in estate["accounts"]])]
    waves = block.get("waves", 1)
    waves = list(range(1, waves + 1)) if _is_int(waves) else list(waves)
    priorities = block.get("priorities") or ["medium"]
    environments = block.get("environments") or [block.get("environment", "production")]
    pattern = block.get("name", "gen-{customer}-{index:04d}")
    start = block.get("start", 1)
    target = block.get("target", True)
    drs = block.get("drs", {})
    generated = []
    for offset in range(count):
        index = start + offset
        customer = customers[offset % len(customers)]
        account_id = accounts[offset % len(accounts)]
        # Waves fill in contiguous blocks so wave 1 holds the first servers, like a real plan.
        wave = waves[min(offset * len(waves) // count, len(waves) - 1)]
        priority = priorities[offset % len(priorities)]
        environment = environments[offset % len(environments)]
        hostname = pattern.format(index=index, customer=customer, environment=environment, wave=wave,
                                  account=names.get(account_id, account_id), priority=priority)
        server = {
            "hostname": hostname,
            "account": account_id,
            "customer": customer,
            "environment": environment,
            "wave": wave,
            "priority": priority,
            "recovery_strategy": block.get("recovery_strategy", "launch-into-instance"),
            "tags": dict(block.get("tags") or {}),
            "source": {},
            "drs": {"replication_state": block.get("replication_state", "CONTINUOUS"),
                    "lag_seconds": block.get("lag_seconds", 0), **(drs or {})} if drs is not False else False,
            "target": {} if target else False,
        }
        for key in ("rto_target", "rpo_target"):
            if key in block:
                server[key] = block[key]
        subnets = block.get("subnets") or {}
        groups = block.get("security_groups") or {}
        for part, region_key in (("source", "primary"), ("target", "dr")):
            if server[part] is False:
                continue
            if subnets.get(region_key):
                server[part]["subnet"] = subnets[region_key]
            if groups.get(region_key):
                server[part]["security_groups"] = groups[region_key]
        generated.append(server)
    return generated


def dr_tags(item: dict) -> dict:
    """The DR tag schema for a server or resource declared in the estate."""
    tags = {}
    if "customer" in item:
        tags["dr:enabled"] = "false" if item.get("enabled") is False else "true"
    for field, tag in TAGGED_FIELDS:
        if item.get(field) is not None:
            tags[tag] = str(item[field])
    deps = item.get("dependencies")
    if deps:
        tags["dr:dependencies"] = deps if isinstance(deps, str) else ",".join(deps)
    for key, value in (item.get("tags") or {}).items():
        tags[str(key)] = "" if value is None else str(value)
    return tags


def _tag_list(tags: dict) -> list[dict]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


# ---------------------------------------------------------------------------------------- seeding
class Seeder:
    """Creates an expanded estate in a running sandbox."""

    def __init__(self, estate: dict, endpoint: str, admin=None, workers: int = 8):
        import boto3
        from botocore.config import Config

        from sandbox.control import AdminClient

        self.estate = estate
        self.endpoint = endpoint
        self.admin = admin or AdminClient(endpoint)
        self.primary = estate["regions"]["primary"]
        self.dr = estate["regions"]["dr"]
        self.workers = workers
        self._session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")
        self._config = Config(retries={"mode": "standard", "max_attempts": 10}, max_pool_connections=workers * 2)
        self._clients = {}
        self.accounts = {a["account_id"]: a for a in estate["accounts"]}
        self.lookup = _account_lookup(estate)
        self.networks: dict = {}
        self.result: dict = {"servers": {}, "resources": [], "networks": {}, "roles": {}}

    def client(self, service: str, account_id: str, region: str):
        key = (service, account_id, region)
        client = self._clients.get(key)
        if client is None:
            client = self._session.client(service, region_name=region, endpoint_url=self.endpoint, config=self._config)

            def add_account_header(request, **_kwargs):
                request.headers["x-moto-account-id"] = account_id

            client.meta.events.register("before-sign", add_account_header)
            self._clients[key] = client
        return client

    def run(self) -> dict:
        started = time.monotonic()
        sandbox = self.estate.get("sandbox") or {}
        if sandbox.get("drs"):
            self.admin.drs_settings(**sandbox["drs"])
        self.create_roles()
        self.create_networks()
        servers = self.estate["servers"]
        self.create_instances(servers, "source", self.primary)
        self.create_instances(servers, "target", self.dr)
        self.create_source_servers(servers)
        for resource in self.estate.get("resources") or []:
            self.create_resource(resource)
        if sandbox.get("faults"):
            # Last, so seeding itself is not slowed or throttled.
            self.admin.set_faults(sandbox["faults"])
        if sandbox.get("iam_enforcement"):
            self.admin.iam(enforce=True, hub_account=self.estate["hub"]["account_id"])
        self.result["duration_seconds"] = round(time.monotonic() - started, 2)
        self.result.update(self.summary())
        return self.result

    def summary(self) -> dict:
        hub = self.estate["hub"]
        accounts = [
            {
                "account_id": a["account_id"],
                "name": a["name"],
                "role_arn": f"arn:aws:iam::{a['account_id']}:role/{a['role_name']}",
                "external_id": a["external_id"],
            }
            for a in self.estate["accounts"]
        ]
        return {
            "hub": {"account_id": hub["account_id"], "name": hub["name"]},
            "hub_account_id": hub["account_id"],
            "accounts": accounts,
            "regions": dict(self.estate["regions"]),
            "primary_region": self.primary,
            "dr_region": self.dr,
            "customers": list(self.estate["customers"]),
            "endpoint": self.endpoint,
        }

    # ---------------------------------------------------------------------------------- IAM
    def create_roles(self):
        """The roles of cloudformation/hub.yml and workload-account.yml, with the published policies (iam/policies).

        Each workload account gets the role the hub assumes (external ID condition) with the discovery policy and
        one inline policy per technology, named as the StackSet template names them; the hub gets the controller's
        role (``sandbox.iam_enforcement.HUB_ROLE_NAME``) with the hub and discovery policies. What these roles hold
        is what IAM enforcement (``sandbox.iam_enforcement``) judges requests by.
        """
        from iam import least_privilege
        from iam.render import TITLES
        from sandbox.iam_enforcement import HUB_ROLE_NAME

        def inline(name):
            title = "Discovery" if name == "discovery" else "Hub" if name == "hub" else TITLES[name]
            return f"EnterpriseDR{title}", (least_privilege.POLICY_DIR / f"{name}.json").read_text()

        hub = self.estate["hub"]["account_id"]
        technologies = [name for name in least_privilege.policy_names() if name in TITLES]
        roles = [(account["account_id"], account["role_name"], account["name"], account["external_id"],
                  ["discovery", *technologies]) for account in self.estate["accounts"]]
        roles.append((hub, HUB_ROLE_NAME, "hub", None, ["hub", "discovery"]))
        for account_id, role_name, label, external_id, policies in roles:
            iam = self.client("iam", account_id, self.primary)
            statement = {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{hub}:root"},
                         "Action": "sts:AssumeRole"}
            if external_id:  # as cloudformation/workload-account.yml: the external ID, sessions of at most 900 s
                statement["Condition"] = {"StringEquals": {"sts:ExternalId": external_id},
                                          "NumericLessThanEquals": {"sts:DurationSeconds": "900"}}
            trust = {"Version": "2012-10-17", "Statement": [statement]}
            try:
                role = iam.create_role(
                    RoleName=role_name, AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=3600,
                    Description="Cross-account role the DR hub assumes for failover, drills and failback"
                    if external_id else "The DR controller's identity in the hub account",
                    Tags=[{"Key": "Purpose", "Value": "disaster-recovery"}],
                )["Role"]
            except iam.exceptions.EntityAlreadyExistsException:
                role = iam.get_role(RoleName=role_name)["Role"]
            for name in policies:
                policy_name, document = inline(name)
                iam.put_role_policy(RoleName=role_name, PolicyName=policy_name, PolicyDocument=document)
            if external_id:
                self.result["roles"][label] = role["Arn"]

    # ------------------------------------------------------------------------------ network
    def create_networks(self):
        for account in self.estate["accounts"]:
            for region, network in (account.get("networks") or {}).items():
                self.networks[(account["account_id"], region)] = self._create_network(account, region, network)
                self.result["networks"].setdefault(account["name"], {})[region] = self.networks[
                    (account["account_id"], region)]

    def _create_network(self, account, region, network):
        ec2 = self.client("ec2", account["account_id"], region)
        vpc_spec = network.get("vpc") or {}
        vpc_name = vpc_spec.get("name", f"{account['name']}-{region}")
        vpc = ec2.create_vpc(CidrBlock=vpc_spec["cidr"], TagSpecifications=[
            {"ResourceType": "vpc", "Tags": _tag_list({"Name": vpc_name, **(vpc_spec.get("tags") or {})})}])["Vpc"]
        created = {"vpc_id": vpc["VpcId"], "subnets": {}, "security_groups": {}}
        zones = [f"{region}a", f"{region}b", f"{region}c"]
        for index, subnet in enumerate(network.get("subnets") or []):
            response = ec2.create_subnet(
                VpcId=vpc["VpcId"], CidrBlock=subnet["cidr"], AvailabilityZone=subnet.get("az", zones[index % 3]),
                TagSpecifications=[{"ResourceType": "subnet", "Tags": _tag_list(
                    {"Name": subnet["name"], **(subnet.get("tags") or {})})}],
            )["Subnet"]
            created["subnets"][subnet["name"]] = response["SubnetId"]
        for group in network.get("security_groups") or []:
            group_id = ec2.create_security_group(
                GroupName=group["name"], Description=group.get("description", f"{group['name']} security group"),
                VpcId=vpc["VpcId"],
                TagSpecifications=[{"ResourceType": "security-group", "Tags": _tag_list(
                    {"Name": group["name"], **(group.get("tags") or {})})}],
            )["GroupId"]
            created["security_groups"][group["name"]] = group_id
        for group in network.get("security_groups") or []:
            group_id = created["security_groups"][group["name"]]
            if group.get("ingress"):
                ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[
                    self._permission(rule, created) for rule in group["ingress"]])
            if "egress" in group:
                # An explicit egress list replaces the default allow-all rule, as operators configure it.
                ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=[
                    {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
                if group["egress"]:
                    ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=[
                        self._permission(rule, created) for rule in group["egress"]])
        return created

    @staticmethod
    def _permission(rule, created):
        protocol = str(rule.get("protocol", "tcp"))
        permission = {"IpProtocol": "-1" if protocol in ("all", "-1") else protocol}
        if permission["IpProtocol"] != "-1":
            permission["FromPort"] = int(rule.get("from_port", rule.get("port")))
            permission["ToPort"] = int(rule.get("to_port", rule.get("port")))
        if rule.get("cidr"):
            permission["IpRanges"] = [{"CidrIp": rule["cidr"], "Description": rule.get("description", "")}]
        if rule.get("source_group"):
            permission["UserIdGroupPairs"] = [{"GroupId": created["security_groups"][rule["source_group"]]}]
        return permission

    # ---------------------------------------------------------------------------- instances
    def _instance_tags(self, server, part):
        block = server.get(part) or {}
        if part == "source":
            tags = {"Name": server["hostname"], **dr_tags(server)}
        else:
            tags = {"Name": block.get("name", server["hostname"])}
            if block.get("awsdrs_tag", True):
                tags[AWSDRS_TAG[0]] = AWSDRS_TAG[1]
            tags["Customer"] = server["customer"]
            tags["Environment"] = server["environment"]
        for key, value in (block.get("tags") or {}).items():
            tags[str(key)] = "" if value is None else str(value)
        return tags

    def create_instances(self, servers, part, region):
        """Create source (primary region) or target (DR region) instances, batched where IPs allow."""
        pending = [s for s in servers if s.get(part) is not False and s.get(part) is not None]
        if part == "target":
            pending = [s for s in pending if (s.get("target") or {}).get("enabled", True)]
        if not pending:
            return
        singles, batches = [], {}
        for server in pending:
            block = server.get(part) or {}
            if block.get("private_ip"):
                singles.append(server)
            else:
                key = (server["account_id"], block.get("subnet"), tuple(block.get("security_groups") or ()),
                       block.get("instance_type", "t3.medium"), block.get("image_id", DEFAULT_AMI))
                batches.setdefault(key, []).append(server)

        def launch_one(server):
            block = server.get(part) or {}
            instance = self._run_instances(server["account_id"], region, block, 1, self._instance_tags(server, part))
            return [(server, instance[0])]

        def launch_batch(group):
            block = group[0].get(part) or {}
            instances = self._run_instances(group[0]["account_id"], region, block, len(group), None)
            pairs = list(zip(group, instances, strict=True))
            self.admin.tag_ec2_resources(group[0]["account_id"], region, {
                instance["InstanceId"]: self._instance_tags(server, part) for server, instance in pairs})
            return pairs

        chunks = [group[start:start + 100] for group in batches.values() for start in range(0, len(group), 100)]
        with ThreadPoolExecutor(max_workers=self.workers) as pool:
            # Fixed private IPs first: an automatic address handed out earlier could take one of them.
            results = list(pool.map(launch_one, singles))
            results += list(pool.map(launch_batch, chunks))
        created = [pair for pairs in results for pair in pairs]

        stop = {}
        for server, instance in created:
            entry = self.result["servers"].setdefault(server["hostname"], self._server_entry(server))
            entry[f"{part}_instance_id"] = instance["InstanceId"]
            entry[f"{part}_private_ip"] = instance.get("PrivateIpAddress")
            if part == "target":
                entry["target_name"] = self._instance_tags(server, part)["Name"]
            if (server.get(part) or {}).get("state", "stopped" if part == "target" else "running") == "stopped":
                stop.setdefault(server["account_id"], []).append(instance["InstanceId"])
        for account_id, ids in stop.items():
            ec2 = self.client("ec2", account_id, region)
            for start in range(0, len(ids), 500):
                ec2.stop_instances(InstanceIds=ids[start:start + 500])

    def _server_entry(self, server):
        return {
            "hostname": server["hostname"],
            "account_id": server["account_id"],
            "customer": server["customer"],
            "environment": server["environment"],
            "wave": server["wave"],
            "priority": server.get("priority"),
        }

    def _run_instances(self, account_id, region, block, count, tags):
        ec2 = self.client("ec2", account_id, region)
        network = self.networks.get((account_id, region), {})
        params = {
            "ImageId": block.get("image_id", DEFAULT_AMI),
            "InstanceType": block.get("instance_type", "t3.medium"),
            "MinCount": count,
            "MaxCount": count,
        }
        if block.get("subnet"):
            params["SubnetId"] = network["subnets"][block["subnet"]]
        if block.get("security_groups"):
            params["SecurityGroupIds"] = [network["security_groups"][g] for g in block["security_groups"]]
        if block.get("private_ip"):
            params["PrivateIpAddress"] = block["private_ip"]
        if tags:
            params["TagSpecifications"] = [{"ResourceType": "instance", "Tags": _tag_list(tags)}]
        return ec2.run_instances(**params)["Instances"]

    # ---------------------------------------------------------------------------------- DRS
    def create_source_servers(self, servers):
        specs = []
        for server in servers:
            drs = server.get("drs")
            if drs is False or drs is None or drs.get("enabled") is False:
                continue
            entry = self.result["servers"].setdefault(server["hostname"], self._server_entry(server))
            account_id = self.lookup[str(drs.get("account", server["account_id"]))]
            staging = drs.get("staging_account") or self.accounts.get(server["account_id"], {}).get("staging_account")
            tags = {} if drs.get("copy_tags") is False else dr_tags(server)
            tags.update({str(k): "" if v is None else str(v) for k, v in (drs.get("tags") or {}).items()})
            source = server.get("source") or {}
            specs.append({
                "account_id": account_id,
                "region": self.dr,
                "hostname": server["hostname"],
                "source_instance_id": entry.get("source_instance_id"),
                "origin_region": self.primary,
                "origin_account_id": server["account_id"],
                "private_ip": entry.get("source_private_ip") or source.get("private_ip"),
                "replication_state": drs.get("replication_state", "CONTINUOUS"),
                "lag_seconds": drs.get("lag_seconds", 0),
                "staging_account_id": self.lookup[str(staging)] if staging else account_id,
                "tags": tags,
                "os": drs.get("os", "linux"),
                "instance_type": drs.get("instance_type", source.get("instance_type", "t3.medium")),
                "boot_mode": drs.get("boot_mode"),
                "disks": drs.get("disks"),
                "architecture": drs.get("architecture", "x86_64"),
                "last_snapshot_minutes_ago": drs.get("last_snapshot_minutes_ago", 5),
                "initialize": drs.get("initialize", True),
            })
        if not specs:
            return
        created = []
        for start in range(0, len(specs), 250):
            created.extend(self.admin.seed_source_servers(specs[start:start + 250]))
        # Failback needs DRS initialized in the original region too (behaviour.md 2.3): accounts whose servers
        # DRS protects have both regions set up.
        for origin_account in sorted({s["origin_account_id"] for s in specs if s["initialize"]}):
            self.client("drs", origin_account, self.primary).initialize_service()
        for spec, server in zip(specs, created, strict=True):
            entry = self.result["servers"][spec["hostname"]]
            entry["source_server_id"] = server.get("sourceServerID")
            entry["source_server_arn"] = server.get("arn")
            entry["drs_account_id"] = spec["account_id"]
            entry["staging_account_id"] = spec["staging_account_id"]

    # ---------------------------------------------------------------------------- resources
    def create_resource(self, resource):
        from sandbox.resources import create_resource

        account_id = self.lookup[str(resource["account"])]
        region = resource.get("region", self.primary)
        tags = dr_tags(resource)
        created = create_resource(self, resource, account_id, region, tags)
        created.update({"type": resource["type"], "name": resource["name"], "account_id": account_id,
                        "region": region})
        self.result["resources"].append(created)


def with_sandbox_endpoints(estate: dict, endpoint: str) -> dict:
    """Health check URLs may name the sandbox: {sandbox} is its URL, {sandbox_hostport} its host:port.

    The sandbox answers GET /_sandbox/health/<name> (200, or 503 for names in the health_failures fault),
    so the demo's health checks run for real against the local sandbox.
    """
    hostport = endpoint.split("://", 1)[-1].rstrip("/")
    for item in (estate.get("servers") or []) + (estate.get("resources") or []):
        url = item.get("health_check_url") if isinstance(item, dict) else None
        if isinstance(url, str):
            item["health_check_url"] = url.replace("{sandbox}", endpoint.rstrip("/")).replace(
                "{sandbox_hostport}", hostport)
    return estate


def seed(source, endpoint: str, state_dir: str | Path | None = None, admin=None) -> dict:
    """Validate, expand and seed an estate; write seed_result.json and estate_vars.yml to state_dir."""
    label = str(source) if not isinstance(source, dict) else "estate"
    estate = check(with_sandbox_endpoints(load(source), endpoint), label)
    result = Seeder(estate, endpoint, admin=admin).run()
    if state_dir is not None:
        write_outputs(result, Path(state_dir))
    return result


def estate_vars(result: dict) -> dict:
    """Variables for playbooks (ansible-playbook -e @estate_vars.yml)."""
    return {
        "hub_account_id": result["hub_account_id"],
        "hub_account": result["hub"],
        "accounts": result["accounts"],
        "regions": result["regions"],
        "primary_region": result["primary_region"],
        "dr_region": result["dr_region"],
        "customers": result["customers"],
    }


def write_outputs(result: dict, state_dir: Path):
    state_dir.mkdir(parents=True, exist_ok=True)
    from sandbox.control import ESTATE_VARS_FILE
    from sandbox.control import SEED_RESULT_FILE

    (state_dir / SEED_RESULT_FILE).write_text(json.dumps(result, indent=2, default=str))
    (state_dir / ESTATE_VARS_FILE).write_text(
        "# Written by `python -m sandbox seed`: the seeded estate's accounts, regions and customers.\n"
        + yaml.safe_dump(estate_vars(result), sort_keys=False)
    )
