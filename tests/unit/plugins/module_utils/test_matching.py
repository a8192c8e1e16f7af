import random

import pytest

from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import matching


def srv(sid, hostname, pinned=None):
    server = {"source_server_id": sid, "hostname": hostname}
    if pinned:
        server["target_instance_id"] = pinned
    return server


def tgt(iid, name):
    return {"instance_id": iid, "name": name}


def pairs(result):
    return {m["server"]["source_server_id"]: m["target"]["instance_id"] for m in result["matches"]}


def unmatched(result):
    return {u["server"]["source_server_id"]: u["reason"] for u in result["unmatched_servers"]}


def test_exact_match_ignores_case_and_surrounding_whitespace():
    result = matching.match_servers(
        [srv("s-1", "acme-prod-app01"), srv("s-2", " ACME-Prod-DB01\t")],
        [tgt("i-1", "  Acme-Prod-App01 "), tgt("i-2", "acme-prod-db01"), tgt("i-3", "acme-prod-web01")],
    )
    assert pairs(result) == {"s-1": "i-1", "s-2": "i-2"}
    assert {m["method"] for m in result["matches"]} == {"exact"}
    assert [t["instance_id"] for t in result["unmatched_targets"]] == ["i-3"]
    assert result["problems"] == []


def test_inner_differences_are_not_exact():
    result = matching.match_servers([srv("s-1", "acme-prod-app01")], [tgt("i-1", "acme_prod_app01")])
    assert pairs(result) == {}
    assert "no target is named 'acme-prod-app01'" in unmatched(result)["s-1"]
    assert any("s-1 (acme-prod-app01)" in p and "AWSDRS=AllowLaunchingIntoThisInstance" in p
               for p in result["problems"])


def test_duplicate_target_names_are_reported_and_never_guessed():
    result = matching.match_servers(
        [srv("s-1", "acme-prod-db01"), srv("s-2", "acme-prod-app01")],
        [tgt("i-1", "acme-prod-db01"), tgt("i-2", "ACME-PROD-DB01 "), tgt("i-3", "acme-prod-app01")],
    )
    assert pairs(result) == {"s-2": "i-3"}
    assert "s-1" in unmatched(result)
    assert result["duplicate_targets"][0]["instance_ids"] == ["i-1", "i-2"]
    problem = [p for p in result["problems"] if "s-1" in p][0]
    assert "i-1" in problem and "i-2" in problem and "acme-prod-db01" in problem


def test_duplicate_hostnames_are_reported_and_never_guessed():
    result = matching.match_servers(
        [srv("s-1", "acme-prod-db01"), srv("s-2", "Acme-Prod-DB01"), srv("s-3", "acme-prod-app01")],
        [tgt("i-1", "acme-prod-db01"), tgt("i-3", "acme-prod-app01")],
    )
    assert pairs(result) == {"s-3": "i-3"}
    assert set(unmatched(result)) == {"s-1", "s-2"}
    assert result["duplicate_servers"][0]["source_server_ids"] == ["s-1", "s-2"]
    assert any("s-1" in p and "s-2" in p for p in result["problems"])


def test_pinned_target_wins_over_names():
    result = matching.match_servers(
        [srv("s-1", "acme-prod-app01", pinned="i-9"), srv("s-2", "acme-prod-app02")],
        [tgt("i-1", "acme-prod-app01"), tgt("i-9", "something-else"), tgt("i-2", "acme-prod-app02")],
    )
    assert pairs(result) == {"s-1": "i-9", "s-2": "i-2"}
    methods = {m["server"]["source_server_id"]: m["method"] for m in result["matches"]}
    assert methods == {"s-1": "pinned", "s-2": "exact"}
    assert [t["instance_id"] for t in result["unmatched_targets"]] == ["i-1"]


def test_pinned_target_missing_or_pinned_twice_is_reported():
    result = matching.match_servers(
        [srv("s-1", "a01", pinned="i-404"), srv("s-2", "b01", pinned="i-1"), srv("s-3", "c01", pinned="i-1")],
        [tgt("i-1", "b01")],
    )
    assert pairs(result) == {}
    reasons = unmatched(result)
    assert "i-404 was not found" in reasons["s-1"]
    assert "pinned by more than one server" in reasons["s-2"] and "pinned by more than one server" in reasons["s-3"]


def test_a_pinned_target_is_not_available_to_name_matching():
    result = matching.match_servers(
        [srv("s-1", "x", pinned="i-1"), srv("s-2", "acme-prod-app01")], [tgt("i-1", "acme-prod-app01")]
    )
    assert pairs(result) == {"s-1": "i-1"}
    assert "s-2" in unmatched(result)


def test_server_without_hostname_is_reported():
    result = matching.match_servers([srv("s-1", "  ")], [tgt("i-1", "x")])
    assert "no hostname" in unmatched(result)["s-1"]


def test_fuzzy_is_off_by_default():
    result = matching.match_servers([srv("s-1", "acme-production-app01")], [tgt("i-1", "acme-prod-app01")])
    assert pairs(result) == {}


@pytest.mark.parametrize("hostname,name,threshold,expected", [
    ("acme-prod-app01", "acme_prod_app01", 0.9, True),         # separators only
    ("acme-production-app01", "acme-prod-app01", 0.7, True),   # environment spelling
    ("acme-production-app01", "acme-prod-app01", 0.95, False),  # below the threshold
    ("prod-app01", "acme-prod-app01", 0.7, True),               # a prefix
    ("acme-prod-app01", "acme-prod-app10", 0.0, False),         # numbers differ: never
    ("acme-prod-app1", "acme-prod-app10", 0.0, False),
    ("acme-prod-app01", "acme-prod-web01", 0.0, False),         # role differs: never
    ("acme-prod-app01", "acme-prod-app01-old2", 0.0, False),    # extra number: never
])
def test_fuzzy_threshold_and_role_number_guard(hostname, name, threshold, expected):
    result = matching.match_servers([srv("s-1", hostname)], [tgt("i-1", name)], fuzzy_threshold=threshold)
    assert (pairs(result) == {"s-1": "i-1"}) is expected
    if expected:
        assert result["matches"][0]["method"] == "fuzzy"
        assert 0 < result["matches"][0]["score"] <= 1


def test_app01_never_matches_app10_even_when_app01_target_is_missing():
    result = matching.match_servers(
        [srv("s-1", "acme-prod-app01"), srv("s-10", "acme-prod-app10")],
        [tgt("i-10", "acme-prod-app10")], fuzzy_threshold=0.0,
    )
    assert pairs(result) == {"s-10": "i-10"}
    assert "s-1" in unmatched(result)


def test_fuzzy_never_takes_a_target_matched_exactly():
    result = matching.match_servers(
        [srv("s-1", "acme-prod-app01"), srv("s-2", "acme-production-app01")],
        [tgt("i-1", "acme-prod-app01")], fuzzy_threshold=0.5,
    )
    assert pairs(result) == {"s-1": "i-1"}
    assert "s-2" in unmatched(result)


def test_fuzzy_conflict_and_tie_are_reported_not_guessed():
    conflict = matching.match_servers(
        [srv("s-1", "acme-production-app01"), srv("s-2", "acme-prd-app01")],
        [tgt("i-1", "acme-prod-app01")], fuzzy_threshold=0.5,
    )
    assert pairs(conflict) == {}
    assert all("more than one server" in r for r in unmatched(conflict).values())
    tie = matching.match_servers(
        [srv("s-1", "acme-prod-app01")], [tgt("i-1", "acme_prod_app01"), tgt("i-2", "acme.prod.app01")],
        fuzzy_threshold=0.5,
    )
    assert pairs(tie) == {}
    assert "equally close" in unmatched(tie)["s-1"]


def test_name_key():
    assert matching.name_key("ACME-Prod-App01") == ("app", (1,))
    assert matching.name_key("acme-prod-app10") == ("app", (10,))
    assert matching.name_key("db-primary") == ("primary", ())
    assert matching.name_key("acme-prod-app-01") == ("app", (1,))


def test_one_thousand_pairs_are_matched_correctly():
    rng = random.Random(7)
    servers, targets, expected = [], [], {}
    for n in range(1000):
        customer = ("acme", "globex")[n % 2]
        hostname = f"{customer}-prod-{('app', 'web', 'db')[n % 3]}{n:04d}"
        name = rng.choice([hostname.upper(), f"  {hostname} ", hostname.title()])
        servers.append(srv(f"s-{n}", hostname))
        targets.append(tgt(f"i-{n}", name))
        expected[f"s-{n}"] = f"i-{n}"
    rng.shuffle(targets)
    result = matching.match_servers(servers, targets)
    assert pairs(result) == expected
    assert result["problems"] == [] and result["unmatched_targets"] == []
    # With fuzzy on and every name spelled differently, numbers and roles still keep pairs apart.
    fuzzy_targets = [tgt(t["instance_id"], t["name"].strip().replace("-prod-", "_production_")) for t in targets]
    result = matching.match_servers(servers, fuzzy_targets, fuzzy_threshold=0.6)
    assert pairs(result) == expected
