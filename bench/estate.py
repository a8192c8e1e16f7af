"""Generated estates for the benchmarks (schema: docs/sandbox.md, including ``generate`` blocks)."""

HUB_ACCOUNT_ID = "123456789012"
ROLE_NAME = "EnterpriseDRWorkloadRole"
PRIMARY_REGION = "us-east-1"
DR_REGION = "us-west-2"
# The two workload accounts of the project's conventions, plus a third one only the benchmark uses.
ACCOUNTS = [
    {"account_id": "210987654321", "name": "workload-a", "external_id": "edr-demo-workload-a"},
    {"account_id": "345678901234", "name": "workload-b", "external_id": "edr-demo-workload-b"},
    {"account_id": "456789012345", "name": "workload-c", "external_id": "edr-bench-workload-c"},
]
BENCH_CUSTOMER = "benchco"
RTO_LAUNCH_INTO_CUSTOMER = "rto-launchinto"
RTO_NEW_INSTANCE_CUSTOMER = "rto-newinstance"
PRIORITIES = ["critical", "high", "medium", "low"]
# Other tagged resources: types the Resource Groups Tagging API of the sandbox returns.
# (ECS services are left out: the sandbox tags their clusters too, which discovery rightly reports as invalid.)
RESOURCE_MIX = ["lambda_function", "rds_instance"]

# DRS emulator settings for orchestration measurements: job time near zero, and a token bucket large
# enough never to answer 429 (throttling is measured separately, if at all, not mixed into these figures).
FAST_DRS = {"time_scale": 0.01, "rate_limit_rps": 100000, "rate_limit_burst": 100000}
# docs/sandbox_drs.md: time_scale 60 gives realistic minutes, so at time_scale 1 one emulated second
# stands for one minute of the real service.
MODELLED_DRS = {"time_scale": 1.0, "rate_limit_rps": 100000, "rate_limit_burst": 100000}


# Every account gets the same subnet and security group names, so one generate block spans accounts. The
# security groups carry the egress that reverse replication (REPLICATE) checks for: TCP 1500 and 443.
SUBNETS = {"primary": "app", "dr": "app"}
SECURITY_GROUPS = {"primary": ["dr-replication"], "dr": ["dr-recovered"]}


def _network(second_octet, replicate_to):
    return {
        "vpc": {"cidr": f"10.{second_octet}.0.0/16"},
        "subnets": [{"name": "app", "cidr": f"10.{second_octet}.0.0/20"}],
        "security_groups": [{
            "name": "dr-replication" if second_octet % 2 == 0 else "dr-recovered",
            "description": "DRS replication (TCP 1500 to the other region's staging area, 443 to the DRS endpoint)",
            "ingress": [{"protocol": "tcp", "port": 1500, "cidr": "10.0.0.0/8"}],
            "egress": [{"protocol": "tcp", "port": 1500, "cidr": replicate_to},
                       {"protocol": "tcp", "port": 443, "cidr": "0.0.0.0/0"}],
        }],
    }


def _accounts(count):
    accounts = []
    for index, account in enumerate(ACCOUNTS[:count]):
        primary, dr = 100 + 2 * index, 101 + 2 * index
        accounts.append({**account, "role_name": ROLE_NAME, "networks": {
            PRIMARY_REGION: _network(primary, f"10.{dr}.0.0/16"),
            DR_REGION: _network(dr, f"10.{primary}.0.0/16"),
        }})
    return accounts


def scale_estate(servers=1000, waves=10, resources=200, accounts=3, drs=None):
    """``servers`` DRS servers with launch-into targets over ``accounts`` and ``waves``, plus tagged resources."""
    names = [account["name"] for account in ACCOUNTS[:accounts]]
    other = []
    for index in range(resources):
        kind = RESOURCE_MIX[index % len(RESOURCE_MIX)]
        other.append({
            "type": kind,
            "name": f"bench-{kind.replace('_', '-')}-{index:04d}",
            "account": names[index % len(names)],
            "customer": BENCH_CUSTOMER,
            "environment": "production",
            "wave": 1 + index % waves,
            "priority": PRIORITIES[index % len(PRIORITIES)],
        })
    return {
        "version": 1,
        "name": "bench",
        "description": f"{servers} DRS servers in {waves} waves over {accounts} workload accounts, "
                       f"{resources} other tagged resources",
        "hub": {"account_id": HUB_ACCOUNT_ID, "name": "hub"},
        "regions": {"primary": PRIMARY_REGION, "dr": DR_REGION},
        "customers": [BENCH_CUSTOMER],
        "accounts": _accounts(accounts),
        "generate": [{
            "count": servers,
            "name": BENCH_CUSTOMER + "-prod-app{index:04d}",
            "customers": [BENCH_CUSTOMER],
            "accounts": names,
            "waves": waves,
            "priorities": PRIORITIES,
            "environment": "production",
            "replication_state": "CONTINUOUS",
            "lag_seconds": 0,
            "target": True,
            "subnets": SUBNETS,
            "security_groups": SECURITY_GROUPS,
        }],
        "resources": other,
        "sandbox": {"drs": dict(drs or FAST_DRS)},
    }


def rto_estate(servers=100, waves=4, accounts=3, drs=None):
    """Two customers of ``servers`` each: one launching into pre-provisioned targets, one into new instances."""
    names = [account["name"] for account in ACCOUNTS[:accounts]]
    common = {"accounts": names, "waves": waves, "priorities": PRIORITIES, "environment": "production",
              "replication_state": "CONTINUOUS", "lag_seconds": 0, "subnets": SUBNETS,
              "security_groups": SECURITY_GROUPS}
    return {
        "version": 1,
        "name": "bench-rto",
        "description": f"modelled RTO: {servers} servers launching into targets, {servers} into new instances",
        "hub": {"account_id": HUB_ACCOUNT_ID, "name": "hub"},
        "regions": {"primary": PRIMARY_REGION, "dr": DR_REGION},
        "customers": [RTO_LAUNCH_INTO_CUSTOMER, RTO_NEW_INSTANCE_CUSTOMER],
        "accounts": _accounts(accounts),
        "generate": [
            {**common, "count": servers, "name": "rtoli-prod-app{index:04d}", "customers": [RTO_LAUNCH_INTO_CUSTOMER],
             "recovery_strategy": "launch-into-instance", "target": True},
            {**common, "count": servers, "name": "rtoni-prod-app{index:04d}", "customers": [RTO_NEW_INSTANCE_CUSTOMER],
             "recovery_strategy": "new-instance", "target": False},
        ],
        "sandbox": {"drs": dict(drs or MODELLED_DRS)},
    }


def inventory_config(accounts=3, cache_dir=None, max_workers=8):
    """The dr_resources inventory configuration for the estate's workload accounts (cache on when cache_dir)."""
    config = {
        "plugin": "enterprise_dr.orchestration.dr_resources",
        "primary_region": PRIMARY_REGION,
        "dr_region": DR_REGION,
        "accounts": [
            {"account_id": a["account_id"], "name": a["name"],
             "role_arn": f"arn:aws:iam::{a['account_id']}:role/{ROLE_NAME}", "external_id": a["external_id"]}
            for a in ACCOUNTS[:accounts]
        ],
        "strict": False,
        "fail_on_unreachable_account": True,
        "max_workers": max_workers,
    }
    if cache_dir:
        config.update({"cache": True, "cache_plugin": "ansible.builtin.jsonfile",
                       "cache_connection": str(cache_dir), "cache_timeout": 3600})
    return config


MIXED_CUSTOMER = "mixco"
# The data tier that fails over beside the DRS servers of a wave, one resource of each per wave.
MIXED_TECHNOLOGIES = ["drs", "aurora", "rds", "elasticache"]


def mixed_estate(servers=100, waves=2, drs=None):
    """``servers`` DRS servers over ``waves`` waves in one account, and in every wave one Aurora global database,
    one RDS instance with its cross-region replica and one ElastiCache global datastore: the cost of a technology
    in a wave is the difference between a failover of only DRS and one of all four."""
    account = ACCOUNTS[0]["name"]
    data_tier = []
    for wave in range(1, waves + 1):
        common = {"account": account, "region": PRIMARY_REGION, "customer": MIXED_CUSTOMER,
                  "environment": "production", "wave": wave, "priority": "critical"}
        data_tier += [
            {**common, "type": "rds_cluster", "name": f"mixco-prod-orders{wave:02d}",
             "global_cluster": f"mixco-prod-orders{wave:02d}-global", "recovery_strategy": "switchover",
             "lag_ms": 200},
            {**common, "type": "rds_instance", "name": f"mixco-prod-ledger{wave:02d}", "replica": True,
             "lag_seconds": 1},
            {**common, "type": "elasticache_global_datastore", "name": f"mixco-prod-sessions{wave:02d}",
             "recovery_strategy": "failover"},
        ]
    return {
        "version": 1,
        "name": "bench-mixed",
        "description": f"{servers} DRS servers in {waves} waves, each wave with an Aurora global database, an RDS "
                       "replica and an ElastiCache global datastore",
        "hub": {"account_id": HUB_ACCOUNT_ID, "name": "hub"},
        "regions": {"primary": PRIMARY_REGION, "dr": DR_REGION},
        "customers": [MIXED_CUSTOMER],
        "accounts": _accounts(1),
        "generate": [{
            "count": servers, "name": MIXED_CUSTOMER + "-prod-app{index:04d}", "customers": [MIXED_CUSTOMER],
            "accounts": [account], "waves": waves, "priorities": PRIORITIES, "environment": "production",
            "replication_state": "CONTINUOUS", "lag_seconds": 0, "target": True, "subnets": SUBNETS,
            "security_groups": SECURITY_GROUPS,
        }],
        "resources": data_tier,
        "sandbox": {"drs": dict(drs or FAST_DRS)},
    }
