"""Route 53: what moto 5.2.5 lacks or gets wrong for DNS failover (reference failover_apis.md section 7.4,
Appendix B.6).

- Hosted zones and health checks answer the Resource Groups Tagging API (moto's Route 53 backend is not taggable
  there; real AWS returns ``route53:hostedzone`` / ``route53:healthcheck``), so discovery works as against AWS.
- ``ChangeResourceRecordSets`` returns a unique change ID, ``PENDING``; ``GetChange`` says ``INSYNC`` after
  ``PROPAGATION_SECONDS`` at the sandbox's time scale and ``NoSuchChange`` for an unknown ID (moto: one constant ID,
  always INSYNC, any ID accepted).
- ``GetHealthCheckStatus`` reports the evaluated health: the endpoint's health (healthy, unless the health check is
  tagged ``sandbox:unhealthy=true``) turned over by ``Inverted``, healthy whenever ``Disabled`` (Disabled+Inverted is
  unhealthy), and a change shows only ``request_interval x failure_threshold`` scaled seconds after the update (moto:
  always "Success").
- ``UpdateHealthCheck`` increments ``HealthCheckVersion`` and refuses a stale one with ``HealthCheckVersionMismatch``.
- ``TestDNSAnswer`` (absent in moto) answers what Route 53 would: a failover pair gives the PRIMARY while its health
  check is healthy, else a healthy SECONDARY; weighted records give the heaviest; the answer's values are the
  record's ``ResourceRecords`` (or its alias target's DNS name).
"""

from __future__ import annotations

import itertools
import time
import xml.etree.ElementTree as ET
from datetime import datetime
from datetime import timezone
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from sandbox.emulators import register
from sandbox.emulators._common import query_error
from sandbox.emulators._common import seconds
from sandbox.locking import STATE_LOCK

PROPAGATION_SECONDS = 2.0
HEALTH_EVALUATION_SECONDS_PER_INTERVAL = 0.02  # a 30 s x 3 health check flips after 1.8 s at time scale 1
XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/"
UNHEALTHY_TAG = "sandbox:unhealthy"

_CHANGES: dict[str, dict] = {}  # change id -> {"due": monotonic, "submitted": iso}
_HEALTH: dict[str, dict] = {}   # health check id -> {"healthy": bool, "since": monotonic, "previous": bool}
_IDS = itertools.count(1)


def _backend(account):
    from moto.route53.models import route53_backends

    return route53_backends[account]["aws"]


def _now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _xml(name, inner):
    body = f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><{name} xmlns=\"{XMLNS}\">{inner}</{name}>"
    return 200, {"Content-Type": "text/xml"}, body.encode()


def _change_info(change_id, status, submitted):
    return (f"<ChangeInfo><Id>/change/{change_id}</Id><Status>{status}</Status>"
            f"<SubmittedAt>{submitted}</SubmittedAt></ChangeInfo>")


# ------------------------------------------------------------------------------------------------ tagging
def _make_taggable():
    from moto.core.resource_tagging import TaggableResourcesMixin
    from moto.core.resource_tagging import TaggedResource
    from moto.route53 import models

    if getattr(models.route53_backends.backend, "SERVICE_NAMESPACE", "") == "route53":
        return

    class TaggableRoute53Backend(models.Route53Backend, TaggableResourcesMixin):
        SERVICE_NAMESPACE = "route53"

        def iter_tagged_resources(self):
            for zone in list(self.zones.values()):
                zone_id = zone.id.split("/")[-1]  # moto's zone.id may carry the /hostedzone/ prefix
                yield TaggedResource(arn=f"arn:aws:route53:::hostedzone/{zone_id}",
                                     tags=dict(self.resource_tags.get(zone_id) or {}),
                                     resource_type="route53:hostedzone")
            for check in list(self.health_checks.values()):
                yield TaggedResource(arn=f"arn:aws:route53:::healthcheck/{check.id}",
                                     tags=dict(self.resource_tags.get(check.id) or {}),
                                     resource_type="route53:healthcheck")

    # moto finds a backend's URL map from the module its class lives in (moto.route53.urls).
    TaggableRoute53Backend.__module__ = models.Route53Backend.__module__
    models.route53_backends.backend = TaggableRoute53Backend


# --------------------------------------------------------------------------------------- record changes
def _text(element, tag):
    found = element.find(f"{{{XMLNS}}}{tag}")
    if found is None:
        found = element.find(tag)
    return None if found is None else (found.text or "")


def _children(element, tag):
    return list(element.findall(f"{{{XMLNS}}}{tag}")) + list(element.findall(tag))


def _record_set(element):
    record = {}
    for key in ("Name", "Type", "SetIdentifier", "Failover", "Region", "HealthCheckId", "MultiValueAnswer"):
        value = _text(element, key)
        if value is not None:
            record[key] = value
    for key in ("TTL", "Weight"):
        value = _text(element, key)
        if value is not None:
            record[key] = int(value)
    records = _children(element, "ResourceRecords")
    if records:
        record["ResourceRecords"] = [{"Value": _text(r, "Value")} for r in _children(records[0], "ResourceRecord")]
    alias = _children(element, "AliasTarget")
    if alias:
        record["AliasTarget"] = {"HostedZoneId": _text(alias[0], "HostedZoneId"),
                                 "DNSName": _text(alias[0], "DNSName"),
                                 "EvaluateTargetHealth": (_text(alias[0], "EvaluateTargetHealth") or "").lower()
                                 == "true"}
    return record


def _change_record_sets(call):
    zone_id = call.path.rstrip("/").split("/")[-2]
    root = ET.fromstring(call.body)
    batch = _children(root, "ChangeBatch")[0]
    changes = []
    for change in _children(_children(batch, "Changes")[0], "Change"):
        changes.append({"Action": _text(change, "Action"),
                        "ResourceRecordSet": _record_set(_children(change, "ResourceRecordSet")[0])})
    from moto.core.exceptions import ServiceException

    with STATE_LOCK:
        try:
            _backend(call.account).change_resource_record_sets(zone_id, changes)
        except ServiceException as e:
            status = 404 if str(e.code).startswith("NoSuch") else 400
            return query_error(str(e.code), str(e.message), status)
    change_id = f"C{next(_IDS):06d}SANDBOX"
    submitted = _now_iso()
    _CHANGES[change_id] = {"due": time.monotonic() + seconds(PROPAGATION_SECONDS), "submitted": submitted}
    return _xml("ChangeResourceRecordSetsResponse", _change_info(change_id, "PENDING", submitted))


def _get_change(call):
    change_id = call.path.rstrip("/").split("/")[-1]
    change = _CHANGES.get(change_id)
    if change is None:
        return query_error("NoSuchChange", f"A change with the specified change ID does not exist: {change_id}", 404)
    status = "INSYNC" if time.monotonic() >= change["due"] else "PENDING"
    return _xml("GetChangeResponse", _change_info(change_id, status, change["submitted"]))


# ----------------------------------------------------------------------------------------- health checks
def _evaluated(check, tags):
    endpoint_healthy = str(tags.get(UNHEALTHY_TAG, "")).lower() != "true"
    if check.disabled:
        return not check.inverted  # Disabled: always healthy; Disabled + Inverted: always unhealthy
    return endpoint_healthy != bool(check.inverted)


def health_of(account, check_id, now=None):
    """The health Route 53 reports now for one health check (with the evaluation delay after a change)."""
    now = time.monotonic() if now is None else now
    backend = _backend(account)
    check = backend.health_checks.get(check_id)
    if check is None:
        return None
    healthy = _evaluated(check, backend.resource_tags.get(check_id) or {})
    state = _HEALTH.get(check_id)
    if state is None:
        _HEALTH[check_id] = state = {"healthy": healthy, "previous": healthy, "since": 0.0}
    elif healthy != state["healthy"]:
        state.update(previous=state["healthy"], healthy=healthy, since=now)
    delay = seconds(HEALTH_EVALUATION_SECONDS_PER_INTERVAL * int(check.request_interval or 30)
                    * int(check.failure_threshold or 3))
    return state["healthy"] if now - state["since"] >= delay else state["previous"]


def _health_status(call):
    check_id = call.path.rstrip("/").split("/")[-2]
    with STATE_LOCK:
        healthy = health_of(call.account, check_id)
    if healthy is None:
        return query_error("NoSuchHealthCheck", f"No health check exists with the specified ID {check_id}", 404)
    status = ("Success: HTTP Status Code: 200, OK" if healthy
              else "Failure: HTTP Status Code: 503, Service Unavailable")
    observations = "".join(
        f"<HealthCheckObservation><Region>{region}</Region><IPAddress>15.177.{index}.10</IPAddress><StatusReport>"
        f"<Status>{status}</Status><CheckedTime>{_now_iso()}</CheckedTime></StatusReport></HealthCheckObservation>"
        for index, region in enumerate(("us-east-1", "us-west-2", "eu-west-1")))
    return _xml("GetHealthCheckStatusResponse", f"<HealthCheckObservations>{observations}</HealthCheckObservations>")


def _update_health_check(call):
    check_id = call.path.rstrip("/").split("/")[-1]
    root = ET.fromstring(call.body) if call.body else None
    wanted = _text(root, "HealthCheckVersion") if root is not None else None
    with STATE_LOCK:
        backend = _backend(call.account)
        check = backend.health_checks.get(check_id)
        if check is None:
            return None  # moto answers NoSuchHealthCheck
        health_of(call.account, check_id)  # remember the health before the change
        if wanted and int(wanted) != int(check.health_check_version):
            return query_error("HealthCheckVersionMismatch",
                               f"The value of HealthCheckVersion in the request ({wanted}) does not match the current "
                               f"version ({check.health_check_version})", 409)
        check.health_check_version = int(check.health_check_version) + 1
    return None  # moto applies the update and answers with the new version


# ------------------------------------------------------------------------------------------- DNS answers
def answer(account, zone_id, name, record_type):
    """The record set Route 53 answers for name/type in the zone (failover and weighted routing), or None."""
    backend = _backend(account)
    zone = backend.get_hosted_zone(zone_id)
    wanted = name.rstrip(".").lower() + "."
    records = [r for r in zone.rrsets if r.name.lower() == wanted and r.type == record_type]

    def healthy(record):
        if not record.health_check_id:
            return True
        return bool(health_of(account, record.health_check_id))

    primary = [r for r in records if (r.failover or "").upper() == "PRIMARY"]
    secondary = [r for r in records if (r.failover or "").upper() == "SECONDARY"]
    if primary or secondary:
        if primary and healthy(primary[0]):
            return primary[0]
        if secondary and healthy(secondary[0]):
            return secondary[0]
        return (primary or secondary)[0]
    weighted = [r for r in records if r.weight is not None]
    if weighted:
        serving = [r for r in weighted if int(r.weight) > 0 and healthy(r)] or weighted
        return max(serving, key=lambda r: int(r.weight))
    return records[0] if records else None


def _values(record):
    if record.alias_target:
        return [record.alias_target.get("DNSName") or ""]
    return [str(v) for v in record.records or []]


def _test_dns_answer(call):
    query = {k.lower(): v[0] for k, v in parse_qs(call.query_string).items()}
    zone_id = query.get("hostedzoneid", "").split("/")[-1]
    name, record_type = query.get("recordname", ""), query.get("recordtype", "A")
    from moto.core.exceptions import ServiceException

    with STATE_LOCK:
        try:
            record = answer(call.account, zone_id, name, record_type)
        except ServiceException:
            return query_error("NoSuchHostedZone", f"No hosted zone found with ID: {zone_id}", 404)
        values = _values(record) if record else []
    entries = "".join(f"<RecordDataEntry>{escape(v)}</RecordDataEntry>" for v in values)
    code = "NOERROR" if record else "NXDOMAIN"
    return _xml("TestDNSAnswerResponse", (
        f"<Nameserver>ns-1.awsdns-sandbox.org</Nameserver><RecordName>{escape(name)}</RecordName>"
        f"<RecordType>{escape(record_type)}</RecordType><RecordData>{entries}</RecordData>"
        f"<ResponseCode>{code}</ResponseCode><Protocol>UDP</Protocol>"))


HANDLERS = {
    "ChangeResourceRecordSets": _change_record_sets,
    "GetChange": _get_change,
    "GetHealthCheckStatus": _health_status,
    "UpdateHealthCheck": _update_health_check,
    "TestDNSAnswer": _test_dns_answer,
}


def _handle(call):
    return HANDLERS[call.operation](call)


def reset():
    _CHANGES.clear()
    _HEALTH.clear()


_make_taggable()
register("route53", "route53", _handle, operations=set(HANDLERS), reset=reset)
