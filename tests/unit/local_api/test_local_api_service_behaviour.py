"""docs/SERVICE-BEHAVIOUR.md and the emulation's catalogues stay in step.

Every error case (``ERROR_CASES``) and behaviour (``BEHAVIOURS``) has exactly one row with its
id; every row names an entry that exists; operations, code and evidence agree; the rows marked
UNVERIFIED (or BATCH) are exactly the catalogue's unverified ids; every row names a source.
"""

from __future__ import annotations

from pathlib import Path

from cdk_opensearch_packages.local.opensearch.behaviours import (
    BEHAVIOURS,
    UNVERIFIED_IDS,
)
from cdk_opensearch_packages.local.opensearch.errors import ERROR_CASES
from cdk_opensearch_packages.local.opensearch.model import SERVED_OPERATIONS

DOC = Path(__file__).resolve().parents[3] / "docs" / "SERVICE-BEHAVIOUR.md"
EVIDENCE = {"CONFIRMED", "UNVERIFIED", "BATCH"}


def _rows(prefix: str) -> dict[str, list[str]]:
    rows: dict[str, list[str]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if not line.startswith(f"| {prefix}"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        assert cells[0] not in rows, f"two rows for {cells[0]}"
        rows[cells[0]] = cells
    return rows


def _operations(cell: str) -> set[str]:
    return set(SERVED_OPERATIONS) if cell == "all" else {op.strip() for op in cell.split(",")}


def test_every_error_case_has_its_row_and_every_row_a_case() -> None:
    rows = _rows("E-")
    cases = {entry.id: entry for entry in ERROR_CASES}
    assert set(rows) == set(cases)
    for case_id, cells in rows.items():
        entry = cases[case_id]
        assert len(cells) == 6, cells
        _, operations, code, situation, evidence, source = cells
        assert _operations(operations) == set(entry.operations), case_id
        assert set(entry.operations) <= set(SERVED_OPERATIONS), case_id
        assert code == entry.code, case_id
        assert evidence == entry.evidence, case_id
        assert situation and source, case_id


def test_every_behaviour_has_its_row_and_every_row_a_behaviour() -> None:
    rows = _rows("B-")
    behaviours = {entry.id: entry for entry in BEHAVIOURS}
    assert set(rows) == set(behaviours)
    for behaviour_id, cells in rows.items():
        assert len(cells) == 4, cells
        _, summary, evidence, source = cells
        assert evidence == behaviours[behaviour_id].evidence, behaviour_id
        assert summary and source, behaviour_id


def test_the_unverified_rows_are_the_catalogues_unverified_set() -> None:
    rows = {**_rows("E-"), **_rows("B-")}
    evidence = {row_id: cells[-2] for row_id, cells in rows.items()}
    assert set(evidence.values()) <= EVIDENCE
    assert {row_id for row_id, value in evidence.items() if value != "CONFIRMED"} == UNVERIFIED_IDS
    for row_id, cells in rows.items():
        if evidence[row_id] == "UNVERIFIED" and row_id.startswith("B-"):
            # says what the emulation assumes, or that the form is assumed
            assert "assumed" in cells[1].lower(), row_id
