# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EventBridge failover: per-region rules (enable the DR side, disable the old side) and global endpoints.

A protected rule is the primary region's rule (the host); its DR twin is the rule of the same name on the event bus
of the same name in the DR region, deployed DISABLED. A global endpoint fails over only through the Route 53 health
check of its primary (reference/failover_apis.md 10.2): forcing that check unhealthy (Disabled + Inverted, which
Route 53 evaluates as unhealthy whatever the endpoint answers) routes custom events to the secondary bus; failback
clears both flags. ``put_rule`` is never used to toggle a rule: it replaces the rule.

Readers return plain dicts; ``plan_*`` are pure (unit-tested); ``apply_*`` make the calls.
"""


try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import waiting
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import describe_error

ENABLED_STATES = ("ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS")
FORCED_UNHEALTHY = {"disabled": True, "inverted": True}
EVALUATED = {"disabled": False, "inverted": False}


def regions_for(host, direction):
    """``(activate_region, retire_region)``: failover activates the DR region, failback the primary."""
    primary, dr = host.get("dr_primary_region"), host.get("dr_dr_region")
    return (dr, primary) if direction == "failover" else (primary, dr)


def kind_of(host):
    arn = host.get("dr_arn") or ""
    return "endpoint" if ":endpoint/" in arn else "rule"


def rule_identity(host):
    """``(event bus name, rule name)`` from the host's dr_eventbridge mapping, else from its ARN."""
    spec = host.get("dr_eventbridge") or {}
    if spec.get("rule_name"):
        return spec.get("event_bus_name") or "default", spec["rule_name"]
    resource = (host.get("dr_arn") or "").split(":", 5)[-1]
    parts = resource.split("/")[1:]
    if len(parts) >= 2:
        return parts[0], parts[-1]
    return "default", parts[-1] if parts else host.get("dr_resource_name")


def tags_of(client, arn):
    tags = client.list_tags_for_resource(ResourceARN=arn).get("Tags", [])
    return {t["Key"]: t["Value"] for t in tags}


def read_rule(client, bus, name):
    """``{"exists", "state", "arn", "tags", "targets"}``; ``exists: False`` when there is no such rule."""
    try:
        rule = client.describe_rule(Name=name, EventBusName=bus)
    except is_boto3_error_code("ResourceNotFoundException"):
        return {"exists": False, "state": None, "arn": None, "tags": {}, "targets": 0}
    targets = client.list_targets_by_rule(Rule=name, EventBusName=bus).get("Targets", [])
    return {"exists": True, "state": rule.get("State"), "arn": rule.get("Arn"), "tags": tags_of(client, rule["Arn"]),
            "targets": len(targets)}


def read_rule_pair(factory, host, direction):
    """Both sides of one protected rule. The side being retired may not answer (its region is down)."""
    bus, name = rule_identity(host)
    activate_region, retire_region = regions_for(host, direction)
    account = host.get("dr_account_id")
    pair = {"bus": bus, "name": name, "activate_region": activate_region, "retire_region": retire_region}
    pair["activate"] = read_rule(factory.client("events", account_id=account, region=activate_region), bus, name)
    try:
        pair["retire"] = read_rule(factory.client("events", account_id=account, region=retire_region), bus, name)
        pair["retire_answered"] = True
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        pair["retire"] = None
        pair["retire_answered"] = False
        pair["retire_error"] = describe_error(e)
    return pair


def rule_scope_members(host, pair):
    members = []
    for side in ("activate", "retire"):
        rule = pair.get(side)
        if rule and rule["exists"]:
            members.append((f"{rule['arn']} ({host.get('inventory_hostname')})", rule["tags"]))
    return members


def plan_rule(pair):
    """``(actions, problem)``: actions are ``enable`` / ``disable``; problem is ``(error, remediation)`` or None."""
    activate = pair["activate"]
    if not activate["exists"]:
        return [], (f"no rule {pair['name']} on event bus {pair['bus']} in {pair['activate_region']}",
                    f"deploy the rule {pair['name']} (DISABLED, with the same targets) on the event bus "
                    f"{pair['bus']} in {pair['activate_region']}, then re-run")
    actions = []
    if activate["state"] not in ENABLED_STATES:
        actions.append("enable")
    retire = pair.get("retire")
    if retire and retire["exists"] and retire["state"] != "DISABLED":
        actions.append("disable")
    return actions, None


def rule_state(pair, actions=()):
    """The states of both sides (after ``actions`` when given)."""
    retire = pair.get("retire") or {}
    state = {
        "rule": pair["name"], "event_bus": pair["bus"],
        "active_region_rule_state": "ENABLED" if "enable" in actions else pair["activate"]["state"],
        "old_region_rule_state": ("DISABLED" if "disable" in actions else retire.get("state"))
        if pair.get("retire_answered") else "unknown (region did not answer)",
        "active_region": pair["activate_region"], "old_region": pair["retire_region"],
    }
    return state


def apply_rule(factory, host, pair, actions):
    account = host.get("dr_account_id")
    if "enable" in actions:
        factory.client("events", account_id=account, region=pair["activate_region"]).enable_rule(
            Name=pair["name"], EventBusName=pair["bus"])
    if "disable" in actions:
        factory.client("events", account_id=account, region=pair["retire_region"]).disable_rule(
            Name=pair["name"], EventBusName=pair["bus"])
    check = factory.client("events", account_id=account, region=pair["activate_region"]).describe_rule(
        Name=pair["name"], EventBusName=pair["bus"])
    return check.get("State")


# ------------------------------------------------------------------------------------------ global endpoints
def endpoint_identity(host):
    spec = host.get("dr_eventbridge") or {}
    name = spec.get("endpoint_name") or (host.get("dr_arn") or "").rsplit("/", 1)[-1]
    home = spec.get("home_region") or host.get("dr_resource_region") or host.get("dr_primary_region")
    return name, home


def health_check_id(arn):
    return (arn or "").rsplit("/", 1)[-1] or None


def read_endpoint(factory, host):
    """The endpoint (or why it did not answer), its health check, and the tags of its buses and health check."""
    name, home = endpoint_identity(host)
    account = host.get("dr_account_id")
    spec = host.get("dr_eventbridge") or {}
    found = {"name": name, "home_region": home, "endpoint": None, "answered": True}
    try:
        found["endpoint"] = factory.client("events", account_id=account, region=home).describe_endpoint(
            Name=name, HomeRegion=home)
    except is_boto3_error_code("ResourceNotFoundException"):
        found["missing"] = True
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        found["answered"] = False
        found["error"] = describe_error(e)
    endpoint = found["endpoint"] or {}
    routing = (endpoint.get("RoutingConfig") or {}).get("FailoverConfig") or {}
    found["health_check_arn"] = (routing.get("Primary") or {}).get("HealthCheck") or spec.get("health_check_arn")
    found["secondary_region"] = (routing.get("Secondary") or {}).get("Route") or spec.get("secondary_region")
    found["bus_arns"] = [b["EventBusArn"] for b in endpoint.get("EventBuses") or []] or list(spec.get("event_buses")
                                                                                             or [])
    found["bus_tags"] = {}
    for bus_arn in found["bus_arns"]:
        region = bus_arn.split(":")[3]
        try:
            found["bus_tags"][bus_arn] = tags_of(factory.client("events", account_id=account, region=region), bus_arn)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
            found["bus_tags"][bus_arn] = None  # a region that does not answer: its bus is not changed anyway
    check_id = health_check_id(found["health_check_arn"])
    found["health_check_id"] = check_id
    if check_id:
        route53 = factory.client("route53", account_id=account, region="us-east-1")
        config = route53.get_health_check(HealthCheckId=check_id)["HealthCheck"]["HealthCheckConfig"]
        found["health_check"] = {"disabled": bool(config.get("Disabled")), "inverted": bool(config.get("Inverted"))}
        tag_sets = route53.list_tags_for_resource(
            ResourceType="healthcheck", ResourceId=check_id)["ResourceTagSet"].get("Tags", [])
        found["health_check_tags"] = {t["Key"]: t["Value"] for t in tag_sets}
    return found


def endpoint_scope_members(host, found):
    members = []
    for bus_arn, tags in found["bus_tags"].items():
        if tags is not None:
            members.append((f"{bus_arn} (event bus of {host.get('inventory_hostname')})", tags))
    if found.get("health_check_id"):
        members.append((f"arn:aws:route53:::healthcheck/{found['health_check_id']} (health check of "
                        f"{host.get('inventory_hostname')})", found.get("health_check_tags") or {}))
    return members


def plan_endpoint(found, direction):
    """``(actions, wanted, problem)`` for the endpoint's health check."""
    if found.get("missing"):
        return [], None, (f"no global endpoint {found['name']} in {found['home_region']}",
                          "create the global endpoint, or remove dr:enabled from its event bus")
    if not found.get("health_check_id"):
        return [], None, (f"the global endpoint {found['name']} names no Route 53 health check",
                          "give the endpoint's RoutingConfig.FailoverConfig.Primary a HealthCheck; EventBridge "
                          "fails over only through it")
    wanted = FORCED_UNHEALTHY if direction == "failover" else EVALUATED
    actions = ["update_health_check"] if found["health_check"] != wanted else []
    return actions, wanted, None


def endpoint_state(found, health_check=None):
    health_check = health_check or found.get("health_check") or {}
    forced = health_check.get("disabled") and health_check.get("inverted")
    endpoint = found.get("endpoint") or {}
    return {
        "endpoint": found["name"], "endpoint_id": endpoint.get("EndpointId"),
        "endpoint_state": endpoint.get("State") if found.get("answered") else "unknown (region did not answer)",
        "health_check_id": found.get("health_check_id"),
        "health_check_disabled": health_check.get("disabled"), "health_check_inverted": health_check.get("inverted"),
        "routing_to": found.get("secondary_region") if forced else found["home_region"],
    }


def apply_endpoint(factory, host, found, wanted):
    factory.client("route53", account_id=host.get("dr_account_id"), region="us-east-1").update_health_check(
        HealthCheckId=found["health_check_id"], Disabled=wanted["disabled"], Inverted=wanted["inverted"])


_UNANSWERED = object()  # the endpoint's home region did not answer


def wait_endpoint_active(factory, host, found, timeout, poll_interval):
    """The endpoint's state once ACTIVE (or the last state seen); None when its home region does not answer."""
    name, home = endpoint_identity(host)
    client = factory.client("events", account_id=host.get("dr_account_id"), region=home)

    def read():
        try:
            return client.describe_endpoint(Name=name, HomeRegion=home).get("State")
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
            return _UNANSWERED

    state = waiting.until(read, timeout, poll_interval, done=lambda s: s in ("ACTIVE", _UNANSWERED))[0]
    return None if state is _UNANSWERED else state


# ------------------------------------------------------------------------------------------ both kinds
def read_all(factory, hosts, direction, run_concurrently, group_by_account_region):
    """``{dr_arn: (kind, found)}`` for every host, one client per account and region, groups concurrently."""
    groups = group_by_account_region([dict(h, account_id=h.get("dr_account_id"), region=h.get("dr_resource_region"))
                                      for h in hosts])

    def read(key):
        found = {}
        for host in groups[key]:
            if kind_of(host) == "endpoint":
                found[host["dr_arn"]] = ("endpoint", read_endpoint(factory, host))
            else:
                found[host["dr_arn"]] = ("rule", read_rule_pair(factory, host, direction))
        return found

    states = {}
    for part in run_concurrently(read, groups).values():
        states.update(part)
    return states


def scope_members(host, kind, found):
    return rule_scope_members(host, found) if kind == "rule" else endpoint_scope_members(host, found)


def plan_resource(kind, found, direction):
    """``{"actions", "wanted", "before", "after", "plan", "summary", "problem"}`` for one resource (pure)."""
    if kind == "rule":
        actions, problem = plan_rule(found)
        before = rule_state(found)
        if problem:
            return {"actions": [], "wanted": None, "before": before, "after": before, "plan": problem[0],
                    "summary": None, "problem": problem}
        plan = (f"rule {found['name']}: enable in {found['activate_region']}" if "enable" in actions
                else f"rule {found['name']}: already enabled in {found['activate_region']}")
        if not found.get("retire_answered"):
            plan += f", {found['retire_region']} did not answer: disable it there when it is back"
        elif not (found.get("retire") or {}).get("exists"):
            plan += f", no rule of that name in {found['retire_region']}"
        else:
            plan += (f", disable in {found['retire_region']}" if "disable" in actions
                     else f", already disabled in {found['retire_region']}")
        summary = f"rule {found['name']} active in {found['activate_region']}" + (
            "" if found.get("retire_answered") else f" ({found['retire_region']} did not answer)")
        return {"actions": actions, "wanted": None, "before": before, "after": rule_state(found, actions),
                "plan": plan, "summary": summary, "problem": None}
    actions, wanted, problem = plan_endpoint(found, direction)
    before = endpoint_state(found)
    if problem:
        return {"actions": [], "wanted": None, "before": before, "after": before, "plan": problem[0],
                "summary": None, "problem": problem}
    target = found.get("secondary_region") if direction == "failover" else found["home_region"]
    verb = ("force unhealthy (Disabled+Inverted)" if direction == "failover"
            else "evaluate again (clear Disabled/Inverted)")
    plan = (f"endpoint {found['name']}: health check {found['health_check_id']} "
            f"{verb if actions else 'already as wanted'}, events to {target}; check ACTIVE")
    return {"actions": actions, "wanted": wanted, "before": before, "after": endpoint_state(found, wanted),
            "plan": plan, "summary": f"endpoint {found['name']} routes to {target}", "problem": None}
