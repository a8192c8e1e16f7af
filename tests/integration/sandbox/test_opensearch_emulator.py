"""The sandbox's OpenSearch emulation (reference section 8, Appendix B item 7) through boto3 and signed REST calls:
managed replication states and roles, connection states, the follower's replication state, the domain endpoint,
validation, and the tagging API."""

import time

import pytest
from botocore.exceptions import ClientError

from sandbox.resources import domain_request

ACCOUNT = "123456789012"  # the hub's own credentials: no role needed


class _Caller:
    def __init__(self, sandbox):
        import boto3

        self.endpoint = sandbox.endpoint
        self._session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def fresh(sandbox):
    sandbox.reset()
    sandbox.drs_settings(time_scale=0.5)
    yield sandbox
    sandbox.clear_faults()


def until(check, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    return check()


def create(sandbox, name, region, tags=None):
    client = sandbox.client("opensearch", region=region)
    status = client.create_domain(DomainName=name, EngineVersion="OpenSearch_2.17",
                                  TagList=[{"Key": k, "Value": v} for k, v in (tags or {}).items()])["DomainStatus"]
    return client, status["ARN"], client.describe_domain(DomainName=name)["DomainStatus"]["Endpoint"]


def rest(sandbox, region, endpoint, method, path, body=None):
    return domain_request(_Caller(sandbox), ACCOUNT, region, endpoint, method, path, body)


def test_managed_replication_switchover_failover_ejected_and_pair_again(fresh):
    east, p_arn, p_endpoint = create(fresh, "search", "us-east-1", {"Customer": "acme"})
    west, s_arn, s_endpoint = create(fresh, "search-dr", "us-west-2")
    alone = east.describe_domain_replication(DomainName="search")
    assert alone["DomainArn"] == p_arn and alone["Peers"] == [] and "Role" not in alone
    with pytest.raises(ClientError, match="different Region"):
        east.add_replication_peer(DomainName="search", PeerDomainArn=p_arn)
    assert east.add_replication_peer(DomainName="search", PeerDomainArn=s_arn)["Status"] == "PENDING_SETUP"
    with pytest.raises(ClientError, match="already has a replication peer"):
        east.add_replication_peer(DomainName="search", PeerDomainArn=s_arn)
    assert until(lambda: west.describe_domain_replication(DomainName="search-dr")["Peers"][0]["Status"] == "ACTIVE")
    seen = west.describe_domain_replication(DomainName="search-dr")
    assert seen["Role"] == "SECONDARY" and seen["Peers"][0]["PeerDomainArn"] == p_arn
    assert seen["Peers"][0]["PeerRole"] == "PRIMARY"
    # Writes: the primary takes them, the secondary refuses them.
    assert rest(fresh, "us-east-1", p_endpoint, "PUT", "/items")[0] == 200
    assert rest(fresh, "us-east-1", p_endpoint, "POST", "/items/_doc", {"a": 1})[0] == 201
    assert rest(fresh, "us-west-2", s_endpoint, "POST", "/items/_doc", {"a": 1})[0] == 403
    # Switchover: called on the secondary, in its region.
    with pytest.raises(ClientError, match="already the primary"):
        east.switchover_replication(DomainName="search", PeerDomainArn=s_arn)
    assert west.switchover_replication(DomainName="search-dr", PeerDomainArn=p_arn)["Status"] == "SWITCHING_OVER"
    assert until(lambda: west.describe_domain_replication(DomainName="search-dr")["Role"] == "PRIMARY")
    assert east.describe_domain_replication(DomainName="search")["Role"] == "SECONDARY"
    # Failover back: AllowDataLoss is required; the former primary is EJECTED and read-only.
    with pytest.raises(ClientError, match="AllowDataLoss"):
        east.failover_replication(DomainName="search", PeerDomainArn=s_arn, AllowDataLoss=False)
    east.failover_replication(DomainName="search", PeerDomainArn=s_arn, AllowDataLoss=True)
    assert until(lambda: east.describe_domain_replication(DomainName="search")["Peers"][0]["Status"] == "EJECTED")
    ejected = west.describe_domain_replication(DomainName="search-dr")
    assert ejected["Role"] == "SECONDARY" and "read-only" in ejected["Peers"][0]["StatusMessage"]
    assert rest(fresh, "us-west-2", s_endpoint, "POST", "/items/_doc", {"a": 2})[0] == 403
    # Remove the peer, pair again.
    east.remove_replication_peer(DomainName="search", PeerDomainArn=s_arn)
    assert until(lambda: east.describe_domain_replication(DomainName="search")["Peers"] == [])
    assert rest(fresh, "us-west-2", s_endpoint, "POST", "/items/_doc", {"a": 3})[0] == 201
    # The tagging API lists domains as es:domain.
    found = fresh.client("resourcegroupstaggingapi").get_resources(ResourceTypeFilters=["es:domain"])
    assert p_arn in [r["ResourceARN"] for r in found["ResourceTagMappingList"]]


def test_connection_states_follower_replication_and_endpoint(fresh):
    east, _p_arn, leader = create(fresh, "logs", "us-east-1")
    west, _s_arn, follower = create(fresh, "logs-dr", "us-west-2")
    assert rest(fresh, "us-east-1", leader, "GET", "/_cluster/health")[1]["status"] == "green"
    rest(fresh, "us-east-1", leader, "PUT", "/orders")
    rest(fresh, "us-east-1", leader, "POST", "/orders/_bulk", '{"index": {}}\n{"a": 1}\n{"index": {}}\n{"a": 2}\n')
    created = west.create_outbound_connection(
        LocalDomainInfo={"AWSDomainInformation": {"OwnerId": ACCOUNT, "DomainName": "logs-dr", "Region": "us-west-2"}},
        RemoteDomainInfo={"AWSDomainInformation": {"OwnerId": ACCOUNT, "DomainName": "logs", "Region": "us-east-1"}},
        ConnectionAlias="logs", ConnectionMode="DIRECT")
    assert created["ConnectionStatus"]["StatusCode"] == "VALIDATING"
    connection_id = created["ConnectionId"]
    # Replication needs an ACTIVE connection.
    status, answer = rest(fresh, "us-west-2", follower, "PUT", "/_plugins/_replication/orders/_start",
                          {"leader_alias": "logs", "leader_index": "orders"})
    assert status == 400 and "no ACTIVE cross-cluster connection" in answer["error"]["reason"]

    def inbound():
        return east.describe_inbound_connections(
            Filters=[{"Name": "connection-id", "Values": [connection_id]}])["Connections"]

    assert until(lambda: inbound() and inbound()[0]["ConnectionStatus"]["StatusCode"] == "PENDING_ACCEPTANCE")
    assert east.accept_inbound_connection(ConnectionId=connection_id)["Connection"]["ConnectionStatus"][
        "StatusCode"] == "APPROVED"
    outbound = west.describe_outbound_connections(Filters=[{"Name": "local-domain-info.domain-name",
                                                            "Values": ["logs-dr"]}])
    assert outbound["Connections"][0]["ConnectionStatus"]["StatusCode"] in ("APPROVED", "PROVISIONING", "ACTIVE")
    assert until(lambda: west.describe_outbound_connections()["Connections"][0]["ConnectionStatus"][
        "StatusCode"] == "ACTIVE")
    start = {"leader_alias": "logs", "leader_index": "orders"}
    assert rest(fresh, "us-west-2", follower, "PUT", "/_plugins/_replication/orders/_start", start)[0] == 200
    assert rest(fresh, "us-west-2", follower, "GET", "/_plugins/_replication/orders/_status")[1]["status"] == \
        "BOOTSTRAPPING"

    def synced():
        answer = rest(fresh, "us-west-2", follower, "GET", "/_plugins/_replication/orders/_status")[1]
        return answer if answer["status"] == "SYNCING" else None

    details = until(synced)["syncing_details"]
    assert details["leader_checkpoint"] == details["follower_checkpoint"] == 1
    assert rest(fresh, "us-west-2", follower, "POST", "/orders/_doc", {"a": 3})[0] == 403  # a follower is read-only
    # A write on the leader: the follower is one sync interval behind, then current.
    rest(fresh, "us-east-1", leader, "POST", "/orders/_doc", {"a": 3})
    assert until(lambda: synced()["syncing_details"]["follower_checkpoint"] == 2)
    # Stop: a standard, writable index that cannot be restarted in place.
    assert rest(fresh, "us-west-2", follower, "POST", "/_plugins/_replication/orders/_stop", {})[0] == 200
    assert rest(fresh, "us-west-2", follower, "GET", "/_plugins/_replication/orders/_status")[1]["status"] == \
        "REPLICATION NOT IN PROGRESS"
    assert rest(fresh, "us-west-2", follower, "POST", "/orders/_doc", {"a": 4})[0] == 201
    assert rest(fresh, "us-west-2", follower, "PUT", "/_plugins/_replication/orders/_start", start)[0] == 400
    # Deleting a connection: DELETING, then DELETED (still listed).
    west.delete_outbound_connection(ConnectionId=connection_id)
    assert until(lambda: west.describe_outbound_connections()["Connections"][0]["ConnectionStatus"][
        "StatusCode"] == "DELETED")
