from ansible_collections.enterprise_dr.orchestration.plugins.filter.dr_record_entries import dr_record_entries
from ansible_collections.enterprise_dr.orchestration.plugins.filter.dr_record_keys import dr_record_keys

HOSTS = [
    {"inventory_hostname": "acme-prod-web01", "dr_source_server_id": "s-1",
     "dr_arn": "arn:aws:drs:us-west-2:210987654321:source-server/s-1", "dr_technology": "drs"},
    {"inventory_hostname": "acme-prod-web02", "dr_source_server_id": "s-2", "dr_technology": "drs"},
    {"inventory_hostname": "acme-prod-web03", "dr_technology": "drs"},
]


def test_each_host_is_keyed_by_its_arn_else_its_source_server_else_its_name():
    assert dr_record_keys(HOSTS) == ["arn:aws:drs:us-west-2:210987654321:source-server/s-1", "s-2", "acme-prod-web03"]


def test_the_keys_are_those_the_record_entries_are_written_with():
    rows = [{"source_server_id": "s-1", "launch_status": "LAUNCHED"},
            {"source_server_id": "s-2", "launch_status": "LAUNCHED"}]
    written = [entry["resource"] for entry in dr_record_entries(rows, HOSTS, "INSTANTIATE")]
    assert written == dr_record_keys(HOSTS[:2])


def test_repeats_and_non_hosts_are_left_out():
    assert dr_record_keys([HOSTS[1], HOSTS[1], "acme-prod-web02", None]) == ["s-2"]
    assert dr_record_keys(None) == []
