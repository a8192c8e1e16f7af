"""``python -m bench``: start a sandbox, seed a generated estate, measure, write bench/results/latest.{json,md}.

Phases (each can be skipped; a failing phase is recorded and the others still run):

1. discovery   - ansible-inventory --list over every account, cold and from the inventory cache
2. matching    - matching.match_servers in-process (exact and fuzzy), CPU time
3. launch_into - drs_launch_into_instance over every server, wall time and DRS calls
4. failover    - playbooks/failover.yml over every server, wave by wave, DRS time near zero
5. rto         - failover of a smaller estate with DRS timings where 1 s stands for 1 minute
6. mixed_wave  - the same estate failed over twice, only DRS and then DRS with Aurora, RDS and ElastiCache in every
                 wave: what a technology adds to a wave (seconds, module runs per wave and phase)

With ``--baseline REF`` the same phases then run, with the same options on the same machine, from the collection as
it was at the git revision REF (exported with ``git archive``, its own bench, sandbox and playbooks), and the
results hold both runs and a before/after table.

The sandbox is always stopped, also on errors, timeouts and Ctrl-C.
"""

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time
import traceback
from collections import Counter
from datetime import datetime
from datetime import timezone
from pathlib import Path

import yaml

from bench import analysis
from bench import estate as bench_estate
from bench.report import render_markdown

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "bench"
VENV_BIN = REPO_ROOT / ".venv" / "bin"


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=1000, help="DRS source servers (each with a target)")
    parser.add_argument("--waves", type=int, default=10)
    parser.add_argument("--accounts", type=int, default=3, choices=[1, 2, 3])
    parser.add_argument("--resources", type=int, default=200, help="other tagged resources")
    parser.add_argument("--failover-servers", type=int, default=None,
                        help="servers in the failover run (default --servers); a smaller run reseeds that size")
    parser.add_argument("--rto-servers", type=int, default=100)
    parser.add_argument("--rto-waves", type=int, default=4)
    parser.add_argument("--mixed-servers", type=int, default=100, help="DRS servers of the mixed-technology phase")
    parser.add_argument("--mixed-waves", type=int, default=2)
    parser.add_argument("--poll-interval", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of the discovery and matching timings")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["discovery", "matching", "launch_into", "failover", "rto", "mixed_wave"],
                        help="leave a phase out (repeatable)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed for one playbook run")
    parser.add_argument("--output", default=str(BENCH_DIR / "results"), help="results directory")
    parser.add_argument("--name", default="latest", help="results file name (without extension)")
    parser.add_argument("--profile-tasks", action="store_true", default=True,
                        help="record per-task timings of the failover (bench_timing callback)")
    parser.add_argument("--unprepared", action="store_true",
                        help="fail over without running playbooks/prepare.yml first, so INSTANTIATE configures each "
                             "wave's launch settings itself (by default the estate is prepared ahead, as AWS "
                             "recommends and docs/operations.md describes)")
    parser.add_argument("--baseline", default=None, metavar="REF",
                        help="also run the same phases from the collection at git revision REF (before/after)")
    return parser.parse_args(argv)


# Options a baseline run is given as they are (the rest is where its results go).
BASELINE_OPTIONS = ("servers", "waves", "accounts", "resources", "failover_servers", "rto_servers", "rto_waves",
                    "poll_interval", "repeat", "timeout")
WAVE_PHASES = ("INSTANTIATE", "ACTIVATE", "CLEANUP", "REPLICATE")
# Phases a baseline's bench may not know (it would refuse --skip of them; it does not run them either).
NEWER_PHASES = ("mixed_wave",)


# ------------------------------------------------------------------------------------ environment
def machine():
    memory_kib = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(memory_kib / 1024 / 1024, 1),
        "cpu": _cpu_model(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def versions():
    found = {"python": platform.python_version()}
    for name, module in (("ansible-core", "ansible"), ("boto3", "boto3"), ("botocore", "botocore"), ("moto", "moto")):
        try:
            found[name] = __import__(module).__version__
        except ImportError:
            found[name] = None
    if found.get("ansible-core") is None:
        try:
            from ansible.release import __version__

            found["ansible-core"] = __version__
        except ImportError:
            pass
    return found


def unwrap(value):
    """ansible-inventory --list marks untrusted strings as {"__ansible_unsafe": "..."}; plain values back."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap(v) for v in value]
    return value


class Bench:
    def __init__(self, args):
        self.args = args
        self.out = Path(args.output)
        self.out.mkdir(parents=True, exist_ok=True)
        self.work = self.out / "work"
        if self.work.exists():
            shutil.rmtree(self.work)
        self.work.mkdir(parents=True)
        self.logs = self.work / "logs"
        self.logs.mkdir()
        self.sandbox = None
        self.seeded = None
        self.results = {
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(),
            "versions": versions(),
            "parameters": {k: v for k, v in vars(args).items() if k not in ("output", "name")},
            "phases": {},
            "errors": {},
        }

    # --------------------------------------------------------------------------------- helpers
    def log(self, message):
        print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)

    def start_sandbox(self):
        from sandbox.harness import Sandbox

        self.sandbox = Sandbox(state_dir=self.work / "sandbox")
        self.sandbox.start(export=True)
        self.log(f"sandbox at {self.sandbox.endpoint} (pid {self.sandbox.pid})")

    def stop_sandbox(self):
        if self.sandbox is not None:
            try:
                self.sandbox.stop()
            finally:
                self.sandbox = None

    def seed(self, estate):
        self.sandbox.reset()
        started = time.monotonic()
        self.seeded = self.sandbox.seed(estate)
        seconds = round(time.monotonic() - started, 2)
        self.sandbox.clear_requests()
        self.log(f"seeded {len(self.seeded['servers'])} servers and {len(self.seeded['resources'])} resources "
                 f"in {seconds} s")
        return seconds

    def ansible_env(self, timing_file=None):
        extra = {"ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_DISPLAY_SKIPPED_HOSTS": "false",
                 "ANSIBLE_DISPLAY_OK_HOSTS": "true", "ANSIBLE_RETRY_FILES_ENABLED": "false"}
        if timing_file:
            extra.update({
                "ANSIBLE_CALLBACK_PLUGINS": str(BENCH_DIR / "callback_plugins"),
                "ANSIBLE_CALLBACKS_ENABLED": "enterprise_dr.orchestration.dr_audit,bench_timing",
                "BENCH_TIMING_FILE": str(timing_file),
            })
        return self.sandbox.ansible_env(extra)

    def measured(self, label, command, env, timeout=None, allow_timeout=False):
        """Run a command through bench.rusage_exec (wall, CPU and peak memory of its process tree)."""
        usage_file = self.work / f"{label}.rusage.json"
        program = VENV_BIN / command[0]
        command = [str(program) if program.exists() else command[0], *[str(c) for c in command[1:]]]
        timeout = timeout or self.args.timeout
        wrapper = [sys.executable, "-m", "bench.rusage_exec", str(usage_file), str(timeout), "--", *command]
        with open(self.logs / f"{label}.out", "w") as out, open(self.logs / f"{label}.err", "w") as err:
            env = dict(env, PYTHONPATH=str(REPO_ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
            subprocess.run(wrapper, cwd=str(REPO_ROOT), env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                           timeout=timeout + 60, check=False)
        usage = json.loads(usage_file.read_text())
        usage["log"] = str((self.logs / f"{label}.out").relative_to(REPO_ROOT)) if self.logs.is_relative_to(
            REPO_ROOT) else str(self.logs / f"{label}.out")
        if usage["timed_out"] and not allow_timeout:
            raise TimeoutError(f"{label}: no result within {timeout} s (see {usage['log']})")
        return usage

    def tail(self, label, lines=25):
        text = (self.logs / f"{label}.out").read_text(errors="replace").splitlines()
        err = (self.logs / f"{label}.err").read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:] + err[-lines:])

    def inventory_file(self, cache):
        path = self.work / ("cached.dr_resources.yml" if cache else "live.dr_resources.yml")
        config = bench_estate.inventory_config(self.args.accounts, cache_dir=self.work / "inventory_cache" if cache
                                               else None)
        path.write_text("# Generated by python -m bench\n" + yaml.safe_dump(config, sort_keys=False))
        return path

    def phase(self, name, function):
        if name in self.args.skip:
            self.results["phases"][name] = {"skipped": "--skip"}
            return
        self.log(f"--- {name}")
        started = time.monotonic()
        try:
            self.results["phases"][name] = function()
        except Exception as exc:  # noqa: BLE001 - one phase failing must not lose the others' figures
            self.results["errors"][name] = f"{type(exc).__name__}: {exc}"
            self.log(f"{name} failed: {exc}")
            traceback.print_exc()
        finally:
            self.results.setdefault("phase_seconds", {})[name] = round(time.monotonic() - started, 1)
            self.write()

    def write(self):
        (self.out / f"{self.args.name}.json").write_text(json.dumps(self.results, indent=2, default=str) + "\n")
        (self.out / f"{self.args.name}.md").write_text(render_markdown(self.results))

    # ---------------------------------------------------------------------------------- phases
    def run(self):
        args = self.args
        self.start_sandbox()
        try:
            self.results["seed_seconds"] = self.seed(bench_estate.scale_estate(
                args.servers, args.waves, args.resources, args.accounts))
            self.phase("discovery", self.discovery)
            self.phase("matching", self.matching)
            self.phase("launch_into", self.launch_into)
            self.phase("failover", self.failover)
            self.phase("rto", self.rto)
            self.phase("mixed_wave", self.mixed_wave)
        finally:
            self.stop_sandbox()
            self.results["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
            self.write()
        if args.baseline:
            self.baseline(args.baseline)
        return 1 if self.results["errors"] else 0

    def baseline(self, ref):
        """Run the same phases from the collection at ``ref``: the "before" of a before/after on this machine."""
        self.log(f"--- baseline {ref}")
        try:
            commit = subprocess.run(["git", "rev-parse", "--verify", f"{ref}^{{commit}}"], cwd=str(REPO_ROOT),
                                    capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError) as exc:
            self.results["errors"]["baseline"] = f"{ref} is not a git revision of this clone: {exc}"
            self.write()
            return
        tree = self.work / "baseline" / commit[:12]
        tree.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", "--format=tar", commit], cwd=str(REPO_ROOT),
                                 capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        (tree / ".venv").symlink_to(REPO_ROOT / ".venv")  # the same Python, ansible-core, boto3 and moto
        # Its own collection link (as make setup makes it), so its playbooks run its plugins and roles, not ours.
        link = tree / ".collections" / "ansible_collections" / "enterprise_dr" / "orchestration"
        link.parent.mkdir(parents=True)
        link.symlink_to("../../..")
        output = self.work / "baseline" / "results"
        command = [sys.executable, "-m", "bench", "--output", str(output), "--name", "baseline"]
        for option in BASELINE_OPTIONS:
            value = getattr(self.args, option)
            if value is not None:
                command += [f"--{option.replace('_', '-')}", str(value)]
        for phase in self.args.skip:
            if phase not in NEWER_PHASES:
                command += ["--skip", phase]
        started = time.monotonic()
        env = {k: v for k, v in os.environ.items()
               if k not in ("PYTHONPATH", "ANSIBLE_CONFIG") and not k.startswith("AWS_ENDPOINT_URL")}
        env["ANSIBLE_CONFIG"] = str(tree / "ansible.cfg")
        with open(self.logs / "baseline.out", "w") as out:
            completed = subprocess.run(command, cwd=str(tree), env=env, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, check=False)
        result_file = output / "baseline.json"
        if not result_file.exists():
            self.results["errors"]["baseline"] = (f"the bench of {commit[:12]} wrote no results (rc "
                                                  f"{completed.returncode}, see {self.logs / 'baseline.out'})")
        else:
            before = json.loads(result_file.read_text())
            self.results["baseline"] = {"ref": ref, "commit": commit, "returncode": completed.returncode,
                                        "seconds": round(time.monotonic() - started, 1), **before}
        self.write()

    def discovery(self):
        env = self.ansible_env()
        baseline = self.measured("inventory_baseline", ["ansible-inventory", "-i", "localhost,", "--list"], env)
        live = self.inventory_file(cache=False)
        cached = self.inventory_file(cache=True)
        cold, warm, graph, cold_calls, warm_calls, listing = [], [], [], None, None, None
        for attempt in range(self.args.repeat):
            self.sandbox.clear_requests()
            usage = self.measured(f"inventory_cold_{attempt}", ["ansible-inventory", "-i", cached, "--list",
                                                                "--flush-cache"], env)
            if usage["returncode"]:
                raise RuntimeError(f"ansible-inventory failed:\n{self.tail(f'inventory_cold_{attempt}')}")
            cold.append(usage)
            cold_calls = analysis.call_counts(self.sandbox.requests())
            listing = json.loads((self.logs / f"inventory_cold_{attempt}.out").read_text())
            self.sandbox.clear_requests()
            usage = self.measured(f"inventory_cached_{attempt}", ["ansible-inventory", "-i", cached, "--list"], env)
            if usage["returncode"]:
                raise RuntimeError(f"ansible-inventory failed:\n{self.tail(f'inventory_cached_{attempt}')}")
            warm.append(usage)
            warm_calls = analysis.call_counts(self.sandbox.requests())
            # The same inventory from the cache without computing and printing every host's variables (8 MB of
            # JSON at 1,200 hosts): closer to what a playbook pays before its first task.
            usage = self.measured(f"inventory_cached_graph_{attempt}", ["ansible-inventory", "-i", cached, "--graph"],
                                  env)
            if usage["returncode"]:
                raise RuntimeError(f"ansible-inventory failed:\n{self.tail(f'inventory_cached_graph_{attempt}')}")
            graph.append(usage)
        hostvars = unwrap(listing.get("_meta", {}).get("hostvars", {}))
        technologies = Counter(v.get("dr_technology") for v in hostvars.values())
        # The plugin alone, in-process (no ansible-inventory start-up): from the cold run's first to last AWS call.
        return {
            "accounts": self.args.accounts,
            "regions": [bench_estate.PRIMARY_REGION, bench_estate.DR_REGION],
            "seeded": {"drs_servers": len(self.seeded["servers"]),
                       "targets": sum(1 for s in self.seeded["servers"].values() if s.get("target_instance_id")),
                       "other_resources": len(self.seeded["resources"])},
            "inventory_file": str(live.relative_to(REPO_ROOT)) if live.is_relative_to(REPO_ROOT) else str(live),
            "hosts": len(hostvars),
            "hosts_by_technology": dict(technologies.most_common()),
            "drs_hosts_with_target": sum(1 for v in hostvars.values() if v.get("dr_target")),
            "invalid_hosts": len(listing.get("invalid", {}).get("hosts", [])),
            "groups": len([k for k in listing if k != "_meta"]),
            "cold_seconds": [u["wall_seconds"] for u in cold],
            "cold_seconds_min": min(u["wall_seconds"] for u in cold),
            "cold_cpu_seconds": cold[-1]["cpu_seconds"],
            "cold_peak_rss_mib": cold[-1]["peak_rss_mib"],
            "cached_seconds": [u["wall_seconds"] for u in warm],
            "cached_seconds_min": min(u["wall_seconds"] for u in warm),
            "cached_graph_seconds": [u["wall_seconds"] for u in graph],
            "cached_graph_seconds_min": min(u["wall_seconds"] for u in graph),
            "ansible_inventory_startup_seconds": baseline["wall_seconds"],
            "aws_calls_cold": cold_calls,
            "aws_calls_cached": warm_calls,
        }

    def matching(self):
        collections = str(REPO_ROOT / ".collections")
        if collections not in sys.path:
            sys.path.insert(0, collections)
        from ansible_collections.enterprise_dr.orchestration.plugins.module_utils import matching

        entries = [s for s in self.seeded["servers"].values() if s.get("source_server_id") and s.get("target_name")]
        servers = [{"source_server_id": s["source_server_id"], "hostname": s["hostname"]} for s in entries]

        def exact_name(index, name):
            # Names as operators write them: some upper case, some with surrounding spaces.
            return [name, name.upper(), f"  {name} "][index % 3]

        def fuzzy_name(index, name):
            # Another spelling of the environment token: only fuzzy matching pairs these.
            return name.replace("-prod-", "-production-" if index % 2 else "_prd_")

        figures = {"pairs": len(servers)}
        for label, rename, threshold in (("exact", exact_name, None), ("fuzzy", fuzzy_name, 0.75)):
            targets = [{"instance_id": s["target_instance_id"], "name": rename(i, s["target_name"])}
                       for i, s in enumerate(entries)]
            samples, outcome = [], None
            for _attempt in range(self.args.repeat):
                started = time.process_time()
                outcome = matching.match_servers(servers, targets, fuzzy_threshold=threshold)
                samples.append(time.process_time() - started)
            methods = Counter(m["method"] for m in outcome["matches"])
            figures[label] = {
                "cpu_seconds": [round(s, 4) for s in samples],
                "cpu_seconds_min": round(min(samples), 4),
                "cpu_seconds_median": round(statistics.median(samples), 4),
                "fuzzy_threshold": threshold,
                "matched": len(outcome["matches"]),
                "matched_by_method": dict(methods),
                "unmatched_servers": len(outcome["unmatched_servers"]),
                "problems": len(outcome["problems"]),
            }
        return figures

    def _launch_into_vars(self, entries):
        return {
            "bench_customer": bench_estate.BENCH_CUSTOMER,
            "bench_environment": "production",
            "bench_dr_region": bench_estate.DR_REGION,
            "bench_accounts": [{k: a[k] for k in ("account_id", "name", "role_arn", "external_id")}
                               for a in self.seeded["accounts"]],
            "bench_servers": [{"source_server_id": s["source_server_id"], "account_id": s["drs_account_id"],
                               "region": bench_estate.DR_REGION, "hostname": s["hostname"],
                               "priority": s["priority"]} for s in entries],
        }

    def launch_into(self):
        entries = [s for s in self.seeded["servers"].values() if s.get("source_server_id") and s.get("target_name")]
        vars_file = self.work / "launch_into_vars.json"
        vars_file.write_text(json.dumps(self._launch_into_vars(entries)))
        env = self.ansible_env()
        env["ANSIBLE_PYTHON_INTERPRETER"] = str(VENV_BIN / "python")
        figures = {"servers": len(entries)}
        for run in ("first", "second"):
            self.sandbox.clear_requests()
            usage = self.measured(f"launch_into_{run}", ["ansible-playbook", "-i", "localhost,",
                                                         "bench/playbooks/launch_into.yml", "-e", f"@{vars_file}"], env)
            if usage["returncode"]:
                raise RuntimeError(f"launch-into playbook failed:\n{self.tail(f'launch_into_{run}')}")
            calls = analysis.call_counts(self.sandbox.requests())
            figures[run] = {
                "wall_seconds": usage["wall_seconds"],
                "cpu_seconds": usage["cpu_seconds"],
                "drs_calls": analysis.drs_calls(calls),
                "other_calls": {k: v for k, v in calls["by_operation"].items() if not k.startswith("drs:")},
                "calls_total": calls["total"],
            }
        return figures

    def _failover(self, label, customer, servers_by_id, poll_interval, technologies=("drs",)):
        """Run failover.yml for one customer; returns the figures and the analysis inputs."""
        env = self.ansible_env(timing_file=self.work / f"{label}.timing.json")
        inventory = self.inventory_file(cache=False)
        store = self.work / f"{label}_executions"
        command = ["ansible-playbook", "-i", inventory, "playbooks/failover.yml",
                   "-e", f"customer={customer}", "-e", "approval_mode=automatic",
                   "-e", "allow_automatic_production=true", "-e", "execution_store=file",
                   "-e", f"execution_store_path={store}", "-e", f"poll_interval={poll_interval}",
                   "-e", "wait_timeout_minutes=60", "-e", json.dumps({"dr_technologies": list(technologies)})]
        self.sandbox.clear_requests()
        usage = self.measured(label, command, env, allow_timeout=True)
        requests = self.sandbox.requests()
        if usage["returncode"] and not usage["timed_out"]:
            raise RuntimeError(f"failover playbook failed (rc {usage['returncode']}):\n{self.tail(label)}")
        accounts = sorted({s["drs_account_id"] for s in servers_by_id.values()})
        jobs = [j for j in analysis.fetch_jobs(self.sandbox, accounts, bench_estate.DR_REGION)
                if any(s in servers_by_id for s in j["servers"])]
        server_waves = {sid: s["wave"] for sid, s in servers_by_id.items()}
        waves = analysis.wave_jobs(jobs, server_waves)
        timing_path = self.work / f"{label}.timing.json"
        timing = json.loads(timing_path.read_text()) if timing_path.exists() else {"tasks": []}
        recover_tasks = analysis.task_occurrences(timing, "drs_recover", "INSTANTIATE")
        configure_tasks = analysis.task_occurrences(timing, "drs_launch_into_instance", "INSTANTIATE")
        launched = sum(w["launched"] for w in waves.values())
        drs_seconds = sum(w["drs_span_seconds"] or 0 for w in waves.values())
        per_wave_account = Counter((s["wave"], s["drs_account_id"]) for s in servers_by_id.values())
        calls = analysis.call_counts(requests)
        return {
            "customer": customer,
            "timed_out_after_seconds": usage["wall_seconds"] if usage["timed_out"] else None,
            "servers": len(servers_by_id),
            "waves": len(waves),
            "launched": launched,
            "wall_seconds": usage["wall_seconds"],
            "controller_cpu_seconds": usage["cpu_seconds"],
            "controller_cpu_user_seconds": usage["cpu_user_seconds"],
            "controller_cpu_system_seconds": usage["cpu_system_seconds"],
            "peak_rss_mib": usage["peak_rss_mib"],
            "drs_job_seconds": round(drs_seconds, 2),
            "orchestration_overhead_seconds": round(usage["wall_seconds"] - drs_seconds, 2),
            "instantiate_seconds": round(recover_tasks[-1]["end"] - timing["started"], 2) if recover_tasks else None,
            "waves_detail": {str(k): dict(v.items()) for k, v in waves.items()},
            "transitions": analysis.transitions(waves, recover_tasks, configure_tasks),
            "drs_calls_per_wave": analysis.drs_calls_per_wave(
                requests, recover_tasks, sorted(waves), poll_interval,
                {(w, a): n for (w, a), n in per_wave_account.items()}),
            "aws_calls": calls,
            "drs_calls": analysis.drs_calls(calls),
            "time_breakdown": analysis.task_breakdown(timing, usage["wall_seconds"]),
            "module_runs": analysis.module_runs(timing),
        }

    def prepare(self, customer):
        """playbooks/prepare.yml ahead of the failover (None for a collection that has none, like an old baseline)."""
        if not (REPO_ROOT / "playbooks" / "prepare.yml").exists():
            return None
        command = ["ansible-playbook", "-i", self.inventory_file(cache=False), "playbooks/prepare.yml",
                   "-e", f"customer={customer}"]
        self.sandbox.clear_requests()
        usage = self.measured("prepare", command, self.ansible_env())
        if usage["returncode"]:
            raise RuntimeError(f"prepare playbook failed (rc {usage['returncode']}):\n{self.tail('prepare')}")
        calls = analysis.call_counts(self.sandbox.requests())
        return {"wall_seconds": usage["wall_seconds"], "cpu_seconds": usage["cpu_seconds"],
                "drs_calls": analysis.drs_calls(calls)}

    def failover(self):
        args = self.args
        size = args.failover_servers or args.servers
        if size != len(self.seeded["servers"]) or self.results["phases"].get("launch_into"):
            # A fresh estate: no launch configuration left from the launch_into phase.
            self.results["failover_seed_seconds"] = self.seed(bench_estate.scale_estate(
                size, args.waves, args.resources, args.accounts))
        servers = {s["source_server_id"]: s for s in self.seeded["servers"].values() if s.get("source_server_id")}
        prepared = self.prepare(bench_estate.BENCH_CUSTOMER) if not args.unprepared else None
        figures = self._failover("failover", bench_estate.BENCH_CUSTOMER, servers, args.poll_interval)
        figures["prepare"] = prepared
        figures["drs_settings"] = dict(bench_estate.FAST_DRS)
        figures["poll_interval"] = args.poll_interval
        transitions = [t["seconds"] for t in figures["transitions"]]
        figures["transition_seconds_max"] = max(transitions) if transitions else None
        figures["transition_seconds_median"] = round(statistics.median(transitions), 3) if transitions else None
        return figures

    def mixed_wave(self):
        """Only DRS, then DRS with the data tier in every wave, on the same fresh estate: the difference is what
        the technologies cost a wave."""
        args = self.args
        runs = {}
        for label, technologies in (("drs_only", ["drs"]), ("mixed", bench_estate.MIXED_TECHNOLOGIES)):
            self.seed(bench_estate.mixed_estate(args.mixed_servers, args.mixed_waves))
            servers = {s["source_server_id"]: s for s in self.seeded["servers"].values() if s.get("source_server_id")}
            figures = self._failover(f"mixed_{label}", bench_estate.MIXED_CUSTOMER, servers, args.poll_interval,
                                     technologies)
            if figures["timed_out_after_seconds"]:
                raise RuntimeError(f"the {label} failover did not finish within --timeout")
            transitions = [t["seconds"] for t in figures["transitions"]]
            runs[label] = {
                "technologies": technologies,
                "wall_seconds": figures["wall_seconds"],
                "controller_cpu_seconds": figures["controller_cpu_seconds"],
                "launched": figures["launched"],
                "transition_seconds_median": round(statistics.median(transitions), 3) if transitions else None,
                "module_runs": figures["module_runs"],
                "aws_calls": figures["aws_calls"]["total"],
            }
        added = [t for t in bench_estate.MIXED_TECHNOLOGIES if t != "drs"]
        waves = args.mixed_waves
        # The wave phases run once per wave; PREFLIGHT (and the plan, gates and finish) once per run.
        per_phase = {}
        for phase, counts in runs["mixed"]["module_runs"].items():
            if phase in WAVE_PHASES:
                per_phase[phase] = {t: round(counts.get(t, 0) / waves, 2) for t in added}
        per_run = {phase: {t: counts.get(t, 0) for t in added}
                   for phase, counts in runs["mixed"]["module_runs"].items() if phase not in WAVE_PHASES}
        extra = runs["mixed"]["wall_seconds"] - runs["drs_only"]["wall_seconds"]
        return {
            "servers": args.mixed_servers, "waves": waves, "added_technologies": added, "runs": runs,
            "added_seconds_per_technology_per_wave": round(extra / (len(added) * waves), 2),
            "module_runs_per_wave_and_phase": per_phase,
            "module_runs_per_run_outside_waves": {p: c for p, c in per_run.items() if any(c.values())},
            "most_module_runs_per_wave_and_phase": max((n for counts in per_phase.values() for n in counts.values()),
                                                       default=0),
        }

    def rto(self):
        args = self.args
        self.seed(bench_estate.rto_estate(args.rto_servers, args.rto_waves, args.accounts))
        figures = {"servers": args.rto_servers, "waves": args.rto_waves,
                   "drs_settings": dict(bench_estate.MODELLED_DRS),
                   "poll_interval_seconds": args.poll_interval,
                   "scale": "1 emulated second = 1 minute of the real service (time_scale 1; 60 gives real minutes)"}
        # Kept in the results as each run finishes, so a later failure or timeout does not lose the first.
        self.results["phases"]["rto"] = figures
        for label, customer in (("launch_into", bench_estate.RTO_LAUNCH_INTO_CUSTOMER),
                                ("new_instance", bench_estate.RTO_NEW_INSTANCE_CUSTOMER)):
            servers = {s["source_server_id"]: s for s in self.seeded["servers"].values()
                       if s.get("source_server_id") and s["customer"] == customer}
            run = self._failover(f"rto_{label}", customer, servers, args.poll_interval)
            drs_minutes = run["drs_job_seconds"]  # 1 s = 1 modelled minute
            overhead_minutes = run["orchestration_overhead_seconds"] / 60
            figures[label] = {
                "launched": run["launched"],
                "wall_seconds": run["wall_seconds"],
                "drs_job_minutes_modelled": round(drs_minutes, 1),
                "drs_job_minutes_per_wave": {w: round(d["drs_span_seconds"] or 0, 1)
                                             for w, d in run["waves_detail"].items()},
                "orchestration_overhead_minutes": round(overhead_minutes, 1),
                "modelled_rto_minutes": round(drs_minutes + overhead_minutes, 1),
                "drs_calls": run["drs_calls"],
            }
        return figures


def _interrupted(*_args):
    raise KeyboardInterrupt


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    bench = Bench(args)
    # SIGTERM (timeout(1), CI cancel) unwinds like Ctrl-C, so the sandbox is always stopped.
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        return bench.run()
    except KeyboardInterrupt:
        bench.results["errors"]["interrupted"] = "KeyboardInterrupt"
        bench.write()
        return 130
    finally:
        print(f"results: {bench.out / (args.name + '.json')} and {bench.out / (args.name + '.md')}")
