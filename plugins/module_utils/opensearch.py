# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""OpenSearch failover: switch the active domain to the DR region (reference/failover_apis.md section 8).

A protected domain ``P`` (the host, primary region) has a DR domain ``S`` in the DR region, paired one of two ways:

- **managed** domain replication (``DescribeDomainReplication`` shows a peer): ACTIVATE promotes ``S`` with
  ``SwitchoverReplication`` (planned, no write lost) or ``FailoverReplication`` with ``AllowDataLoss`` (an emergency:
  ``P`` does not answer), both called in ``S``'s region, and waits until ``S`` is ``PRIMARY``. After a switchover the
  replication already runs ``S -> P``; after a failover ``P`` is ``EJECTED`` (read-only), and REPLICATE removes the
  peer and pairs again from ``S`` (``P``'s stale data is discarded, as the service requires).
- **ccr**, classic cross-cluster replication (``S`` follows ``P`` through an outbound connection from ``S``):
  ACTIVATE stops replication of every follower index of ``S`` (``POST _plugins/_replication/<index>/_stop``: the
  index becomes a standard, writable index); planned, it first waits until each follower caught up with its leader.
  REPLICATE connects ``P`` to ``S`` (outbound from ``P``, accepted by ``S``), keeps ``P``'s stale copy of each index
  as ``<index>-pre-<execution>`` (write-blocked clone), deletes it and starts replication ``S -> P`` into it.

Every switch ends with the endpoint check: a SigV4-signed ``GET /_cluster/health`` on the new active domain's
endpoint. Failback is the mirror (``direction=failback``). The domain's REST API is reached over https, or over
http when the OpenSearch API endpoint itself is plain http (a local AWS such as the sandbox).
"""

import datetime
import json

try:
    import botocore
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.urls import open_url

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import POLICY
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.clients import describe_error
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils.waiting import last_result as wait_for

# Actions that change something (the others wait or read).
MUTATING = frozenset(("switchover_replication", "failover_replication", "stop", "remove_peer", "add_peer",
                      "create_connection", "accept_connection", "block", "clone", "delete", "start"))
GONE = ("DELETED", "DELETING", "REJECTED", "REJECTING", "VALIDATION_FAILED")
HTTP_ATTEMPTS = 4
HTTP_TIMEOUT = 20


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


error_text = describe_error  # the client layer's one wording (AccessDenied names the policy)


def sides(host, direction):
    """``(from_side, to_side)``, each ``{"region", "domain_name"}``: failover goes primary -> DR."""
    spec = host.get("dr_opensearch") or {}
    primary = {"region": host.get("dr_resource_region") or host.get("dr_primary_region"),
               "domain_name": spec.get("domain_name") or host.get("dr_resource_name")}
    dr = {"region": spec.get("peer_region") or host.get("dr_dr_region"), "domain_name": spec.get("peer_domain_name")}
    return (primary, dr) if direction == "failover" else (dr, primary)


# -------------------------------------------------------------------------------------------- the domain's REST API
class DomainApi:
    """SigV4-signed requests to domains' own endpoints (service ``es``), with the account's credentials."""

    def __init__(self, factory, account_id):
        self.factory = factory
        self.account_id = account_id

    def _scheme(self, region):
        endpoint = self.factory.client("opensearch", account_id=self.account_id, region=region).meta.endpoint_url
        return "http" if (endpoint or "").startswith("http://") else "https"

    def request(self, region, endpoint, method, path, body=None):
        """``(status, document)``; a domain that does not answer raises ``DomainUnreachable``."""
        if not endpoint:
            raise DomainUnreachable("the domain has no endpoint (is it still being created?)")
        url = f"{self._scheme(region)}://{endpoint.rstrip('/')}{path}"
        data = json.dumps(body) if body is not None else None
        last = None
        for attempt in range(1, HTTP_ATTEMPTS + 1):
            credentials = self.factory.session(self.account_id).get_credentials().get_frozen_credentials()
            request = AWSRequest(method=method, url=url, data=data,
                                 headers={"Content-Type": "application/json"} if data else {})
            SigV4Auth(credentials, "es", region).add_auth(request)
            try:
                response = open_url(url, method=method, data=data, headers=dict(request.headers.items()),
                                    timeout=HTTP_TIMEOUT, follow_redirects="none")
                return response.getcode(), _json(response.read())
            except Exception as e:  # pylint: disable=broad-except  # HTTPError carries the domain's answer
                status = getattr(e, "code", None)
                if status and status not in (429, 502, 503, 504):
                    return status, _json(e.read() if hasattr(e, "read") else b"")
                last = f"HTTP {status}" if status else f"{type(e).__name__}: {e}"
                POLICY.sleep(attempt)
        raise DomainUnreachable(f"{endpoint} did not answer ({last})")


class DomainUnreachable(Exception):
    pass


def _json(raw):
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        return {}


def _reason(document):
    error = (document or {}).get("error")
    if isinstance(error, dict):
        return f"{error.get('type')}: {error.get('reason')}"
    return str(error or document)


# -------------------------------------------------------------------------------------------- reading
def describe_domain(client, name):
    """``{"arn", "endpoint", "tags", "processing"}``, or None when there is no such domain."""
    try:
        status = client.describe_domain(DomainName=name)["DomainStatus"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    if status.get("Deleted"):
        return None
    endpoint = status.get("Endpoint") or next(iter((status.get("Endpoints") or {}).values()), None)
    tags = {t["Key"]: t["Value"] for t in client.list_tags(ARN=status["ARN"]).get("TagList", [])}
    return {"arn": status["ARN"], "endpoint": endpoint, "tags": tags, "processing": bool(status.get("Processing"))}


def describe_replication(client, name):
    """Managed replication as the domain sees it: ``{"role", "peer_arn", "peer_role", "status", "message"}`` or
    None when it has no peer."""
    answer = client.describe_domain_replication(DomainName=name)
    peers = answer.get("Peers") or []
    if not peers:
        return None
    peer = peers[0]
    return {"role": answer.get("Role"), "peer_arn": peer.get("PeerDomainArn"), "peer_role": peer.get("PeerRole"),
            "status": peer.get("Status"), "message": peer.get("StatusMessage")}


def outbound_connections(client, domain_name):
    """Live (not deleted or rejected) outbound connections of a domain (it follows their remote domains)."""
    found = client.describe_outbound_connections(
        Filters=[{"Name": "local-domain-info.domain-name", "Values": [domain_name]}]).get("Connections", [])
    return [_connection(c) for c in found if (c.get("ConnectionStatus") or {}).get("StatusCode") not in GONE]


def _connection(connection):
    local = connection["LocalDomainInfo"]["AWSDomainInformation"]
    remote = connection["RemoteDomainInfo"]["AWSDomainInformation"]
    return {"connection_id": connection["ConnectionId"], "alias": connection.get("ConnectionAlias"),
            "status": connection["ConnectionStatus"]["StatusCode"],
            "local": {"domain_name": local["DomainName"], "region": local.get("Region")},
            "remote": {"domain_name": remote["DomainName"], "region": remote.get("Region")}}


def follower_indexes(api, region, endpoint):
    """``{index: {"status", "leader_alias", "leader_index", "leader_checkpoint", "follower_checkpoint"}}`` of the
    domain's follower indexes (replication plugin)."""
    status, stats = api.request(region, endpoint, "GET", "/_plugins/_replication/follower_stats")
    if status != 200:
        raise DomainUnreachable(f"follower_stats answered HTTP {status}: {_reason(stats)}")
    found = {}
    for index in sorted((stats.get("index_stats") or {})):
        code, detail = api.request(region, endpoint, "GET", f"/_plugins/_replication/{index}/_status")
        if code != 200:
            continue
        syncing = detail.get("syncing_details") or {}
        found[index] = {"status": detail.get("status"), "leader_alias": detail.get("leader_alias"),
                        "leader_index": detail.get("leader_index"),
                        "leader_checkpoint": syncing.get("leader_checkpoint"),
                        "follower_checkpoint": syncing.get("follower_checkpoint")}
    return found


def indexes(api, region, endpoint):
    """``{index: docs}`` of the domain's own indexes (system indexes left out)."""
    status, listed = api.request(region, endpoint, "GET", "/_cat/indices?format=json")
    if status != 200:
        raise DomainUnreachable(f"_cat/indices answered HTTP {status}: {_reason(listed)}")
    return {item["index"]: int(item.get("docs.count") or 0) for item in listed or []
            if not item["index"].startswith(".")}


def endpoint_check(api, region, endpoint):
    """``{"endpoint", "answered", "cluster_status", "error"}`` of ``GET /_cluster/health``."""
    result = {"endpoint": endpoint, "answered": False}
    try:
        status, health = api.request(region, endpoint, "GET", "/_cluster/health")
    except DomainUnreachable as e:
        return dict(result, error=str(e))
    if status != 200:
        return dict(result, error=f"HTTP {status}: {_reason(health)}")
    return dict(result, answered=health.get("status") in ("green", "yellow"), cluster_status=health.get("status"),
                error=None if health.get("status") in ("green", "yellow") else f"cluster status {health.get('status')}")


def read(factory, host, direction, recorded_indexes=None, data_plane=True):
    """Both domains, how they are paired and (ccr) the follower indexes. A region that does not answer is noted."""
    account = host.get("dr_account_id")
    spec = host.get("dr_opensearch") or {}
    api = DomainApi(factory, account)
    state = {"mode": spec.get("mode"), "managed": None, "connections": [], "answered": {}, "errors": {},
             "followers": {}, "indexes": {}, "recorded_indexes": list(recorded_indexes or []), "api": api}
    state["from"], state["to"] = sides(host, direction)
    for side in ("to", "from"):  # the side that becomes active first: it answers when the other region is down
        where = state[side]
        state[side + "_domain"] = None
        if not where["domain_name"] or not where["region"]:
            continue
        client = factory.client("opensearch", account_id=account, region=where["region"])
        try:
            domain = describe_domain(client, where["domain_name"])
            state[side + "_domain"] = domain
            state["answered"][side] = True
            if domain and state["managed"] is None:
                managed = describe_replication(client, where["domain_name"])
                if managed:
                    state["managed"] = dict(managed, seen_from=side)
            if domain:
                state["connections"].extend(dict(c, seen_from=side)
                                            for c in outbound_connections(client, where["domain_name"]))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            state["answered"][side] = False
            state["errors"][where["region"]] = error_text(e)
    if state["managed"]:
        state["mode"] = "managed"
    elif state["connections"]:
        state["mode"] = "ccr"
    if data_plane and state["mode"] == "ccr":
        for side in ("to", "from"):
            domain = state.get(side + "_domain")
            if not domain:
                continue
            try:
                state["followers"][side] = follower_indexes(api, state[side]["region"], domain["endpoint"])
                state["indexes"][side] = indexes(api, state[side]["region"], domain["endpoint"])
            except DomainUnreachable as e:
                state["answered"][side + "_endpoint"] = False
                state["errors"][domain["endpoint"] or side] = str(e)
    return state


def scope_members(host, state):
    members = []
    for side in ("from", "to"):
        domain = state.get(side + "_domain")
        if domain:
            members.append((f"{domain['arn']} ({host.get('inventory_hostname')})", domain["tags"]))
    return members


def roles(state):
    """``(from_role, to_role, status)`` of managed replication (``PRIMARY``/``SECONDARY``), or Nones."""
    managed = state.get("managed")
    if not managed:
        return None, None, None
    seen = managed["seen_from"]
    other = "from" if seen == "to" else "to"
    found = {seen: managed["role"], other: managed["peer_role"]}
    return found.get("from"), found.get("to"), managed["status"]


def connection_between(state, follower, leader):
    """The live connection by which ``follower`` (a side) follows ``leader``, or None."""
    for connection in state.get("connections") or []:
        if (connection["local"]["domain_name"] == state[follower]["domain_name"]
                and connection["remote"]["domain_name"] == state[leader]["domain_name"]
                and connection["local"]["region"] == state[follower]["region"]):
            return connection
    return None


def lag_operations(followers):
    gaps = [f["leader_checkpoint"] - f["follower_checkpoint"] for f in (followers or {}).values()
            if f.get("leader_checkpoint") is not None and f.get("follower_checkpoint") is not None]
    return max(gaps) if gaps else None


def describe(state):
    """The before/after shape of one domain pair."""
    from_role, to_role, status = roles(state)
    src, dst = state["from"], state["to"]
    if state["mode"] == "managed" and status:
        primary, secondary = (src, dst) if from_role == "PRIMARY" else (dst, src)
        replication = f"{primary['domain_name']} -> {secondary['domain_name']} {status}"
    elif state["mode"] == "ccr":
        links = [f"{c['remote']['domain_name']} -> {c['local']['domain_name']} {c['status']}"
                 for c in state.get("connections") or []]
        replication = ", ".join(links) or "no connection"
    else:
        replication = "none"
    followers = state.get("followers") or {}
    return {
        "mode": state["mode"], "active_domain": src["domain_name"], "active_region": src["region"],
        "dr_domain": dst["domain_name"], "dr_region": dst["region"], "replication": replication,
        "replication_status": status, "dr_role": to_role, "original_role": from_role,
        "dr_follower_indexes": sorted(followers.get("to") or {}),
        "original_follower_indexes": sorted(followers.get("from") or {}),
        "lag_operations": lag_operations(followers.get("to")),
        "dr_endpoint": (state.get("to_domain") or {}).get("endpoint"),
        "peer_domain_name": state["to"]["domain_name"] if state["to"]["region"] != state["from"]["region"] else None,
    }


# -------------------------------------------------------------------------------------------- planning
def missing_pair(state):
    src, dst = state["from"], state["to"]
    if not dst["domain_name"]:
        return ("no DR domain is known (no replication peer and no cross-cluster connection)",
                "pair the domain with its DR domain (AddReplicationPeer, or a cross-cluster connection from the DR "
                "domain and replication of its indexes), then re-run discovery")
    if state.get("to_domain") is None:
        if state["answered"].get("to") is False:
            return (f"the domain {dst['domain_name']} in {dst['region']} does not answer "
                    f"({state['errors'].get(dst['region'])})", "check access to the region and re-run")
        return (f"domain {dst['domain_name']} not found in {dst['region']}",
                "check the replication peer or connection of the domain")
    if state["mode"] is None:
        return (f"{src['domain_name']} and {dst['domain_name']} do not replicate (no managed replication peer and no "
                "cross-cluster connection)", "set up replication to the DR domain, then re-run")
    return None


def plan_activate(state, unplanned):
    """``(actions, problem)`` for ACTIVATE: the DR side becomes the active, writable domain."""
    problem = missing_pair(state)
    if problem:
        return [], problem
    src, dst = state["from"], state["to"]
    if state["mode"] == "managed":
        _from_role, to_role, status = roles(state)
        if to_role == "PRIMARY" and status in ("ACTIVE", "EJECTED", "PENDING_REMOVAL", "PENDING_SETUP"):
            return ["check_endpoint"], None  # already promoted (a resumed run): never switched twice
        if status in ("SWITCHING_OVER", "FAILING_OVER"):
            return ["wait_promoted", "check_endpoint"], None
        if to_role == "SECONDARY" and (status == "ACTIVE" or (unplanned and status == "FAILED")):
            return ["failover_replication" if unplanned else "switchover_replication", "wait_promoted",
                    "check_endpoint"], None
        return [], (f"replication {src['domain_name']} -> {dst['domain_name']} is {status}",
                    "wait until the replication is ACTIVE (DescribeDomainReplication), then re-run")
    followers = state["followers"].get("to")
    if followers is None:
        return [], (f"the endpoint of {dst['domain_name']} does not answer "
                    f"({state['errors'].get((state.get('to_domain') or {}).get('endpoint') or 'to')})",
                    "check the domain's access policy (es:ESHttpGet/ESHttpPost) and network path, then re-run")
    mine = {i: f for i, f in followers.items() if connection_alias_leads(state, f.get("leader_alias"))}
    not_ready = [i for i, f in mine.items() if f["status"] not in ("SYNCING", "PAUSED")]
    if not_ready:
        return [], (f"follower index(es) {', '.join(not_ready)} of {dst['domain_name']} still "
                    f"{mine[not_ready[0]]['status']}", "wait until replication is SYNCING, then re-run")
    actions = []
    if mine and not unplanned:
        actions.append("wait_caught_up")
    actions += [f"stop:{i}" for i in sorted(mine)]
    return actions + ["check_endpoint"], None


def connection_alias_leads(state, alias):
    """Whether a follower index's leader alias is the connection to the side being failed over from."""
    connection = connection_between(state, "to", "from")
    return alias is None or connection is None or connection["alias"] == alias


def plan_replicate(state, execution_id):
    """``(actions, problem)`` for REPLICATE: replication runs again, new active (to) -> old active (from)."""
    problem = missing_pair(state)
    if problem:
        return [], problem
    src, dst = state["from"], state["to"]
    if state["answered"].get("from") is False or state.get("from_domain") is None:
        return [], (f"the original domain {src['domain_name']} in {src['region']} does not answer",
                    "re-run REPLICATE when the original region is back (-e '{\"phases\": [\"replicate\"]}')")
    if state["mode"] == "managed":
        from_role, to_role, status = roles(state)
        if to_role == "SECONDARY" and status in ("ACTIVE", "SWITCHING_OVER", "FAILING_OVER"):
            return [], (f"{dst['domain_name']} is still the secondary", "run ACTIVATE first, then re-run")
        if status == "ACTIVE":
            return [], None  # the switchover reversed the replication already
        if status == "PENDING_SETUP":
            return ["wait_active"], None
        if status == "EJECTED":
            return ["remove_peer", "wait_removed", "add_peer", "wait_active"], None
        if status == "PENDING_REMOVAL":
            return ["wait_removed", "add_peer", "wait_active"], None
        return [], (f"replication {src['domain_name']} <-> {dst['domain_name']} is {status} ({from_role}/{to_role})",
                    "check DescribeDomainReplication of both domains")
    if state["mode"] != "ccr":
        return [], None
    if "from" not in state["followers"]:
        return [], (f"the endpoint of {src['domain_name']} does not answer", "check access to it and re-run")
    still = [i for i, f in (state["followers"].get("to") or {}).items()
             if connection_alias_leads(state, f.get("leader_alias"))]
    if still:
        return [], (f"{dst['domain_name']} still follows {src['domain_name']} ({', '.join(still)})",
                    "run ACTIVATE first (it stops the replication), then re-run")
    actions = []
    connection = connection_between(state, "from", "to")
    if connection is None:
        actions += ["create_connection", "accept_connection"]
    elif connection["status"] in ("VALIDATING", "PENDING_ACCEPTANCE"):
        actions.append("accept_connection")
    actions.append("wait_connection")
    wanted = state["recorded_indexes"] or sorted(i for i in (state["indexes"].get("to") or {})
                                                 if "-pre-" not in i)
    following = state["followers"].get("from") or {}
    on_from = state["indexes"].get("from") or {}
    suffix = f"-pre-{(execution_id or 'failover')[:8].lower()}"
    for index in wanted:
        if index in following:
            continue
        if index in on_from:
            if index + suffix not in on_from:
                actions += [f"block:{index}", f"clone:{index}:{index}{suffix}"]
            actions.append(f"delete:{index}")
        actions.append(f"start:{index}")
    if not [a for a in actions if a.split(":", 1)[0] in MUTATING]:
        if following and all(f["status"] == "SYNCING" for f in following.values()):
            return [], None  # replicating back already (a resumed run)
        return (["wait_connection", "wait_syncing"] if following else []), None
    return actions + ["wait_syncing"], None


# -------------------------------------------------------------------------------------------- acting
def changes(actions):
    return any(a.split(":", 1)[0] in MUTATING for a in actions)


class StepFailed(Exception):
    """A step of one domain failed: the message names it, ``remediation`` the fix."""

    def __init__(self, message, remediation):
        super().__init__(message)
        self.remediation = remediation


def _client(factory, host, side_state):
    return factory.client("opensearch", account_id=host.get("dr_account_id"), region=side_state["region"])


def apply_activate(factory, host, state, actions, timeout, poll_interval):
    """Run the ACTIVATE actions; returns ``{"to_role", "stopped", "endpoint", "lag_operations"}``."""
    src, dst = state["from"], state["to"]
    client, api = _client(factory, host, dst), state["api"]
    done = {"stopped": [], "lag_operations": None}
    peer_arn = (state.get("from_domain") or {}).get("arn") or (state.get("managed") or {}).get("peer_arn")
    if "switchover_replication" in actions:
        client.switchover_replication(DomainName=dst["domain_name"], PeerDomainArn=peer_arn)
    if "failover_replication" in actions:
        client.failover_replication(DomainName=dst["domain_name"], PeerDomainArn=peer_arn, AllowDataLoss=True)
    if "wait_promoted" in actions:
        def promoted():
            managed = describe_replication(client, dst["domain_name"])
            return managed if managed and managed["role"] == "PRIMARY" and managed["status"] in (
                "ACTIVE", "EJECTED") else None

        managed = wait_for(promoted, timeout, poll_interval)
        if not managed:
            raise StepFailed(f"{dst['domain_name']} is not the primary yet (replication still switching)",
                             "re-run: the switch was requested and is not repeated")
        done["to_role"], done["replication_status"] = managed["role"], managed["status"]
    endpoint = (state.get("to_domain") or {}).get("endpoint")
    stops = [a.split(":", 1)[1] for a in actions if a.startswith("stop:")]
    if "wait_caught_up" in actions:
        def caught_up():
            followers = follower_indexes(api, dst["region"], endpoint)
            lag = lag_operations({i: followers[i] for i in stops if i in followers})
            return {"lag": lag} if lag is not None and lag <= 0 else None

        if not wait_for(caught_up, timeout, poll_interval):
            raise StepFailed(f"the follower indexes of {dst['domain_name']} did not catch up with "
                             f"{src['domain_name']} (writes still arriving?)",
                             "stop the writers of the primary domain and re-run (or run an emergency failover, "
                             "-e emergency=true, to accept the lag)")
    if stops:
        done["lag_operations"] = lag_operations({i: f for i, f in follower_indexes(api, dst["region"], endpoint).items()
                                                 if i in stops})
    for index in stops:
        status, answer = api.request(dst["region"], endpoint, "POST", f"/_plugins/_replication/{index}/_stop", {})
        if status != 200 and "No replication in progress" not in _reason(answer):
            raise StepFailed(f"stopping replication of {index} on {dst['domain_name']} answered HTTP {status}: "
                             f"{_reason(answer)}", "check the role mapping for indices:admin/plugins/replication/*")
        done["stopped"].append(index)
    if "check_endpoint" in actions:
        done["endpoint"] = wait_for(lambda: _answered(endpoint_check(api, dst["region"], endpoint)),
                                    min(timeout, 120), poll_interval) or endpoint_check(api, dst["region"], endpoint)
    return done


def _answered(check):
    return check if check.get("answered") else None


def apply_replicate(factory, host, state, actions, timeout, poll_interval):
    """Run the REPLICATE actions; returns ``{"replication_status", "started", "kept", "connection"}``."""
    src, dst = state["from"], state["to"]
    to_client, from_client, api = _client(factory, host, dst), _client(factory, host, src), state["api"]
    done = {"started": [], "kept": [], "connection": None}
    account = host.get("dr_account_id")
    if "remove_peer" in actions:
        to_client.remove_replication_peer(DomainName=dst["domain_name"], PeerDomainArn=state["from_domain"]["arn"])
    if "wait_removed" in actions:
        if not wait_for(lambda: describe_replication(to_client, dst["domain_name"]) is None or None, timeout,
                        poll_interval):
            raise StepFailed(f"the replication peer of {dst['domain_name']} is still being removed",
                             "re-run REPLICATE: the removal is not repeated")
    if "add_peer" in actions:
        to_client.add_replication_peer(DomainName=dst["domain_name"], PeerDomainArn=state["from_domain"]["arn"])
    if "wait_active" in actions:
        managed = wait_for(lambda: _active(describe_replication(to_client, dst["domain_name"])), timeout,
                           poll_interval)
        if not managed:
            raise StepFailed(f"replication {dst['domain_name']} -> {src['domain_name']} is not ACTIVE yet",
                             "re-run REPLICATE to wait again (the peer is not added twice)")
        done["replication_status"] = managed["status"]
    if state["mode"] != "ccr":
        return done
    connection = connection_between(state, "from", "to")
    if "create_connection" in actions:
        created = from_client.create_outbound_connection(
            LocalDomainInfo={"AWSDomainInformation": {"OwnerId": account, "DomainName": src["domain_name"],
                                                      "Region": src["region"]}},
            RemoteDomainInfo={"AWSDomainInformation": {"OwnerId": account, "DomainName": dst["domain_name"],
                                                       "Region": dst["region"]}},
            ConnectionAlias=dst["domain_name"], ConnectionMode="DIRECT")
        connection = _connection(created)
    if "accept_connection" in actions:
        def pending():
            found = [c for c in outbound_connections(from_client, src["domain_name"])
                     if c["connection_id"] == connection["connection_id"]]
            return found[0] if found and found[0]["status"] != "VALIDATING" else None

        current = wait_for(pending, timeout, poll_interval) or connection
        if current["status"] == "PENDING_ACCEPTANCE":
            to_client.accept_inbound_connection(ConnectionId=connection["connection_id"])

    def active():
        found = [c for c in outbound_connections(from_client, src["domain_name"])
                 if c["connection_id"] == connection["connection_id"]]
        return found[0] if found and found[0]["status"] == "ACTIVE" else None

    current = wait_for(active, timeout, poll_interval)
    if not current:
        raise StepFailed(f"the connection {src['domain_name']} -> {dst['domain_name']} is not ACTIVE",
                         "check the inbound connection of the DR domain (accept it), then re-run")
    done["connection"] = current["connection_id"]
    endpoint = state["from_domain"]["endpoint"]
    for action in actions:
        verb, _sep, argument = action.partition(":")
        if verb == "block":
            _ok(api.request(src["region"], endpoint, "PUT", f"/{argument}/_settings",
                            {"index": {"blocks": {"write": True}}}), f"write-blocking {argument}")
        elif verb == "clone":
            index, target = argument.split(":", 1)
            _ok(api.request(src["region"], endpoint, "POST", f"/{index}/_clone/{target}", {}),
                f"keeping {index} as {target}", tolerate="resource_already_exists")
            done["kept"].append(target)
        elif verb == "delete":
            _ok(api.request(src["region"], endpoint, "DELETE", f"/{argument}"), f"deleting the stale {argument}",
                tolerate="index_not_found")
        elif verb == "start":
            _ok(api.request(src["region"], endpoint, "PUT", f"/_plugins/_replication/{argument}/_start",
                            {"leader_alias": current["alias"], "leader_index": argument,
                             "use_roles": {"leader_cluster_role": "cross_cluster_replication_leader_full_access",
                                           "follower_cluster_role": "cross_cluster_replication_follower_full_access"}}),
                f"starting replication of {argument}", tolerate="resource_already_exists")
            done["started"].append(argument)
    if "wait_syncing" in actions:
        def syncing():
            followers = follower_indexes(api, src["region"], endpoint)
            return followers if followers and all(f["status"] == "SYNCING" for f in followers.values()) else None

        if not wait_for(syncing, timeout, poll_interval):
            raise StepFailed(f"replication {dst['domain_name']} -> {src['domain_name']} is not SYNCING yet",
                             "re-run REPLICATE to wait again (replication is not started twice)")
        done["replication_status"] = "SYNCING"
    return done


def _active(managed):
    return managed if managed and managed["status"] == "ACTIVE" else None


def _ok(answer, what, tolerate=None):
    status, document = answer
    if 200 <= status < 300 or (tolerate and tolerate in _reason(document)):
        return document
    raise StepFailed(f"{what} answered HTTP {status}: {_reason(document)}",
                     "check the domain's access policy and role mapping (es:ESHttpPut/ESHttpPost/ESHttpDelete), then "
                     "re-run")
