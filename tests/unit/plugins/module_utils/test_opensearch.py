"""Pure planning logic of the OpenSearch adapter (what each phase would do from a read state), and its host
variables from discovery."""

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import opensearch
from ansible_collections.enterprise_dr.orchestration.plugins.modules import opensearch_failover_info as info
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import arns
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import discovery
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import resources

ACCOUNT = "210987654321"
HOST = {"dr_arn": f"arn:aws:es:us-east-1:{ACCOUNT}:domain/search", "dr_resource_region": "us-east-1",
        "dr_dr_region": "us-west-2", "dr_account_id": ACCOUNT, "inventory_hostname": "search",
        "dr_opensearch": {"domain_name": "search", "peer_domain_name": "search-dr", "peer_region": "us-west-2"}}


def domain(name, region="us-east-1"):
    return {"arn": f"arn:aws:es:{region}:{ACCOUNT}:domain/{name}", "endpoint": f"{name}.example", "tags": {},
            "processing": False}


def state(direction="failover", managed=None, connections=(), followers=None, indexes=None, recorded=None,
          answered_from=True):
    src, dst = opensearch.sides(HOST, direction)
    return {"mode": "managed" if managed else ("ccr" if connections else None), "managed": managed,
            "connections": list(connections), "answered": {"from": answered_from, "to": True}, "errors": {},
            "followers": followers or {}, "indexes": indexes or {}, "recorded_indexes": list(recorded or []),
            "from": src, "to": dst, "from_domain": domain(src["domain_name"], src["region"]) if answered_from else None,
            "to_domain": domain(dst["domain_name"], dst["region"])}


def managed(role, status, seen_from="to"):
    peer_role = {"PRIMARY": "SECONDARY", "SECONDARY": "PRIMARY"}[role]
    return {"role": role, "peer_arn": "x", "peer_role": peer_role, "status": status, "message": None,
            "seen_from": seen_from}


def link(follower, leader, status="ACTIVE", alias=None):
    regions = {"search": "us-east-1", "search-dr": "us-west-2"}
    return {"connection_id": f"cc-{follower}", "alias": alias or leader, "status": status,
            "local": {"domain_name": follower, "region": regions[follower]},
            "remote": {"domain_name": leader, "region": regions[leader]}}


def follower(status="SYNCING", leader=10, mine=10, alias="search"):
    return {"status": status, "leader_alias": alias, "leader_index": "x", "leader_checkpoint": leader,
            "follower_checkpoint": mine}


def test_sides_follow_the_direction():
    assert opensearch.sides(HOST, "failover") == ({"region": "us-east-1", "domain_name": "search"},
                                                  {"region": "us-west-2", "domain_name": "search-dr"})
    assert opensearch.sides(HOST, "failback")[0] == {"region": "us-west-2", "domain_name": "search-dr"}


def test_managed_activate_switches_over_planned_and_fails_over_unplanned_once():
    ready = state(managed=managed("SECONDARY", "ACTIVE"))
    assert opensearch.plan_activate(ready, unplanned=False) == (
        ["switchover_replication", "wait_promoted", "check_endpoint"], None)
    assert opensearch.plan_activate(ready, unplanned=True)[0][0] == "failover_replication"
    # Resumed: already promoted (or being promoted) - never switched twice.
    assert opensearch.plan_activate(state(managed=managed("PRIMARY", "ACTIVE")), False) == (["check_endpoint"], None)
    assert opensearch.plan_activate(state(managed=managed("PRIMARY", "EJECTED")), True) == (["check_endpoint"], None)
    assert opensearch.plan_activate(state(managed=managed("SECONDARY", "SWITCHING_OVER")), False)[0] == [
        "wait_promoted", "check_endpoint"]
    actions, problem = opensearch.plan_activate(state(managed=managed("SECONDARY", "PENDING_SETUP")), False)
    assert actions == [] and "PENDING_SETUP" in problem[0]
    assert not opensearch.changes(["wait_promoted", "check_endpoint"])


def test_ccr_activate_waits_for_the_followers_then_stops_each_and_an_emergency_does_not_wait():
    ready = state(connections=[link("search-dr", "search")],
                  followers={"to": {"orders": follower(), "audit": follower(leader=12, mine=9)}})
    assert opensearch.plan_activate(ready, unplanned=False) == (
        ["wait_caught_up", "stop:audit", "stop:orders", "check_endpoint"], None)
    assert opensearch.plan_activate(ready, unplanned=True)[0] == ["stop:audit", "stop:orders", "check_endpoint"]
    assert opensearch.lag_operations(ready["followers"]["to"]) == 3
    stopped = state(connections=[link("search-dr", "search")], followers={"to": {}})
    assert opensearch.plan_activate(stopped, False) == (["check_endpoint"], None)
    booting = state(connections=[link("search-dr", "search")], followers={"to": {"orders": follower("BOOTSTRAPPING")}})
    assert "BOOTSTRAPPING" in opensearch.plan_activate(booting, False)[1][0]
    unreachable = state(connections=[link("search-dr", "search")])
    assert "does not answer" in opensearch.plan_activate(unreachable, False)[1][0]


def test_no_pair_is_refused_with_the_fix():
    actions, problem = opensearch.plan_activate(state(), False)
    assert actions == [] and "do not replicate" in problem[0] and "set up replication" in problem[1]
    lonely = dict(state(), to={"region": "us-west-2", "domain_name": None})
    assert "no DR domain" in opensearch.plan_activate(lonely, False)[1][0]


def test_managed_replicate_after_a_switchover_does_nothing_and_after_a_failover_pairs_again():
    assert opensearch.plan_replicate(state(managed=managed("PRIMARY", "ACTIVE")), "edr-1") == ([], None)
    assert opensearch.plan_replicate(state(managed=managed("PRIMARY", "EJECTED")), "edr-1")[0] == [
        "remove_peer", "wait_removed", "add_peer", "wait_active"]
    assert opensearch.plan_replicate(state(managed=managed("PRIMARY", "PENDING_REMOVAL")), "edr-1")[0][0] == \
        "wait_removed"
    assert "ACTIVATE first" in opensearch.plan_replicate(state(managed=managed("SECONDARY", "ACTIVE")), "e")[1][1]
    down = state(managed=managed("PRIMARY", "EJECTED"), answered_from=False)
    assert "when the original region is back" in opensearch.plan_replicate(down, "e")[1][1]


def test_ccr_replicate_connects_keeps_the_stale_copy_and_starts_each_index_once():
    fresh = state(connections=[link("search-dr", "search")],
                  followers={"to": {}, "from": {}}, indexes={"to": {"orders": 5, "audit": 2}, "from": {"orders": 4}},
                  recorded=["orders", "audit"])
    actions, problem = opensearch.plan_replicate(fresh, "EDR-ACME-1")
    assert problem is None
    assert actions == ["create_connection", "accept_connection", "wait_connection", "block:orders",
                       "clone:orders:orders-pre-edr-acme", "delete:orders", "start:orders", "start:audit",
                       "wait_syncing"]
    # Resumed after the clone and one start: nothing is done twice.
    resumed = state(connections=[link("search-dr", "search"), link("search", "search-dr")],
                    followers={"to": {}, "from": {"orders": follower(alias="search-dr")}},
                    indexes={"to": {"orders": 5, "audit": 2}, "from": {"orders": 5, "orders-pre-edr-acme": 4}},
                    recorded=["orders", "audit"])
    assert opensearch.plan_replicate(resumed, "EDR-ACME-1")[0] == ["wait_connection", "start:audit", "wait_syncing"]
    done = dict(resumed, followers={"to": {}, "from": {"orders": follower(alias="search-dr"),
                                                       "audit": follower(alias="search-dr")}})
    assert opensearch.plan_replicate(done, "EDR-ACME-1") == ([], None)
    still = state(connections=[link("search-dr", "search")], followers={"to": {"orders": follower()}, "from": {}})
    assert "run ACTIVATE first" in opensearch.plan_replicate(still, "e")[1][1]


def test_readiness_of_a_pair_resumed_run_and_planned_switch_without_the_primary():
    assert info.readiness(state(managed=managed("SECONDARY", "ACTIVE")), False, False)[0] == []
    assert info.readiness(state(managed=managed("PRIMARY", "ACTIVE")), False, False)[2].endswith("already the primary")
    problems, fix, _note = info.readiness(state(managed=managed("SECONDARY", "ACTIVE"), answered_from=False),
                                          False, False)
    assert "does not answer" in problems[0] and "emergency=true" in fix
    assert info.readiness(state(managed=managed("SECONDARY", "ACTIVE"), answered_from=False), True, False)[0] == []
    stopped = state(connections=[link("search-dr", "search")], followers={"to": {}})
    assert "no follower index" in info.readiness(stopped, False, False)[0][0]
    assert info.readiness(stopped, False, True)[0] == []
    assert info.switched_readiness(stopped)[0] == []
    assert "not the active domain" in info.switched_readiness(state(managed=managed("SECONDARY", "ACTIVE")))[0][0]


def test_describe_names_the_replication_direction():
    after = opensearch.describe(state(managed=managed("PRIMARY", "ACTIVE", seen_from="from")))
    assert after["replication"] == "search -> search-dr ACTIVE" and after["dr_role"] == "SECONDARY"
    ccr = opensearch.describe(state(connections=[link("search-dr", "search")], followers={"to": {"o": follower()}}))
    assert ccr["replication"] == "search -> search-dr ACTIVE" and ccr["dr_follower_indexes"] == ["o"]


def test_discovery_finds_the_managed_peer_or_the_follower():
    class Client:
        def __init__(self, peers=(), inbound=()):
            self.peers, self.inbound = list(peers), list(inbound)

        def describe_domain_replication(self, DomainName):  # noqa: N803 (boto3 keyword)
            return {"Role": "PRIMARY", "Peers": self.peers} if self.peers else {"Peers": []}

        def describe_inbound_connections(self, Filters):  # noqa: N803
            return {"Connections": self.inbound}

    arn = f"arn:aws:es:us-east-1:{ACCOUNT}:domain/search"
    tagged = [{"arn": arn, "tags": {}}]
    discovery.opensearch_domains(Client(peers=[{"PeerDomainArn": f"arn:aws:es:us-west-2:{ACCOUNT}:domain/search-dr",
                                                "Status": "ACTIVE"}]), tagged)
    assert tagged[0]["opensearch"] == {"domain_name": "search", "mode": "managed", "peer_domain_name": "search-dr",
                                       "peer_region": "us-west-2", "role": "PRIMARY", "replication_status": "ACTIVE"}
    inbound = {"ConnectionId": "cc-1", "ConnectionAlias": "search", "ConnectionStatus": {"StatusCode": "ACTIVE"},
               "LocalDomainInfo": {"AWSDomainInformation": {"DomainName": "logs-dr", "Region": "us-west-2"}}}
    tagged = [{"arn": arn, "tags": {}}]
    discovery.opensearch_domains(Client(inbound=[inbound]), tagged)
    assert tagged[0]["opensearch"]["mode"] == "ccr" and tagged[0]["opensearch"]["peer_domain_name"] == "logs-dr"
    parts = arns.parse_arn(arn)
    assert resources.technology_vars("opensearch", parts, tagged[0])["dr_opensearch"]["connection_id"] == "cc-1"
    assert resources.technology_vars("opensearch", parts, {})["dr_opensearch"] == {"domain_name": "search"}
