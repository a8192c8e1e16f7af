"""Pure planning logic of the EventBridge, EFS and FSx adapters (what each phase would do from a read state)."""

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import efs
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import eventbridge
from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import fsx
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import arns
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import resources

HOST = {"dr_arn": "arn:aws:events:us-east-1:210987654321:rule/orders/nightly", "dr_primary_region": "us-east-1",
        "dr_dr_region": "us-west-2", "dr_account_id": "210987654321", "inventory_hostname": "nightly"}


def rule(state, exists=True):
    return {"exists": exists, "state": state, "arn": "arn", "tags": {}, "targets": 1}


def pair(activate, retire, answered=True):
    return {"bus": "orders", "name": "nightly", "activate_region": "us-west-2", "retire_region": "us-east-1",
            "activate": activate, "retire": retire, "retire_answered": answered}


def test_rule_identity_and_direction():
    assert eventbridge.rule_identity(HOST) == ("orders", "nightly")
    assert eventbridge.rule_identity(dict(HOST, dr_arn="arn:aws:events:us-east-1:1:rule/solo")) == ("default", "solo")
    assert eventbridge.regions_for(HOST, "failover") == ("us-west-2", "us-east-1")
    assert eventbridge.regions_for(HOST, "failback") == ("us-east-1", "us-west-2")


def test_rule_plan_enables_dr_and_disables_old_only_when_needed():
    assert eventbridge.plan_rule(pair(rule("DISABLED"), rule("ENABLED"))) == (["enable", "disable"], None)
    assert eventbridge.plan_rule(pair(rule("ENABLED"), rule("DISABLED"))) == ([], None)  # a resumed run: no call
    # The old region does not answer: enable only, and say so.
    actions, problem = eventbridge.plan_rule(pair(rule("DISABLED"), None, answered=False))
    assert actions == ["enable"] and problem is None
    plan = eventbridge.plan_resource("rule", pair(rule("DISABLED"), None, answered=False), "failover")
    assert "did not answer" in plan["plan"] and plan["after"]["old_region_rule_state"].startswith("unknown")
    actions, problem = eventbridge.plan_rule(pair(rule(None, exists=False), rule("ENABLED")))
    assert actions == [] and "deploy the rule nightly" in problem[1]


def test_endpoint_plan_forces_the_health_check_and_failback_clears_it():
    found = {"name": "ep", "home_region": "us-east-1", "health_check_id": "hc-1", "answered": True,
             "health_check": {"disabled": False, "inverted": False}, "secondary_region": "us-west-2",
             "endpoint": {"State": "ACTIVE"}}
    assert eventbridge.plan_endpoint(found, "failover")[:2] == (["update_health_check"], eventbridge.FORCED_UNHEALTHY)
    assert eventbridge.plan_endpoint(found, "failback")[0] == []
    forced = dict(found, health_check={"disabled": True, "inverted": True})
    assert eventbridge.plan_endpoint(forced, "failover")[0] == []
    assert eventbridge.endpoint_state(forced)["routing_to"] == "us-west-2"
    assert eventbridge.plan_endpoint(dict(found, missing=True), "failover")[2][0].startswith("no global endpoint")


def efs_state(replication, to_protection="REPLICATING", from_protection="ENABLED"):
    return {"replication": replication, "from": {"region": "us-east-1", "file_system_id": "fs-a"},
            "to": {"region": "us-west-2", "file_system_id": "fs-b"}, "answered": {"from": True, "to": True},
            "from_fs": {"protection": from_protection}, "to_fs": {"protection": to_protection},
            "peer_file_system_id": "fs-b"}


def flow(source, destination, status="ENABLED"):
    return {"source_file_system_id": source, "destination_file_system_id": destination, "status": status,
            "last_replicated": 0}


def test_efs_activate_deletes_once_and_waits_for_a_delete_under_way():
    assert efs.plan_activate(efs_state(flow("fs-a", "fs-b"))) == (["delete_replication"], None)
    assert efs.plan_activate(efs_state(flow("fs-a", "fs-b", "DELETING"))) == (["wait_deleted"], None)
    assert efs.plan_activate(efs_state(None, to_protection="ENABLED")) == ([], None)  # already writable
    assert efs.plan_activate(efs_state(flow("fs-b", "fs-a"))) == ([], None)  # already reversed
    actions, problem = efs.plan_activate(efs_state(flow("fs-a", "fs-b", "ENABLING")))
    assert actions == [] and "not complete" in problem[0]


def test_efs_replicate_disables_protection_then_creates_the_reverse_once():
    assert efs.plan_replicate(efs_state(None, "ENABLED", "ENABLED")) == (["disable_protection", "create_replication"],
                                                                         None)
    assert efs.plan_replicate(efs_state(None, "ENABLED", "DISABLED")) == (["create_replication"], None)
    assert efs.plan_replicate(efs_state(flow("fs-b", "fs-a"), "ENABLED", "REPLICATING")) == ([], None)
    assert efs.plan_replicate(efs_state(flow("fs-b", "fs-a", "ENABLING"))) == (["wait_enabled"], None)
    assert "run ACTIVATE first" in efs.plan_replicate(efs_state(flow("fs-a", "fs-b")))[1][1]


def test_fsx_plan_restores_the_newest_available_copy_and_refuses_ontap():
    copies = [{"BackupId": "b-old", "Lifecycle": "AVAILABLE", "CreationTime": 100,
               "FileSystem": {"FileSystemType": "LUSTRE"}},
              {"BackupId": "b-new", "Lifecycle": "AVAILABLE", "CreationTime": 200,
               "FileSystem": {"FileSystemType": "LUSTRE"}},
              {"BackupId": "b-copying", "Lifecycle": "COPYING", "CreationTime": 300}]
    assert fsx.latest_available(copies)["BackupId"] == "b-new"
    state = {"file_system_id": "fs-1", "dr_region": "us-west-2", "primary_region": "us-east-1", "restored": [],
             "copies": copies, "latest": fsx.latest_available(copies)}
    assert fsx.plan_restore(state) == (["restore", "wait_available"], None)
    assert fsx.plan_restore(dict(state, restored=[{"Lifecycle": "CREATING"}])) == (["wait_available"], None)
    assert fsx.plan_restore(dict(state, restored=[{"Lifecycle": "AVAILABLE"}])) == ([], None)
    ontap = dict(state, latest={"BackupId": "b", "FileSystem": {"FileSystemType": "ONTAP"}})
    assert "SnapMirror" in fsx.plan_restore(ontap)[1][1]
    assert "copy-backup" in fsx.plan_restore(dict(state, copies=[], latest=None))[1][1]
    assert fsx.token("edr-1", "failover", "fs-1") == fsx.token("edr-1", "failover", "fs-1")


def test_technology_host_variables_from_arns():
    rule_arn = "arn:aws:events:us-east-1:210987654321:rule/orders/nightly"
    assert resources.technology_vars("eventbridge", arns.parse_arn(rule_arn), {"arn": rule_arn}) == {
        "dr_eventbridge": {"kind": "rule", "rule_name": "nightly", "event_bus_name": "orders"}}
    fs_arn = "arn:aws:fsx:us-east-1:210987654321:file-system/fs-0123"
    assert resources.technology_vars("fsx", arns.parse_arn(fs_arn), {}) == {"dr_fsx": {"file_system_id": "fs-0123"}}
    efs_arn = "arn:aws:elasticfilesystem:us-east-1:210987654321:file-system/fs-9"
    assert resources.technology_vars("efs", arns.parse_arn(efs_arn), {"efs": {"file_system_id": "fs-9",
                                                                              "peer_file_system_id": "fs-8"}}) == {
        "dr_efs": {"file_system_id": "fs-9", "peer_file_system_id": "fs-8"}}
    assert resources.technology_vars("drs", arns.parse_arn(fs_arn), {}) == {}
