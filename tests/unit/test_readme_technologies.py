"""The README's technology table says what the registry says: a row reads "fails over" only with an adapter."""

import re
from pathlib import Path

from ansible_collections.enterprise_dr.orchestration.plugins.plugin_utils import technologies as registry

README = Path(__file__).resolve().parents[2] / "README.md"


def _rows():
    text = README.read_text()
    table = text.split("## Technologies", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[0].startswith("`"):
            rows[cells[0].strip("`")] = cells
    return rows


def test_every_technology_has_a_row_that_matches_the_registry():
    rows = _rows()
    assert set(rows) == set(registry.TECHNOLOGIES)
    for name, cells in rows.items():
        spec = registry.TECHNOLOGIES[name]
        status = cells[-1]
        if spec["role"]:
            assert status.startswith("fails over"), (name, status)
            operations = set(re.findall(r"\b(failover|drill|failback|emergency)\b", cells[2]))
            assert operations == set(spec["operations"]), (name, cells[2], sorted(spec["operations"]))
        else:
            assert status.startswith("not yet"), (name, status)
