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
per batch. CLUSNET_WARM_KERNELS=0 turns warm kernels off.
"""
from __future__ import annotations

import gc
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
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
        return [sys.executable, "-c", "from clusnet_analysis.publish.warm import serve; serve()"]

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


# ---------------------------------------------------------------------- the template process
def _thread_names() -> list[str]:
    names = []
    for task in os.listdir("/proc/self/task"):
        try:
            names.append(Path(f"/proc/self/task/{task}/comm").read_text().strip())
        except OSError:
            names.append(task)
    return names


def _warm_imports() -> None:
    import importlib
    import pkgutil

    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    for name in WARM_PACKAGES:
        try:
            package = importlib.import_module(name)
        except ImportError:
            continue
        for info in pkgutil.iter_modules(package.__path__):
            try:
                importlib.import_module(f"{name}.{info.name}")
            except ImportError:
                pass


def _read_request(conn: socket.socket) -> tuple[dict, list[int]]:
    data, fds, _flags, _address = socket.recv_fds(conn, 65536, 3)
    try:
        while len(data) < 4 or len(data) < 4 + struct.unpack("!I", data[:4])[0]:
            more = conn.recv(65536)
            if not more:
                raise ConnectionError("client closed the connection mid-request")
            data += more
        if len(fds) != 3:
            raise ValueError(f"expected 3 file descriptors, got {len(fds)}")
        return json.loads(data[4:4 + struct.unpack("!I", data[:4])[0]]), fds
    except BaseException:
        for fd in fds:
            os.close(fd)
        raise


def serve() -> None:
    """The template: import everything once, then fork a kernel for each client. Never runs notebook code."""
    listener = socket.socket(fileno=int(os.environ.pop(_FD_VARIABLE)))
    # like ipykernel_launcher: not the current folder on sys.path while importing
    if sys.path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]
    _warm_imports()
    gc.collect()
    gc.freeze()  # imported objects stay put: forked kernels share their memory pages

    wake_read, wake_write = socket.socketpair()
    wake_read.setblocking(False)
    wake_write.setblocking(False)
    signal.set_wakeup_fd(wake_write.fileno())
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    children: dict[int, socket.socket] = {}

    import selectors

    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(wake_read, selectors.EVENT_READ, "wake")
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "parent")
    try:
        while True:
            for key, _events in selector.select(timeout=1.0):
                if key.data == "parent":  # the batch closed our stdin (or died)
                    if not os.read(sys.stdin.fileno(), 4096):
                        return
                elif key.data == "wake":
                    try:
                        while wake_read.recv(4096):
                            pass
                    except BlockingIOError:
                        pass
                elif key.data == "accept":
                    conn, _ = listener.accept()
                    pid = _fork_kernel(conn, [selector, listener, wake_read, wake_write, *children.values()])
                    if pid:
                        children[pid] = conn
                    else:
                        conn.close()
            _reap(children)
    finally:
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass


def _reap(children: dict[int, socket.socket]) -> None:
    while children:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        conn = children.pop(pid, None)
        if conn is not None:
            try:
                conn.sendall(f"exit {status}\n".encode())
            except OSError:
                pass
            conn.close()


def _fork_kernel(conn: socket.socket, close_in_child: list) -> int | None:
    """Fork a kernel for one client; the client is told why when it cannot be done."""
    try:
        conn.settimeout(10)
        request, fds = _read_request(conn)
    except Exception as error:  # noqa: BLE001
        _refuse(conn, f"bad request: {error}")
        return None
    try:
        threads = _thread_names()
        if len(threads) > 1 or threading.active_count() > 1:
            _refuse(conn, f"the template has threads ({', '.join(threads)}); it must not fork")
            return None
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(conn, fds, request, close_in_child)  # never returns
        return pid
    except Exception as error:  # noqa: BLE001
        _refuse(conn, f"fork failed: {error}")
        return None
    finally:
        for fd in fds:
            os.close(fd)


def _refuse(conn: socket.socket, reason: str) -> None:
    try:
        conn.sendall(f"error {reason}\n".encode())
    except OSError:
        pass


def _child(conn: socket.socket, fds: list[int], request: dict, close_in_child: list) -> None:
    """In the forked kernel: become a new session with the client's streams, then run ipykernel."""
    code = 1
    try:
        os.setsid()  # its own process group, like a kernel jupyter_client starts
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for other in close_in_child:
            other.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        fds.clear()
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        argv = list(request["argv"])
        if "JPY_PARENT_PID" in request["env"]:  # read by ipykernel at import (in the template)
            argv.append(f"--IPKernelApp.parent_handle={int(request['env']['JPY_PARENT_PID'])}")
        import ipykernel

        sys.argv = [str(Path(ipykernel.__file__).parent.parent / "ipykernel_launcher.py"), *argv]
        numpy = sys.modules.get("numpy")
        if numpy is not None:  # a new process seeds from the OS; so does each fork (`random` does itself)
            numpy.random.seed()
        global forked_from
        forked_from = os.getppid()

        conn.settimeout(None)
        conn.sendall(f"pid {os.getpid()}\n".encode())
        reply = b""
        while not reply.endswith(b"\n"):
            more = conn.recv(16)
            if not more:
                os._exit(0)  # the client gave up waiting: it starts a usual kernel instead
            reply += more
        if reply != b"go\n":
            os._exit(0)

        def watch_client() -> None:  # the client was killed (SIGKILL): so are we
            try:
                conn.recv(16)
            finally:
                os.kill(os.getpid(), signal.SIGKILL)

        threading.Thread(target=watch_client, name="clusnet-client-watch", daemon=True).start()

        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=argv)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        try:
            import atexit

            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
