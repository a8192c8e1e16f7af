"""Pure planning logic of the Lambda adapter: which alias, which version, which concurrency and event source calls,
which versions CLEANUP deletes, from a read state."""

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import lambda_function as lam
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import arns
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import resources
from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import technologies

ARN = "arn:aws:lambda:us-west-2:210987654321:function:orders"
HOST = {"dr_arn": ARN, "dr_resource_name": "orders", "dr_lambda": {"function_name": "orders", "alias": None},
        "dr_tags": {}, "dr_primary_region": "us-east-1", "dr_dr_region": "us-west-2"}


def side(region="us-west-2", reserved=None, provisioned=None, alias_version="1", versions=(), latest=None,
         mappings=(), exists=True, aliases=None):
    return {"exists": exists, "reachable": True, "region": region, "reserved_concurrency": reserved,
            "provisioned": provisioned, "alias": "live", "alias_version": alias_version,
            "aliases": aliases if aliases is not None else {"live": {"version": alias_version, "weights": {}}},
            "versions": [dict(v) for v in versions], "latest": latest or {},
            "event_sources": [{"uuid": u, "state": s, "function_arn": f} for u, s, f in mappings]}


def test_alias_is_the_tagged_one_else_the_only_one():
    assert lam.choose_alias("live", {"live": {}, "canary": {}}) == ("live", None)
    assert lam.choose_alias(None, {"live": {}}) == ("live", None)
    assert lam.choose_alias("blue", {"live": {}})[0] is None
    name, why = lam.choose_alias(None, {"live": {}, "canary": {}})
    assert name is None and "dr:alias" in why
    assert lam.choose_alias(None, {}) == (None, "the function has no alias")


def test_host_variables_and_registry():
    parts = arns.parse_arn(ARN)
    assert arns.classify(ARN) == "lambda"
    assert resources.technology_vars("lambda", parts, {"tags": {"dr:alias": " live "}}) == {
        "dr_lambda": {"function_name": "orders", "alias": "live"}}
    assert technologies.takes_part("lambda", "failover", "instantiate")
    assert not technologies.takes_part("lambda", "drill", "cleanup")  # a drill makes nothing to clean up
    assert technologies.entry_point("lambda", "failover", "activate", emergency=True)["tasks_from"] == "activate"
    assert lam.alias_hint(dict(HOST, dr_lambda={}, dr_tags={"dr:alias": "blue"})) == "blue"


def test_a_version_is_published_only_when_latest_differs_from_the_newest():
    latest = {"version": "$LATEST", "CodeSha256": "new", "Handler": "h"}
    assert lam.version_to_serve(side(versions=[{"version": "1", "CodeSha256": "old", "Handler": "h"}],
                                     latest=latest)) == (None, True)
    assert lam.version_to_serve(side(versions=[{"version": "1", "CodeSha256": "old", "Handler": "h"},
                                               {"version": "2", "CodeSha256": "new", "Handler": "h"}],
                                     latest=latest)) == ("2", False)
    assert lam.version_to_serve(side(versions=[], latest=latest)) == (None, True)


def test_production_levels_come_from_the_record_then_live_then_tags():
    recorded = {"production": {"from": "us-east-1", "reserved": 20, "provisioned": 5}}
    primary = side("us-east-1", reserved=50, provisioned={"requested": 8})
    levels = lam.production_levels(HOST, recorded, primary)
    assert (levels["reserved"], levels["provisioned"], levels["known"]) == (20, 5, True)
    assert "PREFLIGHT" in levels["origin"]
    assert lam.production_levels(HOST, {}, primary)["reserved"] == 50
    gone = {"exists": False, "region": "us-east-1"}
    tagged = dict(HOST, dr_tags={"dr:reserved-concurrency": "30", "dr:provisioned-concurrency": "4"})
    assert (lam.production_levels(tagged, {}, gone)["reserved"], lam.production_levels(tagged, {}, gone)[
        "provisioned"]) == (30, 4)
    unreserved = dict(HOST, dr_tags={"dr:reserved-concurrency": "none"})
    assert lam.production_levels(unreserved, {}, gone)["reserved"] is None
    assert lam.production_levels(HOST, {}, gone)["known"] is False


def test_concurrency_steps():
    known = {"reserved": 20, "provisioned": 5, "known": True}
    assert lam.concurrency_steps(side(reserved=0), known) == [("put_reserved", 20), ("put_provisioned", 5)]
    ready = side(reserved=20, provisioned={"requested": 5, "status": "READY"})
    assert lam.concurrency_steps(ready, known) == []
    failed = side(reserved=20, provisioned={"requested": 5, "status": "FAILED"})
    assert lam.concurrency_steps(failed, known) == [("put_provisioned", 5)]
    # Production is unreserved: the pilot light's limit goes; nothing known: only a throttle (0) is lifted.
    assert lam.concurrency_steps(side(reserved=0), {"reserved": None, "provisioned": None, "known": True}) == [
        ("delete_reserved", None)]
    unknown = {"reserved": None, "provisioned": None, "known": False}
    assert lam.concurrency_steps(side(reserved=0), unknown) == [("delete_reserved", None)]
    assert lam.concurrency_steps(side(reserved=3), unknown) == []


def test_event_sources_enabled_on_the_new_side_and_disabled_on_the_old():
    target = side(mappings=[("a", "Disabled", ARN), ("b", "Enabled", ARN), ("c", "Disabling", ARN)])
    source = side("us-east-1", mappings=[("d", "Enabled", ARN), ("e", "Disabled", ARN), ("f", "Enabling", ARN)])
    assert lam.event_source_steps(target, source) == (["a", "c"], ["d", "f"])
    assert lam.event_source_steps(target, {}) == (["a", "c"], [])


def test_cleanup_keeps_the_newest_and_every_version_in_use():
    versions = [{"version": str(n)} for n in range(1, 8)]
    state = side(versions=versions, alias_version="7",
                 aliases={"live": {"version": "7", "weights": {"6": 0.1}}, "old": {"version": "2", "weights": {}}},
                 mappings=[("m", "Enabled", ARN + ":3")])
    # Keep 2 newest (7, 6); in use: 7 and 6 (live + weight), 2 (alias old), 3 (a mapping), 4 (provisioned).
    assert lam.versions_to_delete(state, 2, provisioned_qualifiers=["4", "live"]) == ["1", "5"]
    assert lam.versions_to_delete(state, 10) == []
    assert lam.keep_for(dict(HOST, dr_tags={"dr:keep-versions": "1"}), 3) == 1
    assert lam.keep_for(dict(HOST, dr_tags={"dr:keep-versions": "0"}), 3) == 3


def test_unqualified_arns_and_readiness():
    assert lam.unqualified(ARN + ":live") == (ARN, "live")
    assert lam.unqualified(ARN) == (ARN, None)
    assert lam.provisioned_ready({"status": "READY", "allocated": 5}, 5)
    assert not lam.provisioned_ready({"status": "IN_PROGRESS", "allocated": 0}, 5)
    assert not lam.provisioned_ready(None, 5)
