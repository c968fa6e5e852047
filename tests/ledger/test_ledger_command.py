"""`manage.py ledger export|checkpoint|verify`, and the export checked by the auditors' script."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from ledger import offline_verify
from ledger.models import Checkpoint
from ledger.services import ledger_append, ledger_public_key
from tests.ledger.conftest import stored_row, write_row

pytestmark = pytest.mark.django_db

REPO = Path(offline_verify.__file__).resolve().parents[1]


def offline(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "ledger/offline_verify.py", str(path), *extra],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def export(tmp_path: Path, capsys) -> Path:
    path = tmp_path / "ledger.jsonl"
    capsys.readouterr()
    call_command("ledger", "export", "-o", str(path))
    assert capsys.readouterr().out.strip() == f"Wrote 23 lines to {path}."
    return path


def test_an_exported_ledger_verifies_offline_against_the_pinned_key(ledger, tmp_path, capsys):
    path = export(tmp_path, capsys)

    result = offline(path, "--public-key", ledger_public_key())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: 20 entries (seq 1..20), hash chain intact" in result.stdout
    assert "2 signed checkpoint(s) verified, latest at tree size 15" in result.stdout
    assert "entries 16..20 are not covered by a signed checkpoint yet" in result.stdout


def test_the_export_holds_a_header_every_entry_and_every_checkpoint(ledger, tmp_path, capsys):
    records = [json.loads(line) for line in export(tmp_path, capsys).read_text().splitlines()]

    assert records[0]["type"] == "header"
    assert records[0]["format"] == "watchprice-ledger-export-v1"
    assert records[0]["public_key"] == ledger_public_key()
    assert [r["seq"] for r in records if r["type"] == "entry"] == list(range(1, 21))
    assert [r["tree_size"] for r in records if r["type"] == "checkpoint"] == [8, 15]
    assert records[12]["payload"] == stored_row(12)["payload"]


def test_an_export_of_a_tampered_ledger_fails_offline_naming_the_seq(ledger, tmp_path, capsys):
    row = stored_row(12)
    write_row(row["id"], {"payload": row["payload"].replace("9012.00", "1.00")})
    path = export(tmp_path, capsys)

    result = offline(path)

    assert result.returncode == 1
    assert result.stdout.startswith("TAMPERED: first bad seq 12: PAYLOAD_CHANGED")


def test_export_without_a_file_writes_json_lines_to_stdout(ledger, capsys):
    call_command("ledger", "export")

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 23
    assert json.loads(lines[20])["seq"] == 20


def test_checkpoint_twice_without_new_entries_keeps_one_checkpoint(db, capsys):
    ledger_append(kind="observation", payload={"n": 1})
    ledger_append(kind="observation", payload={"n": 2})

    call_command("ledger", "checkpoint")
    first = capsys.readouterr().out
    call_command("ledger", "checkpoint")

    assert capsys.readouterr().out == first
    assert first.startswith("Checkpoint at tree size 2, root ")
    assert list(Checkpoint.objects.values_list("tree_size", flat=True)) == [2]


def test_checkpoint_after_new_entries_signs_a_new_one(ledger, capsys):
    call_command("ledger", "checkpoint")

    assert capsys.readouterr().out.startswith("Checkpoint at tree size 20, root ")
    assert list(Checkpoint.objects.values_list("tree_size", flat=True)) == [20, 15, 8]


def test_verify_reports_an_empty_ledger_as_intact(db, capsys):
    call_command("ledger", "verify")

    assert capsys.readouterr().out.strip() == (
        "Ledger intact: 0 entries and 0 checkpoints verified (last seq 0)."
    )
