"""Hostile workbooks get one clear line (exit 2) without exhausting memory, and fuzzed CSV
cells never end in a traceback or lose a row: rows read = valid + quarantined, in every table."""
from __future__ import annotations

import csv
import io
import resource
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clusnet_analysis.cli import app as cli
from clusnet_analysis.ingest import io as reader
from clusnet_analysis.ingest.dataset import build
from clusnet_analysis.ingest.io import InputError, check_workbook

from clusnet_testdata import BASE, COLUMNS, write_data


def _validate(capsys, data: Path, tmp_path: Path) -> tuple[int, str]:
    code = cli.main(["validate", "--data", str(data), "--out", str(tmp_path / "out")])
    return code, capsys.readouterr().err


def _one_line(err: str, *needles: str) -> None:
    assert err.count("\n") == 1 and err.startswith("clusnet: error: ") and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err


def _folder_with(tmp_path: Path, name: str, content: bytes) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / name).write_bytes(content)
    return folder


def _good_workbook(path: Path) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for table, rows in BASE.items():
        sheet = book.create_sheet(table)
        sheet.append(COLUMNS[table])
        for row in rows:
            sheet.append([row.get(c, "") for c in COLUMNS[table]])
    book.save(path)
    return path


# ------------------------------------------------------------------ workbooks
def test_a_real_workbook_still_reads(tmp_path, capsys):
    folder = tmp_path / "data"
    folder.mkdir()
    _good_workbook(folder / "clusnet.xlsx")
    code, err = _validate(capsys, folder, tmp_path)
    assert code == 0, err


def test_a_file_that_is_not_a_workbook(tmp_path, capsys):
    folder = _folder_with(tmp_path, "clusnet.xlsx", b"exchange_id,officer_id\nX1,O1\n")
    code, err = _validate(capsys, folder, tmp_path)
    assert code == 2
    _one_line(err, "clusnet.xlsx: not an .xlsx workbook (the file is not a zip container)")


def test_a_zip_that_holds_no_workbook(tmp_path, capsys):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    folder = _folder_with(tmp_path, "clusnet.xlsx", buffer.getvalue())
    code, err = _validate(capsys, folder, tmp_path)
    assert code == 2
    _one_line(err, "a zip file without a workbook inside")


def test_a_password_protected_workbook(tmp_path, capsys):
    """Excel encrypts a protected .xlsx into an OLE compound file (magic D0 CF 11 E0 ...)."""
    ole = bytes.fromhex("D0CF11E0A1B11AE1") + bytes(504) + b"EncryptionInfo" + bytes(2000)
    folder = _folder_with(tmp_path, "clusnet.xlsx", ole)
    code, err = _validate(capsys, folder, tmp_path)
    assert code == 2
    _one_line(err, "password-protected", "remove the password")


def _bomb(path: Path, megabytes: int) -> Path:
    """A workbook-shaped zip whose one sheet inflates to `megabytes` of zeros (about 1000:1)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            block = bytes(1 << 20)
            for _ in range(megabytes):
                sheet.write(block)
    return path


def test_a_highly_compressed_part_is_refused_before_opening(tmp_path):
    bomb = _bomb(tmp_path / "bomb.xlsx", 8)
    with pytest.raises(InputError, match=r"part xl/worksheets/sheet1.xml would unpack \d[\d,]* times"):
        check_workbook(bomb)


def test_a_workbook_beyond_the_size_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(reader, "MAX_WORKBOOK_UNPACKED", 4 << 20)
    monkeypatch.setattr(reader, "MAX_COMPRESSION_RATIO", 10 ** 9)   # only the size limit applies here
    bomb = _bomb(tmp_path / "big.xlsx", 8)
    with pytest.raises(InputError, match=r"would unpack to 8 MB \(limit 4 MB\); export the sheets as CSV"):
        check_workbook(bomb)


@pytest.mark.slow
def test_a_real_zip_bomb_is_refused_in_little_memory(tmp_path):
    """A 1 GB bomb through the whole command, in a child process whose peak memory is measured."""
    folder = tmp_path / "data"
    folder.mkdir()
    _bomb(folder / "clusnet.xlsx", 1024)
    assert (folder / "clusnet.xlsx").stat().st_size < 5 << 20
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = subprocess.run([sys.executable, "-m", "clusnet_analysis", "validate", "--data", str(folder),
                             "--out", str(tmp_path / "reports" / "v")],
                            env={**__import__("os").environ, "CLUSNET_REPORTS_DIR": str(tmp_path / "reports")},
                            capture_output=True, text=True, timeout=300)
    peak_mb = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024
    assert result.returncode == 2, result.stderr
    _one_line(result.stderr, "clusnet.xlsx: the workbook would unpack to 1,024 MB (limit 512 MB)")
    assert peak_mb < 600, peak_mb


# ------------------------------------------------------------------ fuzzed CSV cells
HOSTILE_TEXT = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", " ", "=1+1", "-2+3", "@SUM(A1)", "+cmd", "\t", '"', '""', ";", ",", "\n", "\r\n",
                     "1.234,50", "-0", "1e309", "NaN", "2009-02-30", "31/12/2009", "\ufeff", "\x00", "Ω≈ç√",
                     "X1", "O1", "LYO", "EUR", "travel", "validated", "2009-09-07", "100"]),
)
FUZZED_TABLES = ["officers", "exchanges", "expenses", "practices"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(table=st.sampled_from(FUZZED_TABLES), rows=st.lists(st.lists(HOSTILE_TEXT, min_size=1, max_size=9),
                                                           min_size=1, max_size=6),
       separator=st.sampled_from([",", ";"]))
def test_fuzzed_cells_never_crash_and_every_row_is_accounted_for(table, rows, separator):
    with tempfile.TemporaryDirectory() as tmp:
        data = write_data(Path(tmp) / "data")
        columns = COLUMNS[table]
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=separator, lineterminator="\n")
        writer.writerow(columns)
        for row in BASE[table]:
            writer.writerow([row.get(c, "") for c in columns])
        for cells in rows:
            writer.writerow((cells + [""] * len(columns))[: len(columns)])
        (data / f"{table}.csv").write_bytes(buffer.getvalue().encode("utf-8", errors="surrogatepass"))
        try:
            ds = build(data)
        except InputError as exc:          # unusable file: one clear line, never a traceback
            assert "\n" not in str(exc) and str(exc)
            return
        for name, read in ds.rows_read.items():
            valid = len(ds.tables[name]) if name in ds.tables else 0
            quarantined = len(ds.quarantine.get(name, ()))
            assert read == valid + quarantined, (name, read, valid, quarantined)
        assert ds.error_count >= ds.quarantined_count
