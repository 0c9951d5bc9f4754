"""One request per command: every folder resolved, and every path checked, in one place.

A command's folders come from its flags, then the environment (``CLUSNET_DATA_DIR``,
``CLUSNET_REPORTS_DIR``, ``CLUSNET_CACHE_DIR``), then the project defaults. Whichever way
a path was given, symlinks are followed before it is checked: an output inside the data
folder (the data directory in use or the data root), or a data folder inside an output, is
refused with one line (``UsageError``, exit 2) before anything is read or written.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from clusnet_analysis import config


# Set by `clusnet run --programme` for the notebooks' kernels, which load the data themselves.
PROGRAMME_ENV = "CLUSNET_PROGRAMME_FILE"


class UsageError(Exception):
    """Bad parameters or unsafe folders: refused before anything runs."""


def _real(path: Path) -> Path:
    """The path with every symlink followed (also a dangling one, and for folders not made yet)."""
    return Path(os.path.realpath(path))


def _within(path: Path, root: Path) -> bool:
    return _real(path).is_relative_to(_real(root))


def _route(flag: object, env_name: str | None, environ: Mapping[str, str]) -> str:
    if flag:
        return "flag"
    if env_name and environ.get(env_name):
        return f"environment variable {env_name}"
    return "default"


@dataclass
class Request:
    """The folders and files of one command, checked; build it with :meth:`from_args`."""

    command: str
    data_dir: Path | None            # the data directory read (None for `sample`)
    data_root: Path                  # CLUSNET_DATA_DIR or the project's data/ folder: never written
    reports_dir: Path                # the reports folder
    cache_dir: Path                  # where the loaded data is cached (holds personal data)
    programme_file: Path | None      # the rules file that applies (None for `sample`)
    out: Path | None = None          # the command's own output folder (validate, figures, sample)
    routes: dict = field(default_factory=dict)   # how each path was given: flag, environment, default

    # ---------------------------------------------------------------- building
    @classmethod
    def from_args(cls, command: str, args, environ: Mapping[str, str] | None = None) -> Request:
        environ = os.environ if environ is None else environ
        data_root = Path(environ.get("CLUSNET_DATA_DIR") or config.DATA_DIR)
        reports_dir = Path(environ.get("CLUSNET_REPORTS_DIR") or config.REPORTS_DIR)
        cache_dir = Path(config.CACHE_DIR)  # what the loader uses (CLUSNET_CACHE_DIR when set)
        routes = {"data root": _route(None, "CLUSNET_DATA_DIR", environ),
                  "reports folder": _route(None, "CLUSNET_REPORTS_DIR", environ),
                  "cache folder": _route(None, "CLUSNET_CACHE_DIR", environ)}
        if command == "sample":
            out = Path(args.out) if getattr(args, "out", None) else data_root / "sample"
            routes["output folder"] = _route(getattr(args, "out", None), "CLUSNET_DATA_DIR", environ)
            request = cls(command, None, data_root, reports_dir, cache_dir, None, out, routes)
            request._check_sample_output()
            return request

        flag = getattr(args, "data", None)
        data_dir = Path(flag) if flag else data_root / "sample"
        routes["data directory"] = _route(flag, "CLUSNET_DATA_DIR", environ)
        if not data_dir.is_dir():
            raise UsageError(f"{data_dir}: no such data directory")
        programme_flag = getattr(args, "programme", None) or environ.get(PROGRAMME_ENV)
        routes["programme file"] = _route(getattr(args, "programme", None), PROGRAMME_ENV, environ)
        if programme_flag:
            programme_file = Path(programme_flag)
            if not programme_file.is_file():
                how = routes["programme file"]
                raise UsageError(f"{programme_file}: no such programme file"
                                 + ("" if how == "flag" else f" (from {how})"))
        else:
            from clusnet_analysis.rules.programme import programme_file_for

            programme_file = programme_file_for(data_dir)
        # absolute: the notebooks' kernels run in the notebooks folder and read it from the environment
        programme_file = Path(os.path.abspath(programme_file))

        out = None
        if command == "validate":
            out_flag = getattr(args, "out", None)
            out = Path(out_flag) if out_flag else reports_dir / "validation"
            routes["output folder"] = "flag" if out_flag else routes["reports folder"]
        elif command == "figures":
            out = reports_dir / "figures"
            routes["output folder"] = routes["reports folder"]
        request = cls(command, data_dir, data_root, reports_dir, cache_dir, programme_file, out, routes)
        request._check_reading_command()
        return request

    # ---------------------------------------------------------------- checks
    def _protected(self) -> list[Path]:
        """Folders no command may write into: the data directory in use and the data root."""
        folders = [self.data_root]
        if self.data_dir is not None:
            folders.insert(0, self.data_dir)
        return folders

    def _refusal(self, what: str, folder: Path, data: Path, relation: str) -> UsageError:
        how = self.routes.get(what, "flag")
        given = "" if how in ("flag", "default") else f" (from {how})"
        link = " (through a symbolic link)" if _real(folder) != Path(os.path.abspath(folder)) else ""
        return UsageError(f"{what} {folder}{given}{link} {relation} the data folder {data}; "
                          "raw data is never written")

    def check_output(self, folder: Path, what: str = "output folder") -> Path:
        """Refuse a folder that lies inside a data folder (or holds one); returns it unchanged."""
        for data in self._protected():
            if data.exists() and (_within(folder, data) or _within(data, folder)):
                raise self._refusal(what, folder, data, "overlaps")
        return folder

    def _check_reading_command(self) -> None:
        # The reports folder may hold the data folder (a project/{data,reports} layout keeps
        # them side by side, tests keep both in one temporary folder); it must never lie inside it.
        for data in self._protected():
            if not data.exists():
                continue
            if _within(self.reports_dir, data):
                raise self._refusal("reports folder", self.reports_dir, data, "is inside")
            if _within(self.cache_dir, data):
                raise self._refusal("cache folder", self.cache_dir, data, "is inside")
        if self.out is not None:
            self.check_output(self.out)
            if not _within(self.out, self.reports_dir):
                raise UsageError(f"output folder {self.out} is outside the reports folder {self.reports_dir}")

    def _check_sample_output(self) -> None:
        """The sample may replace an earlier sample (it carries the synthetic marker), never real records."""
        out = self.out
        real = _real(out)
        if real.is_dir() and not (real / config.SYNTHETIC_MARKER).is_file():
            from clusnet_analysis.ingest.io import TABLES

            held = sorted(p.name for p in real.iterdir()
                          if p.suffix.lower() in (".csv", ".xlsx") and p.stem.lower() in TABLES)
            if held:
                link = " (through a symbolic link)" if real != Path(os.path.abspath(out)) else ""
                raise UsageError(f"output folder {out}{link} holds data files that are not a synthetic "
                                 f"sample ({', '.join(held[:3])}); raw data is never overwritten")

    # ---------------------------------------------------------------- derived
    @property
    def fingerprint(self) -> str:
        """Short content hash of the data files and the programme file (as in every manifest)."""
        from clusnet_analysis.publish.provenance import input_fingerprint

        if self.data_dir is None:
            return ""
        return input_fingerprint(self.data_dir, self.programme_file)["fingerprint"]

    def period_folder(self, period: str) -> Path:
        """reports/<period>, checked like any other output."""
        return self.check_output(self.reports_dir / period)
