"""The Route 53 adapter through the real playbooks on the sandbox: DNS answers (TestDNSAnswer), health checks and
record sets read through boto3."""

import pytest

from tests.integration.app_tier_helpers import ACCOUNT
from tests.integration.app_tier_helpers import ESTATE
from tests.integration.app_tier_helpers import mutating
from tests.integration.app_tier_helpers import records
from tests.integration.app_tier_helpers import resources_of
from tests.integration.app_tier_helpers import run
from tests.integration.app_tier_helpers import start_and_kill_when

ONLY = ["-e", '{"dr_technologies": ["route53"]}', "-e", "customer=acme"]
CHANGES = ("UpdateHealthCheck", "ChangeResourceRecordSets")


@pytest.fixture
def estate(sandbox, tmp_path):
    sandbox.reset()
    sandbox.seed(ESTATE)
    return tmp_path


def r53(sandbox):
    return sandbox.client("route53", ACCOUNT)


def zone_id(sandbox, name):
    return next(z["Id"].split("/")[-1] for z in r53(sandbox).list_hosted_zones()["HostedZones"]
                if z["Name"] == name + ".")


def dns(sandbox, zone, name):
    return r53(sandbox).test_dns_answer(HostedZoneId=zone_id(sandbox, zone), RecordName=name,
                                        RecordType="A")["RecordData"]


def weights(sandbox, zone, name):
    found = r53(sandbox).list_resource_record_sets(HostedZoneId=zone_id(sandbox, zone))["ResourceRecordSets"]
    return {r["SetIdentifier"]: r["Weight"] for r in found if r["Name"] == name + "." and "Weight" in r}


def primary_check(sandbox, zone, name):
    found = r53(sandbox).list_resource_record_sets(HostedZoneId=zone_id(sandbox, zone))["ResourceRecordSets"]
    check_id = next(r["HealthCheckId"] for r in found if r["Name"] == name + "." and r.get("Failover") == "PRIMARY")
    return r53(sandbox).get_health_check(HealthCheckId=check_id)["HealthCheck"]


def calls(sandbox):
    return [r["operation"] for r in mutating(sandbox, "route53") if r["operation"] in CHANGES]


def test_check_then_failover_then_failback(sandbox, estate):
    assert dns(sandbox, "acme.example.com", "api.acme.example.com") == ["10.10.1.50"]
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY, check=True)
    assert rc == 0, out[-3000:] + err[-2000:]
    assert calls(sandbox) == []
    assert "www.acme.example.com A: weight www-us-west-2 0 -> 100, www-us-east-1 100 -> 0" in out
    assert "invert health check" in out

    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    # DNS answers with the DR endpoints: the failover pair through its PRIMARY's inverted health check, the weights.
    assert dns(sandbox, "acme.example.com", "api.acme.example.com") == ["10.20.1.50"]
    assert dns(sandbox, "acme.example.com", "www.acme.example.com") == ["10.20.1.80"]
    assert weights(sandbox, "acme.example.com", "www.acme.example.com") == {"www-us-east-1": 0, "www-us-west-2": 100}
    check = primary_check(sandbox, "acme.example.com", "api.acme.example.com")
    assert check["HealthCheckConfig"]["Inverted"] is True and check["HealthCheckVersion"] == 2
    # The other customer's zone is untouched.
    assert dns(sandbox, "globex.example.com", "shop.globex.example.com") == ["10.10.2.50"]
    assert calls(sandbox) == ["UpdateHealthCheck", "ChangeResourceRecordSets"]
    [record] = records(estate)
    [entry] = resources_of(estate, record).values()
    assert entry["technology"] == "route53" and entry["region"] == "global"
    assert entry["after"]["serving_region"] == "us-west-2" and entry["after"]["insync"] is True
    assert entry["after"]["answers"]["api.acme.example.com A"] == ["10.20.1.50"]
    assert entry["before"]["records"]["www.acme.example.com A"]["www-us-east-1"]["weight"] == 100
    assert set(entry["phases"]) == {"PREFLIGHT", "ACTIVATE"}

    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failback.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    assert dns(sandbox, "acme.example.com", "api.acme.example.com") == ["10.10.1.50"]
    assert dns(sandbox, "acme.example.com", "www.acme.example.com") == ["10.10.1.80"]
    assert primary_check(sandbox, "acme.example.com", "api.acme.example.com")["HealthCheckConfig"]["Inverted"] is False
    assert calls(sandbox) == ["UpdateHealthCheck", "ChangeResourceRecordSets"]


def test_drill_never_touches_dns_and_reports_what_would_change(sandbox, estate):
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "drill.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    assert calls(sandbox) == []
    assert "DNS would move to us-west-2" in out
    assert dns(sandbox, "acme.example.com", "api.acme.example.com") == ["10.10.1.50"]
    assert weights(sandbox, "acme.example.com", "www.acme.example.com") == {"www-us-east-1": 100, "www-us-west-2": 0}


def test_kill_mid_activate_then_rerun_flips_once(sandbox, estate):
    sandbox.drs_settings(time_scale=20.0)  # the change stays PENDING ~40 s: the kill lands while ACTIVATE waits

    def flipped():
        return primary_check(sandbox, "acme.example.com", "api.acme.example.com")["HealthCheckConfig"]["Inverted"]

    sandbox.clear_requests()
    start_and_kill_when(sandbox, estate, "failover.yml", flipped, *ONLY)
    sandbox.drs_settings(time_scale=0.3)
    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY)
    assert rc == 0, out[-3000:] + err[-2000:]
    assert calls(sandbox) == ["UpdateHealthCheck", "ChangeResourceRecordSets"]
    assert dns(sandbox, "acme.example.com", "api.acme.example.com") == ["10.20.1.50"]
    assert dns(sandbox, "acme.example.com", "www.acme.example.com") == ["10.20.1.80"]


def test_health_check_of_another_customer_is_refused_before_any_change(sandbox, estate):
    check = primary_check(sandbox, "acme.example.com", "api.acme.example.com")
    r53(sandbox).change_tags_for_resource(ResourceType="healthcheck", ResourceId=check["Id"],
                                          AddTags=[{"Key": "Customer", "Value": "globex"}])
    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", estate, *ONLY)
    assert rc != 0
    assert "Customer='globex', not 'acme'" in out + err
    assert calls(sandbox) == []
    assert dns(sandbox, "acme.example.com", "api.acme.example.com") == ["10.10.1.50"]
