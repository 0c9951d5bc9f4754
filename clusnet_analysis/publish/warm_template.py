"""The template process of warm kernels (see warm.py): imports once, forks one kernel per client.

It never runs notebook code: a forked child resets what the fork copied (signals,
file descriptors, environment, folder, random seed) and only then starts ipykernel.
"""
from __future__ import annotations

import gc
import json
import os
import signal
import socket
import struct
import sys
import threading
from pathlib import Path

from clusnet_analysis.publish import warm
from clusnet_analysis.publish.warm import _FD_VARIABLE, WARM_MODULES, WARM_PACKAGES

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

    # A module that fails here is simply not preloaded: a kernel importing it meets the
    # same error itself, in its own process, as it would without a template.
    for name in WARM_MODULES:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001
            pass
    for name in WARM_PACKAGES:
        try:
            package = importlib.import_module(name)
        except Exception:  # noqa: BLE001
            continue
        for info in pkgutil.iter_modules(package.__path__):
            try:
                importlib.import_module(f"{name}.{info.name}")
            except Exception:  # noqa: BLE001
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
        warm.forked_from = os.getppid()

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
