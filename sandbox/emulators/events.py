"""EventBridge global endpoints (moto 5.2.5 answers HTTP 500 for every endpoint operation), and rules in the
Resource Groups Tagging API (moto returns only event buses; real AWS returns ``events:rule`` too).

Reproduces reference/failover_apis.md section 10.2 and Appendix B item 9: ``CreateEndpoint`` answers ``CREATING``
and the endpoint is ``ACTIVE`` a little later (``UPDATING -> ACTIVE`` after ``UpdateEndpoint``, ``DELETING -> gone``
after ``DeleteEndpoint``); ``EndpointId``/``EndpointUrl`` are generated; the two event buses must have the same name
in two different regions; ``RoleArn`` is required while replication is ``ENABLED`` (the default); the primary's
health check must be a Route 53 health check ARN. Failover itself is the Route 53 health check (``Inverted`` /
``Disabled``), answered by moto's Route 53.

Endpoints live in this module (moto has no model for them), one store per account and region, cleared by reset.
"""

from __future__ import annotations

import json
import re
import secrets
import threading

from sandbox.emulators import _clock
from sandbox.emulators import register

CREATE_SECONDS = 2.0
UPDATE_SECONDS = 1.0
DELETE_SECONDS = 1.0
NAME_RE = re.compile(r"^[\.\-_A-Za-z0-9]{1,64}$")
BUS_ARN_RE = re.compile(r"^arn:aws[a-z-]*:events:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):event-bus/(?P<name>.+)$")
HEALTH_CHECK_RE = re.compile(r"^arn:aws[a-z-]*:route53:::healthcheck/[A-Za-z0-9-]+$")

_LOCK = threading.Lock()
_ENDPOINTS: dict[tuple[str, str], dict[str, dict]] = {}


class EventsError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def reset():
    with _LOCK:
        _ENDPOINTS.clear()


def _store(account, region):
    return _ENDPOINTS.setdefault((account, region), {})


def _advance(endpoint, store):
    """Apply the transition that is due (read against the clock on every request)."""
    if endpoint.get("_due") is None or not _clock.over(endpoint["_due"]):
        return endpoint
    endpoint["_due"] = None
    if endpoint["State"] == "DELETING":
        store.pop(endpoint["Name"], None)
        return None
    if endpoint["State"] in ("CREATING", "UPDATING"):
        endpoint["State"] = "ACTIVE"
        endpoint["LastModifiedTime"] = _clock.now()
    return endpoint


def _public(endpoint):
    return {key: value for key, value in endpoint.items() if not key.startswith("_")}


def _validate(params, account, region, partial=False):
    routing = params.get("RoutingConfig")
    buses = params.get("EventBuses")
    if not partial or routing is not None:
        failover = (routing or {}).get("FailoverConfig") or {}
        health_check = (failover.get("Primary") or {}).get("HealthCheck")
        secondary = (failover.get("Secondary") or {}).get("Route")
        if not health_check or not HEALTH_CHECK_RE.match(health_check):
            raise EventsError("ValidationException",
                              "RoutingConfig.FailoverConfig.Primary.HealthCheck must be a Route 53 health check ARN "
                              "(arn:aws:route53:::healthcheck/<id>)")
        if not secondary:
            raise EventsError("ValidationException", "RoutingConfig.FailoverConfig.Secondary.Route is required")
    if not partial or buses is not None:
        if not isinstance(buses, list) or len(buses) != 2:
            raise EventsError("ValidationException", "EventBuses must name exactly two event buses")
        parsed = []
        for bus in buses:
            match = BUS_ARN_RE.match((bus or {}).get("EventBusArn") or "")
            if not match:
                raise EventsError("ValidationException", f"{bus!r} is not an event bus ARN")
            parsed.append(match.groupdict())
        if parsed[0]["name"] != parsed[1]["name"]:
            raise EventsError("ValidationException",
                              "The event buses of a global endpoint must have the same name in both Regions "
                              f"({parsed[0]['name']!r} and {parsed[1]['name']!r})")
        if parsed[0]["region"] == parsed[1]["region"]:
            raise EventsError("ValidationException", "The event buses of a global endpoint must be in two Regions")
        if parsed[0]["region"] != region:
            raise EventsError("ValidationException",
                              f"The first event bus must be in the endpoint's Region {region}")
        if routing is not None:
            secondary = routing["FailoverConfig"]["Secondary"]["Route"]
            if secondary != parsed[1]["region"]:
                raise EventsError("ValidationException",
                                  f"Secondary.Route {secondary} is not the Region of the second event bus "
                                  f"({parsed[1]['region']})")
    replication = params.get("ReplicationConfig") or {"State": "ENABLED"}
    if replication.get("State", "ENABLED") not in ("ENABLED", "DISABLED"):
        raise EventsError("ValidationException", "ReplicationConfig.State must be ENABLED or DISABLED")
    return replication


def create_endpoint(params, account, region):
    name = params.get("Name") or ""
    if not NAME_RE.match(name):
        raise EventsError("ValidationException", f"Endpoint name {name!r} does not match [\\.\\-_A-Za-z0-9]+")
    replication = _validate(params, account, region)
    if replication.get("State", "ENABLED") == "ENABLED" and not params.get("RoleArn"):
        raise EventsError("ValidationException", "RoleArn is required when event replication is ENABLED")
    store = _store(account, region)
    existing = store.get(name)
    if existing is not None and _advance(existing, store) is not None:
        raise EventsError("ResourceAlreadyExistsException", f"Endpoint {name} already exists.")
    endpoint_id = f"{secrets.token_hex(3)[:5]}.{secrets.token_hex(2)[:3]}"
    now = _clock.now()
    endpoint = {
        "Name": name,
        "Description": params.get("Description", ""),
        "Arn": f"arn:aws:events:{region}:{account}:endpoint/{name}",
        "RoutingConfig": params["RoutingConfig"],
        "ReplicationConfig": {"State": replication.get("State", "ENABLED")},
        "EventBuses": params["EventBuses"],
        "EndpointId": endpoint_id,
        "EndpointUrl": f"https://{endpoint_id}.endpoint.events.amazonaws.com",
        "State": "CREATING",
        "CreationTime": now,
        "LastModifiedTime": now,
        "_due": _clock.start(CREATE_SECONDS),
    }
    if params.get("RoleArn"):
        endpoint["RoleArn"] = params["RoleArn"]
    store[name] = endpoint
    return {key: endpoint[key] for key in ("Name", "Arn", "RoutingConfig", "ReplicationConfig", "EventBuses",
                                           "State") if key in endpoint} | ({"RoleArn": endpoint["RoleArn"]}
                                                                           if "RoleArn" in endpoint else {})


def _find(params, account, region):
    name = params.get("Name") or ""
    home = params.get("HomeRegion") or region
    store = _store(account, home)
    endpoint = store.get(name)
    if endpoint is not None:
        endpoint = _advance(endpoint, store)
    if endpoint is None:
        raise EventsError("ResourceNotFoundException", f"Endpoint {name} does not exist.")
    return endpoint, store


def describe_endpoint(params, account, region):
    endpoint, _store_ = _find(params, account, region)
    return _public(endpoint)


def list_endpoints(params, account, region):
    home = params.get("HomeRegion") or region
    store = _store(account, home)
    prefix = params.get("NamePrefix") or ""
    found = []
    for name in sorted(store):
        endpoint = _advance(store[name], store)
        if endpoint is not None and name.startswith(prefix):
            found.append(_public(endpoint))
    return {"Endpoints": found}


def update_endpoint(params, account, region):
    endpoint, _store_ = _find(params, account, region)
    if endpoint["State"] != "ACTIVE":
        raise EventsError("ConcurrentModificationException",
                          f"Endpoint {endpoint['Name']} is {endpoint['State']}; retry when it is ACTIVE.")
    merged = {"RoutingConfig": params.get("RoutingConfig"), "EventBuses": params.get("EventBuses"),
              "ReplicationConfig": params.get("ReplicationConfig") or endpoint["ReplicationConfig"]}
    _validate(merged, account, region, partial=True)
    for key in ("Description", "RoutingConfig", "EventBuses", "RoleArn"):
        if params.get(key) is not None:
            endpoint[key] = params[key]
    if params.get("ReplicationConfig") is not None:
        endpoint["ReplicationConfig"] = {"State": params["ReplicationConfig"].get("State", "ENABLED")}
    if endpoint["ReplicationConfig"]["State"] == "ENABLED" and not endpoint.get("RoleArn"):
        raise EventsError("ValidationException", "RoleArn is required when event replication is ENABLED")
    endpoint["State"] = "UPDATING"
    endpoint["_due"] = _clock.start(UPDATE_SECONDS)
    return {key: endpoint[key] for key in ("Name", "Arn", "RoutingConfig", "ReplicationConfig", "EventBuses",
                                           "EndpointId", "EndpointUrl", "State") if key in endpoint}


def delete_endpoint(params, account, region):
    endpoint, _store_ = _find(params, account, region)
    endpoint["State"] = "DELETING"
    endpoint["_due"] = _clock.start(DELETE_SECONDS)
    return {}


OPERATIONS = {
    "CreateEndpoint": create_endpoint,
    "DescribeEndpoint": describe_endpoint,
    "ListEndpoints": list_endpoints,
    "UpdateEndpoint": update_endpoint,
    "DeleteEndpoint": delete_endpoint,
}


def _handle(call):
    try:
        params = json.loads(call.body or b"{}")
    except ValueError:
        params = {}
    try:
        with _LOCK:
            result = OPERATIONS[call.operation](params, call.account, call.region)
    except EventsError as exc:
        return exc.status, {"Content-Type": "application/x-amz-json-1.1"}, {"__type": exc.code, "message": exc.message}
    return 200, {"Content-Type": "application/x-amz-json-1.1"}, result


def _rules_in_tagging_api():
    """Real RGTA returns EventBridge rules (``events:rule``); moto's events backend yields only event buses."""
    from moto.core.resource_tagging import TaggedResource
    from moto.events.models import EventsBackend

    if getattr(EventsBackend.iter_tagged_resources, "_sandbox_rules", False):
        return
    moto_buses = EventsBackend.iter_tagged_resources

    def iter_tagged_resources(self):
        yield from moto_buses(self)
        for bus in list(self.event_buses.values()):
            for rule in list(bus.rules.values()):
                yield TaggedResource(arn=rule.arn, tags=self.tagger.get_tag_dict_for_resource(rule.arn),
                                     resource_type="events:rule")

    iter_tagged_resources._sandbox_rules = True
    EventsBackend.iter_tagged_resources = iter_tagged_resources


_rules_in_tagging_api()
register("events", "events", _handle, operations=OPERATIONS, reset=reset)
