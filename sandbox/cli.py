"""``python -m sandbox``: start, stop, seed and inspect the local AWS sandbox, and run the demo."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from sandbox.control import DEFAULT_STATE_DIR
from sandbox.control import ENV_FILE
from sandbox.control import ESTATE_VARS_FILE
from sandbox.control import REPO_ROOT
from sandbox.control import SandboxError
from sandbox.control import SandboxProcess
from sandbox.control import export_lines
from sandbox.estate import EstateError

DEMO_ESTATE = REPO_ROOT / "sandbox" / "estates" / "demo.yml"
DEMO_PLAYBOOK = REPO_ROOT / "playbooks" / "demo.yml"


def _process(args) -> SandboxProcess:
    return SandboxProcess(args.state_dir)


def _print_env(process: SandboxProcess, stream=sys.stdout):
    stream.write(export_lines(process.env()))


def cmd_start(args) -> int:
    process = _process(args)
    info, started = process.start(port=args.port)
    if started:
        print(f"# sandbox started on {info['endpoint']} (pid {info['pid']}); state in {process.state_dir}",
              file=sys.stderr)
    else:
        print(f"# sandbox already running on {info['endpoint']} (pid {process.running_pid()})", file=sys.stderr)
    if args.estate:
        _seed(process, args.estate)
    _print_env(process)
    print(f"# or: source {process.path(ENV_FILE)}", file=sys.stderr)
    return 0


def cmd_stop(args) -> int:
    process = _process(args)
    if process.stop():
        print("sandbox stopped")
    else:
        print(f"no sandbox running for {process.state_dir}")
    return 0


def cmd_status(args) -> int:
    status = _process(args).status()
    print(json.dumps(status, indent=2))
    return 0 if status["running"] else 3


def cmd_env(args) -> int:
    _print_env(_process(args))
    return 0


def _seed(process: SandboxProcess, path) -> dict:
    from sandbox.estate import seed

    endpoint = process.env()["AWS_ENDPOINT_URL"]
    result = seed(path, endpoint, state_dir=process.state_dir)
    servers = result["servers"]
    print(
        f"# seeded {path}: {len(result['accounts'])} accounts, {len(servers)} servers, "
        f"{sum(1 for s in servers.values() if s.get('source_server_id'))} DRS source servers, "
        f"{sum(1 for s in servers.values() if s.get('target_instance_id'))} targets, "
        f"{len(result['resources'])} other resources in {result['duration_seconds']} s; "
        f"playbook variables in {process.path(ESTATE_VARS_FILE)}",
        file=sys.stderr,
    )
    return result


def cmd_seed(args) -> int:
    process = _process(args)
    result = _seed(process, args.file)
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    return 0


def cmd_reset(args) -> int:
    _process(args).admin().reset()
    print("sandbox reset: every service's state, the request log and the faults are cleared")
    return 0


def cmd_requests(args) -> int:
    admin = _process(args).admin()
    if args.clear:
        admin.clear_requests()
        print("request log cleared")
        return 0
    entries = admin.requests(service=args.service)
    if args.mutating:
        entries = [entry for entry in entries if entry["mutating"]]
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    for entry in entries:
        extra = f" role={entry['role_arn']} external_id={entry['external_id']}" if entry.get("role_arn") else ""
        print(f"{entry['time']} {entry['status']} {entry['account']} {entry['region']} {entry['service']}:"
              f"{entry['operation']}{' (mutating)' if entry['mutating'] else ''}{extra}")
    return 0


def cmd_faults(args) -> int:
    admin = _process(args).admin()
    if args.clear:
        document = admin.clear_faults()
    else:
        settings = {key: getattr(args, key) for key in ("latency_ms", "error_rate", "throttle_rate",
                                                        "throttle_next", "error_next")
                    if getattr(args, key) is not None}
        drs = {}
        for item in args.drs or []:
            key, _equals, value = item.partition("=")
            try:
                drs[key] = json.loads(value)
            except ValueError:
                drs[key] = value
        if settings or drs:
            document = admin.set_faults({"service": args.service, **settings, **({"drs": drs} if drs else {})})
        else:
            document = admin.faults()
    print(json.dumps(document, indent=2))
    return 0


# The technologies of acme's demo failover: every one with an adapter.
DEMO_TECHNOLOGIES = ('{{"dr_technologies": ["aurora", "rds", "elasticache", "efs", "fsx", "drs", "autoscaling", "ecs", '
                     '"lambda", "eventbridge", "route53", "opensearch", "memorydb"]}}')

# The demo, step by step: what a new user sees first. Each step is a real playbook against the sandbox.
DEMO_STEPS = (
    ("DRS readiness of the demo estate, per customer and wave", ["playbooks/demo.yml", "-e", "@{estate_vars}"]),
    ("Hub account: execution table, notification topics, dashboard", ["playbooks/setup_hub.yml"]),
    ("Prepare acme ahead of time, as AWS recommends: each DRS server set to launch into its pre-provisioned target",
     ["playbooks/prepare.yml", "-e", "customer=acme"]),
    ("Failover of acme: databases and caches first (Aurora global database, RDS replica, ElastiCache global "
     "datastore), file systems, then the DRS servers, Auto Scaling, ECS and Lambda, the event rules and DNS "
     "(automatic approval)",
     ["playbooks/failover.yml", "-e", "customer=acme", "-e", "approval_mode=automatic",
      "-e", "allow_automatic_production=true", "-e", DEMO_TECHNOLOGIES,
      "-e", "notify=true", "-e", "poll_interval=2"]),
    ("The execution record of that failover, as operators and machines read it",
     ["playbooks/status.yml", "-e", "customer=acme", "-e", "status_file={state_dir}/acme_status.json"]),
    ("globex is untouched: still replicating, nothing launched",
     ["playbooks/demo.yml", "-e", "@{estate_vars}", "-e", '{{"customers": ["globex"]}}']),
    ("Drill of globex: drill launches, validation, and cleanup",
     ["playbooks/drill.yml", "-e", "customer=globex", "-e", "approval_mode=automatic",
      "-e", '{{"dr_technologies": ["drs"]}}', "-e", "notify=true", "-e", "poll_interval=2"]),
    ("Readiness report of every customer (read-only; acme's failback prerequisites now apply)",
     ["playbooks/readiness.yml"]),
)


def cmd_demo(args) -> int:
    process = _process(args)
    if not DEMO_PLAYBOOK.exists():
        print(f"The demo playbook {os.path.relpath(DEMO_PLAYBOOK, REPO_ROOT)} is not in this checkout yet; "
              "the sandbox itself works: `python -m sandbox start --estate sandbox/estates/demo.yml`.",
              file=sys.stderr)
        return 2
    _info, started = process.start(port=args.port)
    try:
        seeded = _seed(process, args.estate or DEMO_ESTATE)
        env = dict(os.environ)
        env.update(process.env())
        env.setdefault("ANSIBLE_CONFIG", str(REPO_ROOT / "ansible.cfg"))
        # Keep the demo's execution records and audit log beside the sandbox's state, not in the user's home.
        env.setdefault("EDR_AUDIT_LOG_DIR", str(process.path("audit")))
        env.setdefault("EDR_REPORT_DIR", str(process.path("reports")))
        # Progress an operator can follow; -v (or ANSIBLE_STDOUT_CALLBACK=default) shows every task.
        env.setdefault("ANSIBLE_STDOUT_CALLBACK", "enterprise_dr.orchestration.dr_progress")
        playbook_bin = Path(sys.executable).with_name("ansible-playbook")
        program = str(playbook_bin) if playbook_bin.exists() else "ansible-playbook"
        names = {"estate_vars": process.path(ESTATE_VARS_FILE), "state_dir": process.path("")}
        for number, (title, step) in enumerate(DEMO_STEPS, start=1):
            command = [program, *[part.format(**names) for part in step], *args.playbook_args]
            print(f"\n##### {number}/{len(DEMO_STEPS)} {title}\n# {' '.join(command)}", file=sys.stderr, flush=True)
            code = subprocess.call(command, cwd=str(REPO_ROOT), env=env)
            if code != 0:
                print(f"# demo step {number} failed with exit code {code}", file=sys.stderr)
                return code
            if step[0] == "playbooks/setup_hub.yml":
                # The hub is set up (an administrator's job); from here on every request of the collection is
                # judged by the published policies, as in a real account (docs/onboarding_accounts.md, section 2).
                process.admin().iam(enforce=True, hub_account=seeded["hub_account_id"])
                print("# IAM enforced from here on: the collection's roles hold exactly iam/policies/*.json",
                      file=sys.stderr)
        print(f"\n# reports (HTML and JSON): {process.path('reports')}", file=sys.stderr)
        return 0
    finally:
        if started or not args.keep:
            process.stop()
            print("# sandbox stopped", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    parser.add_argument("--state-dir", default=os.environ.get("SANDBOX_STATE_DIR", str(DEFAULT_STATE_DIR)),
                        help="where the PID file, endpoint, env.sh and seed results live (default: .sandbox/)")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name, func, help_text):
        command = sub.add_parser(name, help=help_text)
        command.set_defaults(func=func)
        # Accept --state-dir after the sub-command too.
        command.add_argument("--state-dir", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return command

    start = add("start", cmd_start, "start the sandbox in the background and print export lines")
    start.add_argument("--port", type=int, default=0, help="loopback port (default: a free one)")
    start.add_argument("--estate", help="estate file to seed once it is up")
    add("stop", cmd_stop, "stop the sandbox named by the PID file")
    add("status", cmd_status, "show whether the sandbox runs, and where")
    add("env", cmd_env, "print the export lines for the running sandbox")
    seed = add("seed", cmd_seed, "seed an estate file into the running sandbox")
    seed.add_argument("file")
    seed.add_argument("--json", action="store_true", help="print the created IDs as JSON")
    add("reset", cmd_reset, "clear every service's state, the request log and the faults")
    requests = add("requests", cmd_requests, "show the request log")
    requests.add_argument("--service")
    requests.add_argument("--mutating", action="store_true", help="only calls that change state")
    requests.add_argument("--json", action="store_true")
    requests.add_argument("--clear", action="store_true", help="clear the log")
    faults = add("faults", cmd_faults, "show or set fault injection (latency, 5xx, throttling, DRS settings)")
    faults.add_argument("--service", default="*", help="service the settings apply to (default: every service)")
    faults.add_argument("--latency-ms", type=int)
    faults.add_argument("--error-rate", type=float, help="share of requests answered with a 5xx (0..1)")
    faults.add_argument("--throttle-rate", type=float, help="share of requests throttled (0..1)")
    faults.add_argument("--throttle-next", type=int, help="throttle exactly the next N requests")
    faults.add_argument("--error-next", type=int, help="answer exactly the next N requests with a 5xx")
    faults.add_argument("--drs", action="append", metavar="KEY=VALUE",
                        help="DRS emulator setting, e.g. time_scale=0.01 or launch_failures='[\"web01\"]'")
    faults.add_argument("--clear", action="store_true", help="remove every fault")
    demo = add("demo", cmd_demo, "start, seed the demo estate, run playbooks/demo.yml, stop")
    demo.add_argument("--port", type=int, default=0)
    demo.add_argument("--estate", help="estate to seed instead of sandbox/estates/demo.yml")
    demo.add_argument("--keep", action="store_true", help="leave an already-running sandbox running")
    demo.add_argument("playbook_args", nargs=argparse.REMAINDER, help="extra ansible-playbook arguments")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except EstateError as exc:
        print(str(exc), file=sys.stderr)
        return 4
    except SandboxError as exc:
        print(f"sandbox: {exc}", file=sys.stderr)
        return 1
