"""Warm kernels: every notebook still gets its own new kernel process, forked from a template.

Starting a kernel costs about 0.6 s and importing pandas, matplotlib, pandera and this
package another second, for every notebook. On Linux a batch starts one *template*
process that imports all of that once (and never runs notebook code), then forks one
child per kernel:

    worker (papermill) --launches--> client (kernelspec argv; tiny, stdlib only)
                                        |  Unix socket: argv, environment, cwd, stdin/out/err
                                        v
    template (imports done, one thread) --fork--> kernel (setsid; IPKernelApp with that argv)

jupyter_client only knows the client's PID, so the client stays alive while the kernel
runs: it forwards the signals it gets (interrupt, terminate) to the kernel and exits
with the kernel's exit status, which the template reports. A client killed outright
(SIGKILL) closes its socket and the kernel kills itself. Each kernel is a fresh fork
of the same untouched template: nothing a notebook does (variables, module attributes,
matplotlib settings, sys.modules, random seeds) reaches another notebook.

Anything that goes wrong (not Linux, the template cannot import or start, a thread in
the template) falls back to starting the kernel the usual way, with one line on stderr
per batch. CLUSNET_WARM_KERNELS=0 turns warm kernels off. The template itself is in
warm_template.py, the client in _warm_client.py.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

SWITCH = "CLUSNET_WARM_KERNELS"
CLIENT = Path(__file__).with_name("_warm_client.py")
_FD_VARIABLE = "CLUSNET_WARM_LISTEN_FD"
_LOG_NAME = "warm-template.log"
_FALLBACK_DIR = "warm-fallbacks"

# Set in a kernel forked from a template (the template's PID); None in any other process.
forked_from: int | None = None

# What the template imports. Missing optional modules are skipped; clusnet_analysis'
# sections, plots and their dependencies are what the report notebooks use.
WARM_MODULES = (
    "numpy", "pandas", "pyarrow", "matplotlib", "matplotlib.pyplot", "pandera", "networkx",
    "IPython", "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell",
    # what IPKernelApp.initialize imports (debugpy alone takes 0.3 s)
    "ipykernel.debugger", "IPython.core.completerlib", "IPython.core.debugger", "IPython.core.oinspect",
    "IPython.extensions.storemagic", "sqlite3", "pdb", "tornado.platform.asyncio",
    "clusnet_analysis.config", "clusnet_analysis.sections", "clusnet_analysis.publish.display",
)
WARM_PACKAGES = ("clusnet_analysis.sections", "clusnet_analysis.plots", "clusnet_analysis.analysis",
                 "clusnet_analysis.ingest", "clusnet_analysis.rules")


def enabled() -> bool:
    """Warm kernels need fork and Unix sockets (Linux); CLUSNET_WARM_KERNELS=0 turns them off."""
    if os.environ.get(SWITCH, "1").strip().lower() in {"0", "false", "no", "off"}:
        return False
    return sys.platform.startswith("linux") and hasattr(os, "fork") and hasattr(socket, "AF_UNIX")


def _template_environment(spec_env: dict) -> dict:
    """The kernels' environment, plus what keeps imported libraries from starting threads."""
    env = dict(os.environ)
    env.update(spec_env)
    # OpenBLAS (numpy) and OpenMP start their thread pools when loaded; jemalloc (pyarrow)
    # starts a background thread. A process with threads must not be forked.
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env[name] = "1"
    conf = env.get("JE_ARROW_MALLOC_CONF")
    env["JE_ARROW_MALLOC_CONF"] = (conf + "," if conf else "") + "background_thread:false"
    # what ipykernel sets when it starts, so matplotlib reads the same backend as in a new kernel
    env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    return env


class WarmKernels:
    """The batch's side: starts the template, points the kernelspec at the client, stops it."""

    def __init__(self, kernel_root: str | Path, kernel_name: str, cwd: str | Path | None = None):
        self.kernel_root = Path(kernel_root)
        self.spec_file = self.kernel_root / "kernels" / kernel_name / "kernel.json"
        self.cwd = str(cwd) if cwd else None
        self.process: subprocess.Popen | None = None
        self.told = False
        self._reason: str | None = None

    # ------------------------------------------------------------------ start / stop
    def start(self) -> bool:
        """Start the template and rewrite the kernelspec; False (spec untouched) when not possible."""
        if not enabled():
            return False
        try:
            self._start()
            return True
        except Exception as error:  # noqa: BLE001 - any failure: the usual kernels
            self.stop()
            self._reason = f"{type(error).__name__}: {error}"
            self.tell()
            return False

    def _start(self) -> None:
        spec = json.loads(self.spec_file.read_text(encoding="utf-8"))
        argv = spec["argv"]
        if argv[1:3] != ["-m", "ipykernel_launcher"]:
            raise ValueError(f"unexpected kernel command {argv[:3]}")
        socket_path = str(self.kernel_root / "warm.sock")
        if len(socket_path.encode()) > 100:  # AF_UNIX paths are limited to ~104 bytes
            raise ValueError("socket path too long")
        (self.kernel_root / _FALLBACK_DIR).mkdir(exist_ok=True)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(socket_path)
            listener.listen(64)
            env = _template_environment(spec.get("env", {}))
            env[_FD_VARIABLE] = str(listener.fileno())
            with open(self.kernel_root / _LOG_NAME, "wb") as log:
                self.process = subprocess.Popen(
                    self._template_command(), env=env, cwd=self.cwd, stdin=subprocess.PIPE,
                    stdout=log, stderr=subprocess.STDOUT, pass_fds=(listener.fileno(),))
        finally:
            # From now on only the template holds the socket: if it dies, clients are refused
            # at once (and fall back) instead of waiting on a socket nobody accepts.
            listener.close()
        spec["argv"] = [sys.executable, "-I", "-S", str(CLIENT), socket_path,
                        str(self.kernel_root / _FALLBACK_DIR), "--", *argv]
        self.spec_file.write_text(json.dumps(spec, indent=2), encoding="utf-8")

    @staticmethod
    def _template_command() -> list[str]:
        return [sys.executable, "-c", "from clusnet_analysis.publish.warm_template import serve; serve()"]

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        try:
            process.stdin.close()  # the template stops when its stdin closes
            process.wait(timeout=5)
        except Exception:  # noqa: BLE001
            process.kill()
            process.wait()

    # ------------------------------------------------------------------ the one message
    def fallback_reason(self) -> str | None:
        if self._reason:
            return self._reason
        folder = self.kernel_root / _FALLBACK_DIR
        try:
            first = min(folder.iterdir(), default=None)
        except OSError:
            return None
        if first is None:
            return None
        try:
            return first.read_text(encoding="utf-8").strip() or "unknown reason"
        except OSError:
            return "unknown reason"

    def tell(self) -> None:
        """One line on stderr, the first time a kernel had to start the usual way."""
        if self.told:
            return
        reason = self.fallback_reason()
        if reason is None:
            return
        self.told = True
        log = self.kernel_root / _LOG_NAME
        try:
            last = [line for line in log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
        except OSError:
            last = []
        detail = f" ({last[-1].strip()[:200]})" if last and last[-1].strip() not in reason else ""
        sys.stderr.write(f"clusnet: warm kernels unavailable, kernels start the usual way: "
                         f"{reason}{detail}\n")
        sys.stderr.flush()
