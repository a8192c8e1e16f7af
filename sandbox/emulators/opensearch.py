"""OpenSearch domain replication, cross-cluster connections and the domains' own REST API (moto 5.2.5 has none).

moto keeps OpenSearch domains (create, describe, tags) and answers every replication and connection operation with
404; it never emulated the in-cluster API. This module reproduces reference/failover_apis.md section 8 and
Appendix B item 7, with the state in moto's domains where moto shows it and in this module otherwise:

- Managed domain replication: ``AddReplicationPeer`` (called on the domain that becomes the primary; the peer in
  another region of the same account; one peer per domain) ``PENDING_SETUP -> ACTIVE``; ``DescribeDomainReplication``
  (``Role`` and ``Peers``; a domain that does not replicate has no ``Role`` and empty ``Peers``);
  ``SwitchoverReplication`` (planned, called in the region of the secondary to promote) ``SWITCHING_OVER -> ACTIVE``
  with the roles swapped on both; ``FailoverReplication`` (``AllowDataLoss`` must be true) ``FAILING_OVER`` -> the
  promoted domain ``PRIMARY`` and the former primary ``EJECTED`` (read-only, keeps its data); ``RemoveReplicationPeer``
  ``PENDING_REMOVAL -> removed`` (both keep their data, the former secondary writable). While the pair is ACTIVE the
  secondary holds what the primary holds (its indexes and documents), read-only.
- Cross-cluster connections (the follower asks, the leader's owner accepts): ``CreateOutboundConnection``
  ``VALIDATING -> PENDING_ACCEPTANCE``; ``AcceptInboundConnection`` ``APPROVED -> PROVISIONING -> ACTIVE``;
  ``Describe{Outbound,Inbound}Connections`` with their filters (outbound in the follower's region, inbound in the
  leader's); ``Delete{Outbound,Inbound}Connection`` ``DELETING -> DELETED`` (still listed).
- The domain endpoint: moto's ``Endpoint`` is answered as ``<sandbox host>/_opensearch/<region>/<domain>`` (the
  sandbox has no DNS for ``*.es.amazonaws.com``; a path-style endpoint, as other local AWS emulators give), and
  SigV4-signed requests under it are the domain's REST API: ``GET /_cluster/health``, ``GET /_cat/indices``,
  ``PUT|DELETE /<index>``, ``POST /<index>/_doc`` (refused on a follower index, a write-blocked index and on a
  managed secondary or ejected domain), ``GET /<index>/_count``, ``PUT /<index>/_settings`` (``index.blocks.write``),
  ``POST /<index>/_clone/<target>``, and the replication plugin: ``PUT _plugins/_replication/<index>/_start`` (needs
  an ACTIVE outbound connection with that alias; the follower index must not exist) ``BOOTSTRAPPING -> SYNCING``,
  ``GET .../_status`` (checkpoints; ``PAUSED`` while the connection is not ACTIVE), ``POST .../_stop`` (the index
  becomes a standard, writable index; it cannot be restarted in place), ``GET _plugins/_replication/follower_stats``.
  A follower catches up with its leader one sync interval after the leader's last write.

Durations follow the sandbox's one time scale (``_clock``). ``reset`` clears everything this module keeps.
"""

from __future__ import annotations

import json
import re
import uuid
from urllib.parse import unquote

from sandbox.emulators import _clock
from sandbox.emulators import register
from sandbox.locking import STATE_LOCK

# Seconds at time scale 1.
DURATIONS = {"setup": 2.0, "switchover": 2.0, "failover": 1.5, "removal": 1.0, "validate": 0.5, "provision": 1.0,
             "delete": 0.5, "bootstrap": 1.0, "sync": 1.0}
ENDPOINT_PREFIX = "/_opensearch/"
PATH_REPLICATION = re.compile(
    r"^/2021-01-01/opensearch/domain/(?P<name>[^/]+)/replication(?:/(?P<action>\w+))?/?$")
PATH_OUTBOUND = re.compile(r"^/2021-01-01/opensearch/cc/outboundConnection(?:/(?P<id>[^/]+))?/?$")
PATH_INBOUND = re.compile(
    r"^/2021-01-01/opensearch/cc/inboundConnection/(?P<id>[^/]+)(?:/(?P<action>accept|reject))?/?$")
ANSWERED = {"AddReplicationPeer", "DescribeDomainReplication", "SwitchoverReplication", "FailoverReplication",
            "RemoveReplicationPeer", "CreateOutboundConnection", "AcceptInboundConnection", "RejectInboundConnection",
            "DescribeOutboundConnections", "DescribeInboundConnections", "DeleteOutboundConnection",
            "DeleteInboundConnection"}

_LOCK = STATE_LOCK
_PAIRS: dict[str, dict] = {}          # domain ARN -> its replication pair (both ARNs point at the same dict)
_CONNECTIONS: dict[str, dict] = {}    # connection ID -> connection
_INDEXES: dict[tuple, dict] = {}      # (account, region, domain) -> {index: state}
_HOST = {"value": "localhost"}        # the sandbox's host:port as clients reach it (domain endpoints)


class OpenSearchError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def reset():
    with _LOCK:
        _PAIRS.clear()
        _CONNECTIONS.clear()
        _INDEXES.clear()


# ------------------------------------------------------------------------------------------- moto's domains
def _backend(account, region):
    from moto.opensearch.models import opensearch_backends

    return opensearch_backends[account][region]


def _domain(account, region, name):
    domain = _backend(account, region).domains.get(name)
    if domain is None or domain.deleted:
        raise OpenSearchError("ResourceNotFoundException", f"Domain not found: {name}", 409)
    return domain


def _parse_arn(arn):
    match = re.match(r"^arn:[\w-]+:es:(?P<region>[\w-]+):(?P<account>\d{12}):domain/(?P<name>[a-z0-9-]+)$", arn or "")
    if not match:
        raise OpenSearchError("ValidationException", f"{arn!r} is not a domain ARN (arn:aws:es:<region>:<account>:"
                                                     "domain/<name>)")
    return match.group("account"), match.group("region"), match.group("name")


def endpoint_of(region, name):
    return f"{_HOST['value']}{ENDPOINT_PREFIX}{region}/{name}"


def _patch_endpoints():
    """moto's ``Endpoint`` (``<name>.<region>.es.amazonaws.com``) resolves nowhere: answer the sandbox's path-style
    endpoint instead, so that the domain's REST API is reachable."""
    from moto.opensearch.models import OpenSearchDomain

    if getattr(OpenSearchDomain.dct_options, "_sandbox", False):
        return
    original = OpenSearchDomain.dct_options

    def dct_options(self):
        options = original(self)
        region = self.arn.split(":")[3]
        if options.get("Endpoint"):
            options["Endpoint"] = endpoint_of(region, self.domain_name)
        if options.get("Endpoints"):
            options["Endpoints"] = {key: endpoint_of(region, self.domain_name) for key in options["Endpoints"]}
        return options

    dct_options._sandbox = True
    OpenSearchDomain.dct_options = dct_options


def _patch_tagging():
    """The tagging API lists OpenSearch domains (``es:domain``), as the real one does."""
    from moto.core.resource_tagging import TaggableResourcesMixin
    from moto.core.resource_tagging import TaggedResource
    from moto.opensearch.models import OpenSearchServiceBackend

    def iter_tagged_resources(self):
        for domain in list(self.domains.values()):
            if domain.deleted:
                continue
            yield TaggedResource(arn=domain.arn, tags={t["Key"]: t["Value"] for t in self.list_tags(domain.arn)},
                                 resource_type="es:domain")

    if TaggableResourcesMixin not in OpenSearchServiceBackend.__mro__:
        OpenSearchServiceBackend.__bases__ = OpenSearchServiceBackend.__bases__ + (TaggableResourcesMixin,)
        OpenSearchServiceBackend.SERVICE_NAMESPACE = "es"
    OpenSearchServiceBackend.iter_tagged_resources = iter_tagged_resources


# ------------------------------------------------------------------------------------------- managed replication
def _advance_pair(pair):
    if pair["_due"] is None or not _clock.over(pair["_due"]):
        return pair
    pair["_due"] = None
    status = pair["status"]
    if status == "PENDING_SETUP":
        pair["status"], pair["message"] = "ACTIVE", None
    elif status == "SWITCHING_OVER":
        pair["primary"], pair["secondary"] = pair["secondary"], pair["primary"]
        pair["status"], pair["message"] = "ACTIVE", None
    elif status == "FAILING_OVER":
        pair["primary"], pair["secondary"] = pair["secondary"], pair["primary"]
        pair["status"] = "EJECTED"
        pair["message"] = ("A failover promoted the other domain. The former primary keeps the data it had when it "
                           "was ejected and stays read-only until you remove the peer, or discard that data and pair "
                           "again.")
    elif status == "PENDING_REMOVAL":
        for arn in (pair["primary"], pair["secondary"]):
            if _PAIRS.get(arn) is pair:
                _PAIRS.pop(arn)
        return None
    return pair


def _pair_of(arn):
    pair = _PAIRS.get(arn)
    return _advance_pair(pair) if pair else None


def _role(pair, arn):
    return "PRIMARY" if pair["primary"] == arn else "SECONDARY"


def describe_replication(call, name):
    domain = _domain(call.account, call.region, name)
    pair = _pair_of(domain.arn)
    if not pair:
        return 200, {"DomainArn": domain.arn, "Peers": []}
    peer = pair["secondary"] if pair["primary"] == domain.arn else pair["primary"]
    entry = {"PeerDomainArn": peer, "PeerRole": _role(pair, peer), "Status": pair["status"]}
    if pair["message"]:
        entry["StatusMessage"] = pair["message"]
    return 200, {"DomainArn": domain.arn, "Role": _role(pair, domain.arn), "Peers": [entry]}


def _peer_domain(call, params):
    account, region, peer_name = _parse_arn(params.get("PeerDomainArn"))
    if account != call.account:
        raise OpenSearchError("ValidationException", "The peer domain must be in the same account.")
    return _domain(account, region, peer_name), region


def add_peer(call, name, params):
    domain = _domain(call.account, call.region, name)
    peer, peer_region = _peer_domain(call, params)
    if peer_region == call.region:
        raise OpenSearchError("ValidationException", "The peer domain must be in a different Region.")
    for arn in (domain.arn, peer.arn):
        if _pair_of(arn):
            raise OpenSearchError("ConflictException", f"{arn} already has a replication peer; remove it first "
                                                       "(RemoveReplicationPeer).", 409)
    if params.get("DryRun"):
        return 200, {"DomainArn": domain.arn, "Status": "PENDING_SETUP"}
    pair = {"primary": domain.arn, "secondary": peer.arn, "status": "PENDING_SETUP", "message": None,
            "_due": _clock.start(DURATIONS["setup"])}
    _PAIRS[domain.arn] = _PAIRS[peer.arn] = pair
    # The secondary is rebuilt from the primary: its own data is discarded.
    primary_indexes = _INDEXES.get((call.account, call.region, name), {})
    _INDEXES[(call.account, peer_region, peer.domain_name)] = {
        index: {"docs": state["docs"], "follower": None, "write_block": False, "last_write": state["last_write"]}
        for index, state in primary_indexes.items()}
    return 200, {"DomainArn": domain.arn, "Status": pair["status"]}


def _change(call, name, params, operation):
    domain = _domain(call.account, call.region, name)
    peer, _peer_region = _peer_domain(call, params)
    pair = _pair_of(domain.arn)
    if not pair or _pair_of(peer.arn) is not pair:
        raise OpenSearchError("ResourceNotFoundException",
                              f"{domain.arn} does not replicate with {peer.arn}.", 409)
    if operation == "removePeer":
        if pair["status"] in ("SWITCHING_OVER", "FAILING_OVER", "PENDING_REMOVAL"):
            raise OpenSearchError("ConflictException", f"The replication is {pair['status']}.", 409)
        pair["status"], pair["message"], pair["_due"] = "PENDING_REMOVAL", None, _clock.start(DURATIONS["removal"])
        return 200, {"DomainArn": domain.arn, "Status": pair["status"]}
    if pair["secondary"] != domain.arn:
        raise OpenSearchError("ValidationException", f"{domain.arn} is already the primary; call {operation} on the "
                                                     "secondary domain, in its Region.")
    if operation == "switchover":
        if pair["status"] != "ACTIVE":
            raise OpenSearchError("ConflictException", f"The replication is {pair['status']}, not ACTIVE.", 409)
        pair["status"], pair["_due"] = "SWITCHING_OVER", _clock.start(DURATIONS["switchover"])
    else:
        if params.get("AllowDataLoss") is not True:
            raise OpenSearchError("ValidationException", "AllowDataLoss must be true: writes that had not replicated "
                                                         "are lost.")
        if pair["status"] not in ("ACTIVE", "FAILED"):
            raise OpenSearchError("ConflictException", f"The replication is {pair['status']}.", 409)
        pair["status"], pair["_due"] = "FAILING_OVER", _clock.start(DURATIONS["failover"])
    return 200, {"DomainArn": domain.arn, "Status": pair["status"]}


def read_only_reason(account, region, name):
    """Why the domain refuses writes (managed replication), or None."""
    domain = _backend(account, region).domains.get(name)
    pair = _pair_of(domain.arn) if domain is not None else None
    if pair and pair["secondary"] == domain.arn:
        return "ejected: the domain is read-only until the peer is removed" if pair["status"] == "EJECTED" else \
            "the domain is a replication secondary (read-only)"
    return None


# ------------------------------------------------------------------------------------------- connections
def _info(spec):
    info = (spec or {}).get("AWSDomainInformation") or {}
    if not info.get("DomainName"):
        raise OpenSearchError("ValidationException", "AWSDomainInformation.DomainName is required.")
    return info


def _advance_connection(connection):
    status = connection["ConnectionStatus"]
    due = connection.get("_due")
    if due is None or not _clock.over(due):
        return connection
    following = {"VALIDATING": ("PENDING_ACCEPTANCE", None), "APPROVED": ("PROVISIONING", DURATIONS["provision"]),
                 "PROVISIONING": ("ACTIVE", None), "DELETING": ("DELETED", None), "REJECTING": ("REJECTED", None)}
    if status["StatusCode"] in following:
        code, seconds = following[status["StatusCode"]]
        status["StatusCode"], status["Message"] = code, f"Connection is {code.lower().replace('_', ' ')}"
        connection["_due"] = _clock.start(seconds) if seconds else None
        return _advance_connection(connection)
    connection["_due"] = None
    return connection


def _connections():
    for connection in _CONNECTIONS.values():
        _advance_connection(connection)
    return list(_CONNECTIONS.values())


def _public(connection, inbound=False):
    document = {key: value for key, value in connection.items() if not key.startswith("_")}
    document["ConnectionStatus"] = dict(connection["ConnectionStatus"])
    return document


def create_outbound(call, params):
    local, remote = _info(params.get("LocalDomainInfo")), _info(params.get("RemoteDomainInfo"))
    local_account, local_region = local.get("OwnerId") or call.account, local.get("Region") or call.region
    if (local_account, local_region) != (call.account, call.region):
        raise OpenSearchError("ValidationException", "The local domain must be in the caller's account and Region.")
    _domain(local_account, local_region, local["DomainName"])
    remote_account, remote_region = remote.get("OwnerId") or call.account, remote.get("Region") or call.region
    _domain(remote_account, remote_region, remote["DomainName"])
    alias = params.get("ConnectionAlias") or ""
    if not re.match(r"^[a-zA-Z][a-zA-Z0-9\-\_]+$", alias) or len(alias) > 100:
        raise OpenSearchError("ValidationException", f"ConnectionAlias {alias!r} is not valid.")
    for existing in _connections():
        if existing["ConnectionStatus"]["StatusCode"] in ("DELETED", "REJECTED", "VALIDATION_FAILED"):
            continue
        same_local = existing["LocalDomainInfo"]["AWSDomainInformation"]
        if (same_local["OwnerId"], same_local["Region"], same_local["DomainName"]) == (
                local_account, local_region, local["DomainName"]) and existing["ConnectionAlias"] == alias:
            raise OpenSearchError("ResourceAlreadyExistsException",
                                  f"The domain already has a connection named {alias}.", 409)
    connection = {
        "ConnectionId": f"cc-{uuid.uuid4().hex[:20]}",
        "LocalDomainInfo": {"AWSDomainInformation": {"OwnerId": local_account, "DomainName": local["DomainName"],
                                                     "Region": local_region}},
        "RemoteDomainInfo": {"AWSDomainInformation": {"OwnerId": remote_account, "DomainName": remote["DomainName"],
                                                      "Region": remote_region}},
        "ConnectionAlias": alias, "ConnectionMode": params.get("ConnectionMode") or "DIRECT",
        "ConnectionProperties": params.get("ConnectionProperties") or {},
        "ConnectionStatus": {"StatusCode": "VALIDATING", "Message": "Connection is being validated"},
        "_due": _clock.start(DURATIONS["validate"]),
    }
    _CONNECTIONS[connection["ConnectionId"]] = connection
    return 200, _public(connection)


def _side(connection, key):
    info = connection[key]["AWSDomainInformation"]
    return info["OwnerId"], info["Region"]


def accept_inbound(call, connection_id, reject=False):
    connection = _CONNECTIONS.get(connection_id)
    if connection is None or _side(connection, "RemoteDomainInfo") != (call.account, call.region):
        raise OpenSearchError("ResourceNotFoundException", f"Connection {connection_id} not found.", 409)
    _advance_connection(connection)
    if connection["ConnectionStatus"]["StatusCode"] != "PENDING_ACCEPTANCE":
        raise OpenSearchError("ConflictException", f"Connection {connection_id} is "
                                                   f"{connection['ConnectionStatus']['StatusCode']}, not "
                                                   "PENDING_ACCEPTANCE.", 409)
    code, seconds = ("REJECTING", DURATIONS["delete"]) if reject else ("APPROVED", DURATIONS["provision"])
    connection["ConnectionStatus"] = {"StatusCode": code, "Message": f"Connection is {code.lower()}"}
    connection["_due"] = _clock.start(seconds)
    return 200, {"Connection": _public(connection, inbound=True)}


def delete_connection(call, connection_id, inbound):
    connection = _CONNECTIONS.get(connection_id)
    owner = _side(connection, "RemoteDomainInfo" if inbound else "LocalDomainInfo") if connection else None
    if connection is None or owner != (call.account, call.region):
        raise OpenSearchError("ResourceNotFoundException", f"Connection {connection_id} not found.", 409)
    _advance_connection(connection)
    if connection["ConnectionStatus"]["StatusCode"] not in ("DELETING", "DELETED"):
        connection["ConnectionStatus"] = {"StatusCode": "DELETING", "Message": "Connection is being deleted"}
        connection["_due"] = _clock.start(DURATIONS["delete"])
    return 200, {"Connection": _public(connection, inbound=inbound)}


FILTER_FIELDS = {"connection-id": ("ConnectionId",), "local-domain-info.domain-name": ("LocalDomainInfo", "DomainName"),
                 "local-domain-info.owner-id": ("LocalDomainInfo", "OwnerId"),
                 "local-domain-info.region": ("LocalDomainInfo", "Region"),
                 "remote-domain-info.domain-name": ("RemoteDomainInfo", "DomainName"),
                 "remote-domain-info.owner-id": ("RemoteDomainInfo", "OwnerId"),
                 "remote-domain-info.region": ("RemoteDomainInfo", "Region")}


def _field(connection, path):
    if len(path) == 1:
        return connection[path[0]]
    return connection[path[0]]["AWSDomainInformation"][path[1]]


def describe_connections(call, params, inbound):
    filters = params.get("Filters") or []
    found = []
    for connection in _connections():
        if _side(connection, "RemoteDomainInfo" if inbound else "LocalDomainInfo") != (call.account, call.region):
            continue
        if inbound and connection["ConnectionStatus"]["StatusCode"] in ("VALIDATING", "VALIDATION_FAILED"):
            continue  # the remote domain's owner sees a connection once it passed validation
        matches = True
        for item in filters:
            path = FILTER_FIELDS.get(item.get("Name"))
            if path is None:
                raise OpenSearchError("ValidationException", f"Filter {item.get('Name')!r} is not valid.")
            if _field(connection, path) not in (item.get("Values") or []):
                matches = False
        if matches:
            found.append(_public(connection, inbound=inbound))
    return 200, {"Connections": found}


def _active_connection(account, region, domain, alias):
    for connection in _connections():
        local = connection["LocalDomainInfo"]["AWSDomainInformation"]
        if ((local["OwnerId"], local["Region"], local["DomainName"]) == (account, region, domain)
                and connection["ConnectionAlias"] == alias):
            if connection["ConnectionStatus"]["StatusCode"] in ("DELETED", "REJECTED", "VALIDATION_FAILED"):
                continue
            return connection
    return None


# ------------------------------------------------------------------------------------------- the domain's REST API
def _indexes(account, region, name):
    return _INDEXES.setdefault((account, region, name), {})


def _advance_follower(account, region, index):
    follower = index.get("follower")
    if not follower:
        return
    connection = _active_connection(account, region, follower["domain"], follower["leader_alias"])
    remote = connection["RemoteDomainInfo"]["AWSDomainInformation"] if connection else None
    active = bool(connection) and connection["ConnectionStatus"]["StatusCode"] == "ACTIVE"
    leader = _INDEXES.get((remote["OwnerId"], remote["Region"], remote["DomainName"]), {}).get(
        follower["leader_index"]) if remote else None
    if follower["status"] == "BOOTSTRAPPING" and _clock.over(follower["_due"]) and active and leader:
        follower["status"] = "SYNCING"
        index["docs"] = leader["docs"]
    if follower["status"] in ("SYNCING", "PAUSED"):
        follower["status"] = "SYNCING" if active and leader is not None else "PAUSED"
    if follower["status"] == "SYNCING" and leader is not None:
        if leader["last_write"] is None or _clock.over({"started": leader["last_write"],
                                                        "seconds": DURATIONS["sync"]}):
            index["docs"] = leader["docs"]
        follower["leader_docs"] = leader["docs"]


def _mirror(account, region, name, arn):
    """A managed secondary holds what its primary holds (replication is continuous while ACTIVE)."""
    pair = _pair_of(arn)
    if not pair or pair["secondary"] != arn or pair["status"] not in ("ACTIVE", "SWITCHING_OVER"):
        return
    _account, primary_region, primary_name = _parse_arn(pair["primary"])
    primary = _INDEXES.get((account, primary_region, primary_name), {})
    _INDEXES[(account, region, name)] = {
        index: {"docs": state["docs"], "follower": None, "write_block": state["write_block"],
                "last_write": state["last_write"]} for index, state in primary.items()}


def _error(status, kind, reason):
    return status, {"error": {"root_cause": [{"type": kind, "reason": reason}], "type": kind, "reason": reason},
                    "status": status}


def _write_refusal(account, region, name, index_name, index):
    reason = read_only_reason(account, region, name)
    if reason:
        return _error(403, "cluster_block_exception", f"index [{index_name}] blocked: {reason}")
    if index.get("follower"):
        return _error(403, "cluster_block_exception",
                      f"index [{index_name}] blocked by: [FORBIDDEN/1000/index read-only(cross-cluster-replication)]")
    if index.get("write_block"):
        return _error(403, "cluster_block_exception", f"index [{index_name}] blocked by: [FORBIDDEN/8/index write]")
    return None


def _status_of(account, region, index_name, index):
    _advance_follower(account, region, index)
    follower = index.get("follower")
    if not follower:
        return {"status": "REPLICATION NOT IN PROGRESS", "reason": "User initiated", "follower_index": index_name}
    document = {"status": follower["status"], "reason": "User initiated", "leader_alias": follower["leader_alias"],
                "leader_index": follower["leader_index"], "follower_index": index_name}
    if follower["status"] in ("SYNCING", "PAUSED"):
        leader_docs = follower.get("leader_docs", index["docs"])
        document["syncing_details"] = {"leader_checkpoint": leader_docs - 1, "follower_checkpoint": index["docs"] - 1,
                                       "seq_no": index["docs"] - 1}
    return document


def domain_api(call, account, region, name, method, path, body, raw=b""):
    """One request of the domain's own REST API: ``(status, document)``."""
    with STATE_LOCK:
        domain = _domain(account, region, name)
    _mirror(account, region, name, domain.arn)
    indexes = _indexes(account, region, name)
    parts = [unquote(p) for p in path.strip("/").split("/") if p]
    if parts == ["_cluster", "health"] and method == "GET":
        return 200, {"cluster_name": f"{account}:{name}", "status": "green", "timed_out": False, "number_of_nodes": 3,
                     "number_of_data_nodes": 3, "active_primary_shards": len(indexes),
                     "active_shards": 2 * len(indexes)}
    if parts == [] and method == "GET":
        version = {"distribution": "opensearch", "number": "2.17.0"}
        return 200, {"name": name, "cluster_name": f"{account}:{name}", "version": version,
                     "tagline": "The OpenSearch Project: https://opensearch.org/"}
    if parts[:2] == ["_cat", "indices"] and method == "GET":
        for index in indexes.values():
            _advance_follower(account, region, index)
        return 200, [{"health": "green", "status": "open", "index": index_name, "docs.count": str(index["docs"])}
                     for index_name, index in sorted(indexes.items())]
    if parts[:1] == ["_plugins"] and parts[1:2] == ["_replication"]:
        return _replication_api(account, region, name, indexes, method, parts[2:], body)
    if not parts or parts[0].startswith("_"):
        return _error(400, "illegal_argument_exception", f"no handler found for uri [{path}] and method [{method}]")
    index_name, rest = parts[0], parts[1:]
    index = indexes.get(index_name)
    if not rest:
        if method == "PUT":
            if index is not None:
                return _error(400, "resource_already_exists_exception", f"index [{index_name}] already exists")
            indexes[index_name] = {"docs": 0, "follower": None, "write_block": False, "last_write": None}
            return 200, {"acknowledged": True, "shards_acknowledged": True, "index": index_name}
        if index is None:
            return _error(404, "index_not_found_exception", f"no such index [{index_name}]")
        if method == "DELETE":
            if index.get("follower"):
                return _error(400, "illegal_argument_exception",
                              f"Cannot delete [{index_name}]: it is a follower index; stop replication first")
            indexes.pop(index_name)
            return 200, {"acknowledged": True}
        if method in ("GET", "HEAD"):
            return 200, {index_name: {"settings": {"index": {"blocks": {"write": str(index["write_block"]).lower()}}}}}
    if index is None:
        return _error(404, "index_not_found_exception", f"no such index [{index_name}]")
    if rest[0] == "_doc" and method in ("POST", "PUT"):
        refused = _write_refusal(account, region, name, index_name, index)
        if refused:
            return refused
        index["docs"] += 1
        index["last_write"] = _clock.now()
        return 201, {"_index": index_name, "result": "created", "_seq_no": index["docs"] - 1}
    if rest[0] == "_bulk" and method in ("POST", "PUT"):
        refused = _write_refusal(account, region, name, index_name, index)
        if refused:
            return refused
        lines = [line for line in (raw or b"").decode("utf-8", "replace").splitlines() if line.strip()]
        actions = [line for line in lines if line.lstrip().startswith(('{"index"', '{"create"'))]
        index["docs"] += len(actions)
        index["last_write"] = _clock.now()
        items = [{"index": {"_index": index_name, "status": 201}} for _action in actions]
        return 200, {"errors": False, "items": items}
    if rest[0] == "_count" and method in ("GET", "POST"):
        _advance_follower(account, region, index)
        return 200, {"count": index["docs"]}
    if rest[0] == "_settings" and method == "PUT":
        settings = body.get("index", body) if isinstance(body, dict) else {}
        flat = settings.get("blocks.write", body.get("index.blocks.write"))
        block = (settings.get("blocks") or {}).get("write", flat)
        if block is not None:
            index["write_block"] = str(block).lower() == "true"
        return 200, {"acknowledged": True}
    if rest[0] == "_clone" and len(rest) == 2 and method in ("POST", "PUT"):
        if not index["write_block"]:
            return _error(400, "illegal_state_exception",
                          f"index {index_name} must block write operations to be cloned; set index.blocks.write=true")
        if rest[1] in indexes:
            return _error(400, "resource_already_exists_exception", f"index [{rest[1]}] already exists")
        indexes[rest[1]] = {"docs": index["docs"], "follower": None, "write_block": True, "last_write": None}
        return 200, {"acknowledged": True, "shards_acknowledged": True, "index": rest[1]}
    return _error(400, "illegal_argument_exception", f"no handler found for uri [{path}] and method [{method}]")


def _replication_api(account, region, name, indexes, method, parts, body):
    if parts == ["follower_stats"] and method == "GET":
        stats = {}
        for index_name, index in sorted(indexes.items()):
            if index.get("follower"):
                status = _status_of(account, region, index_name, index)
                stats[index_name] = {"status": status["status"], **(status.get("syncing_details") or {})}
        syncing = [i for i, s in stats.items() if s["status"] == "SYNCING"]
        return 200, {"num_syncing_indices": len(syncing), "num_bootstrapping_indices":
                     len([s for s in stats.values() if s["status"] == "BOOTSTRAPPING"]),
                     "num_paused_indices": len([s for s in stats.values() if s["status"] == "PAUSED"]),
                     "index_stats": stats}
    if len(parts) != 2:
        return _error(400, "illegal_argument_exception", f"no handler for replication path {'/'.join(parts)}")
    index_name, action = parts
    index = indexes.get(index_name)
    if action == "_status" and method == "GET":
        if index is None:
            return _error(404, "index_not_found_exception", f"no such index [{index_name}]")
        return 200, _status_of(account, region, index_name, index)
    if action == "_start" and method == "PUT":
        alias, leader_index = (body or {}).get("leader_alias"), (body or {}).get("leader_index")
        if not alias or not leader_index:
            return _error(400, "illegal_argument_exception", "leader_alias and leader_index are required")
        if index is not None:
            return _error(400, "resource_already_exists_exception",
                          f"index [{index_name}] already exists: replication starts into a new index")
        connection = _active_connection(account, region, name, alias)
        if not connection or connection["ConnectionStatus"]["StatusCode"] != "ACTIVE":
            return _error(400, "illegal_argument_exception",
                          f"no ACTIVE cross-cluster connection with alias [{alias}] from this domain")
        remote = connection["RemoteDomainInfo"]["AWSDomainInformation"]
        if leader_index not in _INDEXES.get((remote["OwnerId"], remote["Region"], remote["DomainName"]), {}):
            return _error(404, "index_not_found_exception", f"no such index [{leader_index}] on [{alias}]")
        indexes[index_name] = {"docs": 0, "write_block": False, "last_write": None, "follower": {
            "status": "BOOTSTRAPPING", "leader_alias": alias, "leader_index": leader_index, "domain": name,
            "_due": _clock.start(DURATIONS["bootstrap"])}}
        return 200, {"acknowledged": True}
    if action in ("_stop", "_pause", "_resume") and method == "POST":
        if index is None:
            return _error(404, "index_not_found_exception", f"no such index [{index_name}]")
        if not index.get("follower"):
            return _error(400, "illegal_argument_exception", f"No replication in progress for index:{index_name}")
        if action == "_stop":
            _advance_follower(account, region, index)
            index["follower"] = None  # a standard index from now on: writable, never restarted in place
        return 200, {"acknowledged": True}
    return _error(400, "illegal_argument_exception", f"no handler for {method} _plugins/_replication/{'/'.join(parts)}")


# ------------------------------------------------------------------------------------------- dispatch
def _remember_host(call):
    host = (call.environ or {}).get("HTTP_HOST")
    if host:
        _HOST["value"] = host


def _handle(call):
    _remember_host(call)
    try:
        params = json.loads(call.body) if call.body else {}
    except ValueError:
        params = {}
    if call.path.startswith(ENDPOINT_PREFIX):
        _region, _sep, rest = call.path[len(ENDPOINT_PREFIX):].partition("/")
        name, _sep, path = rest.partition("/")
        # The IAM actions of the domain's HTTP API (es:ESHttpGet ...) are named by method; reads stay unnamed so that
        # the request log keeps them out of the mutating calls.
        if call.method not in ("GET", "HEAD"):
            call.operation = f"ESHttp{call.method.capitalize()}"
        try:
            with _LOCK:
                status, document = domain_api(call, call.account, _region, name, call.method, "/" + path, params,
                                              call.body)
        except OpenSearchError as exc:
            status, document = _error(404, "domain_not_found", exc.message)
        return status, {"Content-Type": "application/json"}, json.dumps(document).encode()
    if call.operation not in ANSWERED:
        return None  # moto answers (domains, tags, ...)
    try:
        with _LOCK:
            status, body = _route(call, params)
    except OpenSearchError as exc:
        return exc.status, {"x-amzn-ErrorType": exc.code, "Content-Type": "application/json"}, json.dumps(
            {"message": exc.message}).encode()
    return status, {"Content-Type": "application/json"}, json.dumps(body, default=str).encode()


def _route(call, params):
    operation = call.operation
    if operation in ("AddReplicationPeer", "DescribeDomainReplication", "SwitchoverReplication",
                     "FailoverReplication", "RemoveReplicationPeer"):
        match = PATH_REPLICATION.match(call.path)
        name = unquote(match.group("name"))
        if operation == "DescribeDomainReplication":
            return describe_replication(call, name)
        if operation == "AddReplicationPeer":
            return add_peer(call, name, params)
        return _change(call, name, params, match.group("action"))
    if operation == "CreateOutboundConnection":
        return create_outbound(call, params)
    if operation in ("DescribeOutboundConnections", "DescribeInboundConnections"):
        return describe_connections(call, params, inbound=operation == "DescribeInboundConnections")
    if operation == "DeleteOutboundConnection":
        return delete_connection(call, PATH_OUTBOUND.match(call.path).group("id"), inbound=False)
    match = PATH_INBOUND.match(call.path)
    if operation == "DeleteInboundConnection":
        return delete_connection(call, match.group("id"), inbound=True)
    return accept_inbound(call, match.group("id"), reject=operation == "RejectInboundConnection")


def seed_index(account, region, name, index, docs):
    """Estate seeding: an index with ``docs`` documents on a domain."""
    with _LOCK:
        _indexes(account, region, name)[index] = {"docs": int(docs), "follower": None, "write_block": False,
                                                  "last_write": None}


_patch_endpoints()
_patch_tagging()
register("opensearch", "opensearch", _handle, reset=reset)
