# -*- coding: utf-8 -*-
# Copyright: Contributors to the enterprise_dr.orchestration collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the report data of ``report`` as one self-contained HTML page.

Everything is inline (CSS, a few lines of JavaScript, the timeline as SVG): the page opens on an air-gapped laptop
and fetches nothing. Every value is escaped with ``html.escape`` (tag values and names are user input); the data
embedded for scripts is JSON with ``<``, ``>`` and ``&`` written as unicode escapes, so it cannot close its element.
"""

import html
import json

CSS = """
:root{--ok:#1a7f37;--ok-bg:#dafbe1;--bad:#cf222e;--bad-bg:#ffebe9;--warn:#9a6700;--warn-bg:#fff8c5;
--muted:#57606a;--line:#d0d7de;--run:#0969da}
*{box-sizing:border-box}
body{font:14px/1.45 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;color:#1f2328;background:#fff}
header{padding:16px 24px;border-bottom:1px solid var(--line);background:#f6f8fa}
header h1{margin:0 0 4px;font-size:20px}
main{padding:8px 24px 32px}
h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
table{border-collapse:collapse;width:100%;margin:4px 0 8px}
th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f6f8fa;font-weight:600}
td.num{text-align:right;white-space:nowrap}
.muted{color:var(--muted)}
.badge{display:inline-block;padding:0 6px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap}
.met,.pass,.succeeded,.ready,.approve{background:var(--ok-bg);color:var(--ok)}
.missed,.fail,.failed,.not-ready,.cancelled,.cancel,.timeout,.interrupted{background:var(--bad-bg);color:var(--bad)}
.unknown,.incomplete,.running,.pending,.skipped,.waiting_approval,.warning{background:var(--warn-bg);color:var(--warn)}
td.met{border-left:4px solid var(--ok)}
td.missed{border-left:4px solid var(--bad)}
dl.facts{display:grid;grid-template-columns:max-content auto;gap:2px 12px;margin:8px 0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0}
ul.checks{margin:0;padding-left:16px}
.fix{color:var(--bad)}
details summary{cursor:pointer;color:var(--run)}
code{font:12px ui-monospace,SFMono-Regular,Consolas,monospace}
svg text{font:11px -apple-system,"Segoe UI",Helvetica,Arial,sans-serif}
.toolbar{margin:6px 0}
@media print{details{display:block}.toolbar{display:none}}
"""

# Filter rows by text; nothing else runs, nothing is fetched.
SCRIPT = """
(function(){
  var box=document.getElementById('filter');
  if(!box){return;}
  box.addEventListener('input',function(){
    var q=box.value.toLowerCase();
    document.querySelectorAll('tr[data-resource]').forEach(function(tr){
      tr.style.display=tr.textContent.toLowerCase().indexOf(q)>=0?'':'none';
    });
  });
})();
"""

BAR_COLOURS = {"succeeded": "#2da44e", "failed": "#cf222e", "cancelled": "#cf222e", "running": "#0969da",
               "pending": "#8c959f", "skipped": "#bf8700", "interrupted": "#cf222e"}


def esc(value):
    if value is None:
        return '<span class="muted">-</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(esc(v) for v in value) if value else '<span class="muted">-</span>'
    if isinstance(value, dict):
        return ", ".join(f"{html.escape(str(k))}={esc(v)}" for k, v in value.items()) or '<span class="muted">-</span>'
    return html.escape(str(value), quote=True)


def attr(value):
    return html.escape("" if value is None else str(value), quote=True)


def badge(text, cls=None):
    cls = cls or str(text).replace(" ", "-").lower()
    return f'<span class="badge {attr(cls)}">{esc(text)}</span>'


def duration(seconds):
    if seconds is None:
        return "-"
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes < 120:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def verdict_cell(verdict, what):
    """A table cell: measured against target, classed met / missed / unknown (tests read data-verdict)."""
    verdict = verdict or {}
    met = verdict.get("met")
    state = "met" if met else ("missed" if met is False else "unknown")
    target = verdict.get("target_minutes")
    target_text = f"target {target:g} min" if isinstance(target, (int, float)) else "no target"
    return (f'<td class="num {state}" data-{what}="{state}" data-measured="{attr(verdict.get("measured_seconds"))}">'
            f'{esc(duration(verdict.get("measured_seconds")))} <span class="muted">/ {esc(target_text)}</span> '
            f'{badge(state)}</td>')


def data_script(data):
    text = json.dumps(data, sort_keys=True, default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="report-data">{text}</script>'


def page(title, subtitle, body, data):
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:\">"
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>{esc(title)}</h1><div class=\"muted\">{subtitle}</div></header><main>{body}</main>"
        f"{data_script(data)}<script>{SCRIPT}</script></body></html>\n"
    )


# ---------------------------------------------------------------------------------------------------------------------
# The execution report

def timeline_svg(tl):
    bars = tl.get("bars") or []
    total = max(int(tl.get("total_seconds") or 0), 1)
    left, width, row, top, right = 170, 760, 22, 24, 90
    height = top + row * max(len(bars), 1) + 24
    scale = width / total
    parts = [f'<svg id="timeline" xmlns="http://www.w3.org/2000/svg" role="img" width="{left + width + right}" '
             f'height="{height}" viewBox="0 0 {left + width + right} {height}" '
             f'aria-label="Timeline of phases and waves">']
    ticks = 6
    for i in range(ticks + 1):
        x = left + width * i / ticks
        parts.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 20}" stroke="#d0d7de"/>')
        parts.append(f'<text x="{x:.1f}" y="{top - 10}" text-anchor="middle" fill="#57606a">'
                     f'{esc(duration(total * i / ticks))}</text>')
    for index, segment in enumerate(bars):
        y = top + index * row
        indent = 0 if segment["kind"] == "phase" else 14
        weight = "600" if segment["kind"] == "phase" else "400"
        parts.append(f'<text x="{4 + indent}" y="{y + 14}" font-weight="{weight}">{esc(segment["label"])}</text>')
        if segment.get("offset_seconds") is None:
            parts.append(f'<text x="{left + 4}" y="{y + 14}" fill="#57606a">not started</text>')
            continue
        x = left + segment["offset_seconds"] * scale
        w = max((segment.get("duration_seconds") or 0) * scale, 2)
        colour = BAR_COLOURS.get(segment.get("status"), "#8c959f")
        bar_height = 14 if segment["kind"] == "phase" else 10
        parts.append(
            f'<rect class="bar {attr(segment["kind"])}" data-label="{attr(segment["label"])}" '
            f'data-status="{attr(segment["status"])}" '
            f'x="{x:.1f}" y="{y + (16 - bar_height) / 2 + 2:.1f}" width="{w:.1f}" height="{bar_height}" rx="2" '
            f'fill="{colour}"><title>{esc(segment["label"])}: {esc(segment["status"])}, '
            f'{esc(duration(segment.get("duration_seconds")))} from {esc(segment.get("started_at"))}</title></rect>')
        parts.append(f'<text x="{x + w + 4:.1f}" y="{y + 14}" fill="#57606a">'
                     f'{esc(duration(segment.get("duration_seconds")))}</text>')
    for mark in tl.get("marks") or []:
        if mark.get("offset_seconds") is None:
            continue
        x = left + mark["offset_seconds"] * scale
        parts.append(f'<line class="mark" x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 20}" '
                     f'stroke="#8250df" stroke-dasharray="3,2"><title>{esc(mark["label"])} at {esc(mark["at"])}'
                     f'</title></line>')
    parts.append(f'<text x="{left}" y="{height - 6}" fill="#57606a">0 = {esc(tl.get("started_at"))}; '
                 f'dashed lines: approvals</text></svg>')
    return "".join(parts)


def _checks_html(checks):
    if not checks:
        return '<span class="muted">-</span>'
    items = []
    for c in checks:
        state = "pass" if c["passed"] else ("fail" if c["passed"] is False else "unknown")
        fix = f' <span class="fix">Fix: {esc(c["fix"])}</span>' if c.get("fix") and c["passed"] is False else ""
        items.append(f'<li data-check="{attr(c["name"])}" data-passed="{attr(state)}">{badge(state)} '
                     f'{esc(c["name"])}: {esc(c.get("detail"))}{fix}</li>')
    return f'<ul class="checks">{"".join(items)}</ul>'


def _resource_checks_html(checks):
    """Failed checks in full (with their fixes); passed ones folded away."""
    if any(c.get("passed") is False for c in checks or []):
        return _checks_html(checks)
    return _passed_html(checks)


def _passed_html(checks):
    checks = [c for c in checks or [] if c.get("passed") is not None]
    return (f'<details><summary>{len(checks)} checks passed</summary>{_checks_html(checks)}</details>'
            if checks else '<span class="muted">-</span>')


def _changes_html(changes):
    if not changes:
        return '<span class="muted">no state recorded</span>'
    rows = "".join(f'<tr><td><code>{esc(c["field"])}</code></td><td>{esc(c["before"])}</td>'
                   f'<td>{esc(c["after"])}</td></tr>' for c in changes)
    return (f'<details><summary>{len(changes)} fields</summary><table class="changes"><tr><th>field</th>'
            f'<th>before</th><th>after</th></tr>{rows}</table></details>')


def execution_html(report):
    ex = report["execution"]
    drill = report.get("drill")
    counts = report["resource_counts"]
    run_rto = report["rto"]["run"]
    title = f"{(ex.get('operation') or 'run').capitalize()} report: {ex.get('customer')}" + (
        f"/{ex['environment']}" if ex.get("environment") else "")
    subtitle = (f"Execution <code>{esc(ex.get('execution_id'))}</code> - {badge(ex.get('status'))} - "
                f"generated {esc(report['generated_at'])}")
    body = [
        '<section id="overview"><h2>Overview</h2><dl class="facts">',
        f"<dt>Execution</dt><dd>{esc(ex.get('execution_id'))}</dd>",
        f"<dt>Operation</dt><dd>{esc(ex.get('operation'))}</dd>",
        f"<dt>Scope</dt><dd>{esc(ex.get('customer'))} / {esc(ex.get('environment') or 'every environment')}</dd>",
        f"<dt>Status</dt><dd id=\"run-status\">{badge(ex.get('status'))}</dd>",
        f"<dt>Started</dt><dd>{esc(ex.get('started_at'))} by {esc(ex.get('started_by'))}</dd>",
        f"<dt>Ended</dt><dd>{esc(ex.get('ended_at'))}</dd>",
        f"<dt>Elapsed</dt><dd>{esc(duration(report.get('elapsed_seconds')))}</dd>",
        f"<dt>Resources</dt><dd>{counts['completed']} completed, {counts['failed']} failed, "
        f"{counts['pending']} pending of {counts['total']}</dd>",
        "<dt>Run RTO</dt><dd><table style=\"width:auto\"><tr>" + verdict_cell(run_rto, "rto") + "</tr></table></dd>",
        f"<dt>RTO targets</dt><dd>{report['compliance']['rto_met']} met, "
        f"{len(report['compliance']['rto_missed'])} missed {esc(report['compliance']['rto_missed'] or '')}</dd>",
        f"<dt>RPO targets</dt><dd>{report['compliance']['rpo_met']} met, "
        f"{len(report['compliance']['rpo_missed'])} missed {esc(report['compliance']['rpo_missed'] or '')}</dd>",
    ]
    if drill:
        body.append(f"<dt>Drill result</dt><dd id=\"drill-result\">{badge(drill['result'])} {drill['passed']} passed, "
                    f"{drill['failed']} failed, {drill['incomplete']} incomplete</dd>")
    body.append("</dl></section>")
    body.append(f'<section id="timeline-section"><h2>Timeline</h2>{timeline_svg(report["timeline"])}')
    wave_rows = "".join(
        f'<tr><td>{esc(w.get("phase"))}</td><td class="num">{esc(w.get("wave"))}</td>'
        f'{verdict_cell(w.get("rto"), "rto")}</tr>'
        for w in report["rto"]["waves"])
    if wave_rows:
        body.append(f'<details><summary>Wave durations against their RTO targets</summary><table id="waves"><tr>'
                    f'<th>phase</th><th>wave</th><th>duration against the wave\'s RTO target</th></tr>{wave_rows}'
                    '</table></details>')
    body.append("</section>")
    head = ("<tr><th>wave</th><th>resource</th><th>technology</th><th>status</th>"
            + ("<th>drill</th>" if drill else "")
            + "<th>what happened</th><th>RTO</th><th>RPO</th><th>checks</th><th>error and fix</th>"
            "<th>before -&gt; after</th></tr>")
    rows = []
    for r in report["resources"]:
        error = (f'<div class="fail-text">{esc(r["error"])}</div><div class="fix">Fix: {esc(r["remediation"])}</div>'
                 if r.get("error") else '<span class="muted">-</span>')
        where = f'{esc(r.get("account_id"))} {esc(r.get("region"))}'
        jobs = f'<div class="muted">jobs {esc(r["job_ids"])}</div>' if r.get("job_ids") else ""
        rows.append(
            f'<tr data-resource="{attr(r["resource"])}" data-status="{attr(r["status"])}" '
            f'data-drill="{attr(r.get("drill_result"))}">'
            f'<td class="num">{esc(r.get("wave"))}</td>'
            f'<td><strong>{esc(r["name"])}</strong><div class="muted"><code>{esc(r["resource"])}</code></div>'
            f'<div class="muted">{where}</div></td>'
            f'<td>{esc(r.get("technology"))}</td><td>{badge(r["status"])}</td>'
            + (f'<td class="drill">{badge(r["drill_result"])}</td>' if drill else "")
            + f'<td class="summary">{esc(r["summary"])}{jobs}</td>'
            + verdict_cell(r.get("rto"), "rto") + verdict_cell(r.get("rpo"), "rpo")
            + f'<td>{_resource_checks_html(r["health_checks"])}</td><td class="error">{error}</td>'
            f'<td>{_changes_html(r["changes"])}</td></tr>')
    body.append('<section id="resources-section"><h2>Resources</h2>'
                '<div class="toolbar"><input id="filter" type="search" placeholder="Filter resources" '
                'aria-label="Filter resources"></div>'
                f'<table id="resources">{head}{"".join(rows)}</table></section>')
    approvals = "".join(
        f'<tr data-gate="{attr(a.get("gate"))}"><td>{esc(a.get("gate"))}</td><td>{badge(a.get("decision"))}</td>'
        f'<td>{esc(a.get("approver"))}</td><td>{esc(a.get("at"))}</td><td>{esc(a.get("mode"))}</td>'
        f'<td>{esc(a.get("phase"))} {esc(a.get("wave"))}</td><td>{esc(a.get("comment"))}</td></tr>'
        for a in report["approvals"])
    body.append('<section id="approvals-section"><h2>Approvals</h2>' + (
        f'<table id="approvals"><tr><th>gate</th><th>decision</th><th>who</th><th>when</th><th>mode</th>'
        f'<th>before</th><th>comment</th></tr>{approvals}</table>' if approvals else
        '<p class="muted">No approval was recorded.</p>') + "</section>")
    errors = "".join(
        f'<tr class="error-row"><td>{esc(e.get("resource_name"))}</td><td>{esc(e.get("phase"))} {esc(e.get("wave"))}'
        f'</td><td>{esc(e.get("message"))}</td><td class="fix">{esc(e.get("remediation"))}</td>'
        f'<td>{esc(e.get("at"))}</td></tr>' for e in report["errors"])
    body.append('<section id="errors-section"><h2>Errors and their fixes</h2>' + (
        f'<table id="errors"><tr><th>resource</th><th>where</th><th>error</th><th>fix</th><th>when</th></tr>'
        f'{errors}</table>' if errors else '<p class="muted">No error was recorded.</p>') + "</section>")
    return page(title, subtitle, "".join(body), report)


# ---------------------------------------------------------------------------------------------------------------------
# The readiness report

def readiness_html(report):
    counts = report["counts"]
    scope = report.get("scope") or {}
    title = "Readiness report: " + (", ".join(str(c) for c in scope.get("customers") or []) or "every customer")
    subtitle = (f"{counts['ready']} of {counts['total']} resources ready, {counts['problems']} problems - "
                f"generated {esc(report['generated_at'])} - read-only: nothing was changed")
    per_customer = "".join(f'<tr><td>{esc(c["customer"])}</td><td class="num">{c["ready"]}</td>'
                           f'<td class="num">{c["total"]}</td></tr>' for c in report["customers"])
    body = [f'<section id="overview"><h2>Overview</h2><table id="customers" style="width:auto"><tr><th>customer</th>'
            f'<th>ready</th><th>resources</th></tr>{per_customer}</table>']
    if report.get("sources"):
        body.append("<p class=\"muted\">Read: " + esc(report["sources"]) + "</p>")
    body.append("</section>")
    rows = []
    for r in report["resources"]:
        state = "ready" if r["ready"] else "not ready"
        problems = "".join(
            f'<li data-check="{attr(p["check"])}">'
            f'{badge(p.get("severity"), "fail" if p.get("severity") == "critical" else "warning")} '
            f'<strong>{esc(p["check"])}</strong>: {esc(p.get("detail"))}'
            f'<div class="fix">Fix: {esc(p.get("fix") or "see the detail")}</div></li>' for p in r["problems"])
        lag = r.get("lag") or {}
        rows.append(
            f'<tr data-resource="{attr(r.get("resource"))}" data-ready="{attr(str(r["ready"]).lower())}">'
            f'<td>{esc(r.get("customer"))}</td><td class="num">{esc(r.get("wave"))}</td>'
            f'<td><strong>{esc(r.get("name"))}</strong><div class="muted"><code>{esc(r.get("resource"))}</code></div>'
            f'<div class="muted">{esc(r.get("account_id"))} {esc(r.get("region"))}</div></td>'
            f'<td>{esc(r.get("technology"))}</td><td>{esc(r.get("replication_state"))}</td>'
            + verdict_cell(lag, "rpo")
            + f'<td>{esc(r.get("launch_into"))}</td><td>{esc(r.get("failback"))}</td>'
            f'<td>{badge(state)}</td>'
            f'<td>{"<ul class=checks>" + problems + "</ul>" if problems else _passed_html(r.get("checks"))}</td></tr>')
    body.append('<section id="resources-section"><h2>Resources</h2><div class="toolbar"><input id="filter" '
                'type="search" placeholder="Filter resources" aria-label="Filter resources"></div>'
                '<table id="resources"><tr><th>customer</th><th>wave</th><th>resource</th><th>technology</th>'
                '<th>replication</th><th>lag against RPO target</th><th>launch-into target</th><th>failback</th>'
                f'<th>ready</th><th>problems and fixes</th></tr>{"".join(rows)}</table></section>')
    quotas = report.get("quotas") or []
    if quotas:
        qrows = "".join(
            f'<tr data-quota="{attr(q.get("name"))}"><td>{esc(q.get("account_id"))} {esc(q.get("region"))}</td>'
            f'<td>{esc(q.get("name"))}</td><td class="num">{esc(q.get("used"))}</td><td class="num">'
            f'{esc(q.get("limit"))}</td>'
            f'<td>{badge("ok" if q.get("passed") else "over", "pass" if q.get("passed") else "fail")}'
            f' {esc(q.get("fix") if not q.get("passed") else "")}</td></tr>' for q in quotas)
        body.append(f'<section id="quotas-section"><h2>Quotas</h2><table id="quotas"><tr><th>where</th><th>quota</th>'
                    f'<th>needed</th><th>limit</th><th>state</th></tr>{qrows}</table></section>')
    return page(title, subtitle, "".join(body), report)


def render(report):
    return readiness_html(report) if report.get("kind") == "readiness" else execution_html(report)
