"""Every committed recording (tests/recordings/*.json) replayed on the emulator.

An emulator recording must replay with no difference at all. An AWS recording may list
``accepted_differences`` (each explained in docs/SERVICE-BEHAVIOUR.md); any other difference
fails here, naming the exchange, what AWS answered and what the emulator answered: fix the
emulator, or accept the difference with its explanation.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from osp_acceptance.replay import load, replay, unaccepted

RECORDINGS = sorted((Path(__file__).resolve().parents[1] / "recordings").glob("*.json"))


def test_there_is_an_emulator_recording() -> None:
    assert any(load(path)["source"] == "emulator" for path in RECORDINGS), RECORDINGS


@pytest.mark.parametrize("path", RECORDINGS, ids=[path.name for path in RECORDINGS])
def test_the_recording_replays_on_the_emulator(path: Path) -> None:
    recording = load(path)
    differences = replay(recording)
    if recording["source"] == "emulator":
        assert recording.get("accepted_differences", []) == []
        left = differences
    else:
        left = unaccepted(recording, differences)

    hint = (
        "the emulator changed since this emulator recording was made: if the change is "
        "intended, refresh it (tests/recordings/README.md)"
        if recording["source"] == "emulator"
        else "fix the emulator, or accept the difference with its explanation"
    )
    assert [str(d) for d in left] == [], f"{path.name}: {recording['label']}; {hint}"


def test_the_committed_emulator_recording_edited_to_differ_is_reported() -> None:
    (path,) = [p for p in RECORDINGS if p.name == "emulator-acceptance.json"]
    recording = load(path)
    conflict = next(e for e in recording["exchanges"] if e["error_code"] == "ConflictException")
    conflict["error_code"] = "ValidationException"
    synonyms = next(
        key
        for key, value in recording["sequences"].items()
        if key.startswith("package:") and value["name"].endswith("-synonyms")
    )
    statuses = recording["sequences"][synonyms]["statuses"]
    recording["sequences"][synonyms]["statuses"] = [
        s for s in statuses if s["status"] != "VALIDATING"
    ]

    found = {(d.where, d.kind) for d in replay(recording)}

    assert found == {
        (f"#{conflict['i']} {conflict['phase']} {conflict['operation']}", "error code"),
        (synonyms, "sequence"),
    }
