"""prepare.yml against the sandbox: launch settings configured ahead, asserted on DRS state through boto3."""

import json

import pytest

from tests.integration.test_failover import ACCOUNT
from tests.integration.test_failover import ACME
from tests.integration.test_failover import DR
from tests.integration.test_failover import GLOBEX
from tests.integration.test_failover import instances_by_name
from tests.integration.test_failover import run
from tests.integration.test_failover import servers_by_hostname


def _launch_settings(sandbox, hostnames):
    drs = sandbox.client("drs", ACCOUNT, DR)
    servers = servers_by_hostname(sandbox)
    found = {name: drs.get_launch_configuration(sourceServerID=servers[name]["sourceServerID"]) for name in hostnames}
    for settings in found.values():
        settings.pop("ResponseMetadata", None)
    return found


def _launch_into(settings):
    return (settings.get("launchIntoInstanceProperties") or {}).get("launchIntoEC2InstanceID")


def _updates(sandbox):
    return [r for r in sandbox.requests("drs") if r["operation"] == "UpdateLaunchConfiguration"]


def _prepare(sandbox, *extra, customer="acme", check=False):
    """prepare.yml takes the scope only (no store, gate or poll variables)."""
    return sandbox.run_ansible(["playbooks/prepare.yml", "-e", f"customer={customer}", *extra,
                                *(["--check"] if check else [])])


@pytest.fixture
def seeded(sandbox, tmp_path):
    from tests.integration.test_failover import estate

    sandbox.reset()
    sandbox.seed(estate())
    return tmp_path


def test_prepare_points_each_server_at_its_target_and_touches_no_other_customer(sandbox, seeded):
    globex_before = _launch_settings(sandbox, GLOBEX)
    targets = instances_by_name(sandbox, DR)

    sandbox.clear_requests()
    rc, out, err = _prepare(sandbox, check=True)
    assert rc == 0, out[-3000:] + err[-2000:]
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []
    assert "3 server(s) would be configured" in out and "- would change [" in out
    assert all(_launch_into(s) is None for s in _launch_settings(sandbox, ACME).values())

    sandbox.clear_requests()
    rc, out, err = _prepare(sandbox, "--diff")
    assert rc == 0, out[-3000:] + err[-2000:]
    mutating = [r for r in sandbox.mutating_requests() if r["service"] != "sts"]
    assert {(r["service"], r["operation"]) for r in mutating} == {("drs", "UpdateLaunchConfiguration")}
    assert "3 server(s) configured" in out and "- changed [" in out and "would change" not in out
    for name, settings in _launch_settings(sandbox, ACME).items():
        assert _launch_into(settings) == targets[name]["InstanceId"], (name, settings)
        assert settings["copyPrivateIp"] is False and settings["copyTags"] is False
        assert settings["targetInstanceTypeRightSizingMethod"] == "NONE"
    # Nothing of the other customer changed, and nothing was launched, stopped or tagged.
    assert _launch_settings(sandbox, GLOBEX) == globex_before
    assert sandbox.client("drs", ACCOUNT, DR).describe_jobs(filters={})["items"] == []
    assert {targets[name]["State"]["Name"] for name in ACME} == {"stopped"}

    # A re-run finds everything in place: reads only, and it says so.
    sandbox.clear_requests()
    rc, out, err = _prepare(sandbox)
    assert rc == 0, out[-3000:] + err[-2000:]
    assert _updates(sandbox) == []
    assert "0 server(s) configured, 3 already in place" in out


def test_a_failover_after_prepare_only_verifies_the_launch_settings(sandbox, seeded):
    rc, out, err = _prepare(sandbox)
    assert rc == 0, out[-3000:] + err[-2000:]
    targets = instances_by_name(sandbox, DR)

    sandbox.clear_requests()
    rc, out, err = run(sandbox, "failover.yml", seeded, "-e", "customer=acme",
                       "-e", json.dumps({"phases": ["instantiate"]}))
    assert rc == 0, out[-3000:] + err[-2000:]
    assert _updates(sandbox) == []  # INSTANTIATE found the settings in place
    reads = [r for r in sandbox.requests("drs") if r["operation"] == "GetLaunchConfiguration"]
    assert len(reads) >= len(ACME)  # and still read every server's before launching it
    recovery = sandbox.client("drs", ACCOUNT, DR).describe_recovery_instances(filters={})["items"]
    servers = servers_by_hostname(sandbox)
    launched = {r["sourceServerID"]: r["ec2InstanceID"] for r in recovery}
    assert launched == {servers[name]["sourceServerID"]: targets[name]["InstanceId"] for name in ACME}


def test_a_running_target_refuses_the_whole_preparation_before_any_change(sandbox, seeded):
    target = instances_by_name(sandbox, DR)["acme-prod-app02"]["InstanceId"]
    sandbox.client("ec2", ACCOUNT, DR).start_instances(InstanceIds=[target])
    sandbox.clear_requests()
    rc, out, err = _prepare(sandbox)
    assert rc != 0
    assert target in out and "acme-prod-app02" in out
    assert _updates(sandbox) == []
    assert all(_launch_into(s) is None for s in _launch_settings(sandbox, ACME).values())


@pytest.mark.parametrize("extra,expected", [
    (["-e", "environment=production"], "use -e env=production"),
    (["-e", "waves=1"], "unknown variable waves"),
    (["-e", "env=prodution"], "No DRS server of customer acme in environment prodution"),
])
def test_bad_input_is_refused_before_any_call_that_changes(sandbox, seeded, extra, expected):
    sandbox.clear_requests()
    rc, out, err = _prepare(sandbox, *extra)
    assert rc != 0
    assert expected in out + err
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []
    assert all(_launch_into(s) is None for s in _launch_settings(sandbox, ACME).values())


def test_an_unknown_customer_is_refused_naming_the_customers_of_the_inventory(sandbox, seeded):
    sandbox.clear_requests()
    rc, out, err = _prepare(sandbox, customer="initech")
    assert rc != 0
    assert "Customers in the inventory: acme, globex" in out
    assert [r for r in sandbox.mutating_requests() if r["service"] != "sts"] == []


@pytest.mark.parametrize("tags,expected", [
    ({"dr:priority": "urgent"}, ["invalid DR tags; nothing was changed", "urgent"]),
    ({"dr:wave": "third"}, ["is not safe, so a failover would refuse it; nothing was changed", "acme-prod-app01"]),
])
def test_what_the_failover_would_refuse_refuses_the_preparation(sandbox, tags, expected):
    from tests.integration.test_failover import estate

    broken = estate()
    for server in broken["servers"]:
        if server["hostname"] == "acme-prod-app01":
            server["tags"] = tags
    sandbox.reset()
    sandbox.seed(broken)
    sandbox.clear_requests()
    rc, out, err = _prepare(sandbox)
    assert rc != 0
    for text in expected:
        assert text in out, out[-3000:]
    assert _updates(sandbox) == []


def test_prepare_under_throttling_retries_and_configures_every_server(sandbox, seeded):
    """Half of DRS's answers and a third of EC2's are throttling: the retries run (through the collection's client
    factory, in the module processes) and the preparation ends as it would without them."""
    globex_before = _launch_settings(sandbox, GLOBEX)
    targets = instances_by_name(sandbox, DR)
    sandbox.clear_requests()
    sandbox.drs_settings(throttle_rate=0.5)
    sandbox.set_faults(service="ec2", throttle_rate=0.3)
    try:
        rc, out, err = _prepare(sandbox)
        log = sandbox.requests()
    finally:
        sandbox.clear_faults()
        sandbox.drs_settings(throttle_rate=0.0)
    assert rc == 0, out[-3000:] + err[-2000:]
    throttled = [r for r in log if r.get("status") in (429, 503) or r.get("error_code") == "ThrottlingException"]
    assert {r["service"] for r in throttled} >= {"drs"}, "no DRS call was throttled: the fault did not apply"
    for name, settings in _launch_settings(sandbox, ACME).items():
        assert _launch_into(settings) == targets[name]["InstanceId"], (name, settings)
        assert settings["copyPrivateIp"] is False and settings["copyTags"] is False
    assert _launch_settings(sandbox, GLOBEX) == globex_before


def test_prepare_killed_mid_run_then_rerun_configures_the_rest_and_repeats_nothing(sandbox, seeded):
    """Killed (controller, workers and module, no cleanup) after its first update: the re-run finishes the servers
    left and sends no update to a server already in place. DRS throttles most calls while it runs, so the other
    servers' updates are waiting in their retry backoff when the kill comes, not already sent."""
    import subprocess
    import time

    from sandbox.harness import REPO_ROOT
    from sandbox.harness import crash

    targets = instances_by_name(sandbox, DR)
    sandbox.clear_requests()
    sandbox.drs_settings(throttle_rate=0.7)
    command = [str(REPO_ROOT / ".venv" / "bin" / "ansible-playbook"), "playbooks/prepare.yml", "-e", "customer=acme"]
    process = subprocess.Popen(command, cwd=str(REPO_ROOT), env=sandbox.ansible_env(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 300
        while time.time() < deadline and process.poll() is None and \
                not [r for r in _updates(sandbox) if r.get("status") == 200]:
            time.sleep(0.05)
        assert process.poll() is None, "prepare ended before its first update: nothing to kill"
        crash(process)
    finally:
        if process.poll() is None:
            crash(process)
        sandbox.drs_settings(throttle_rate=0.0)
    time.sleep(1)  # a request in flight at the kill is answered and logged
    before = _launch_settings(sandbox, ACME)
    in_place = {name for name, settings in before.items() if _launch_into(settings) == targets[name]["InstanceId"]}
    assert in_place != set(ACME), "every server was configured before the kill: the kill came too late to test"

    sandbox.clear_requests()
    rc, out, err = _prepare(sandbox)
    assert rc == 0, out[-3000:] + err[-2000:]
    for name, settings in _launch_settings(sandbox, ACME).items():
        assert _launch_into(settings) == targets[name]["InstanceId"], (name, settings)
        assert settings["copyPrivateIp"] is False and settings["copyTags"] is False
    # At most two updates for each server the kill left unfinished (settings off, then the launch into), none for a
    # server already in place.
    left = len(set(ACME) - in_place)
    assert 0 < len(_updates(sandbox)) <= 2 * left, (len(_updates(sandbox)), in_place)
    sandbox.clear_requests()
    rc, out, err = _prepare(sandbox)
    assert rc == 0, out[-3000:] + err[-2000:]
    assert _updates(sandbox) == []
