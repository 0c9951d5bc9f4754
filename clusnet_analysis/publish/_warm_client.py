"""Kernel launcher of warm kernels (see warm.py); run as a script, standard library only.

    python -I -S _warm_client.py SOCKET FALLBACK_DIR -- PYTHON -m ipykernel_launcher ARGS...

Asks the template listening on SOCKET to fork a kernel with ARGS, this process's
environment, folder and stdin/stdout/stderr, then stands in for it: signals sent here
go to the kernel, and this process exits when the kernel does, with its status.
When the template cannot do it, this process becomes the usual kernel (exec of the
command after --) and leaves a note in FALLBACK_DIR for the batch to report once.
"""
import json
import os
import signal
import socket
import struct
import sys

CONNECT_SECONDS = 10
FORK_SECONDS = 60  # the template may still be importing when the first kernels are asked for
FORWARDED = ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2")


def _readline(sock):
    line = b""
    while not line.endswith(b"\n"):
        more = sock.recv(256)
        if not more:
            raise ConnectionError("the template closed the connection")
        line += more
    return line.decode("utf-8", "replace").strip()


def _fallback(fallback_dir, command, reason):
    try:
        path = os.path.join(fallback_dir, str(os.getpid()))
        with open(path, "w", encoding="utf-8") as note:
            note.write(reason)
    except OSError:
        pass
    os.execv(command[0], command)


def _ask(socket_path, command):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(CONNECT_SECONDS)
    sock.connect(socket_path)
    body = json.dumps({"argv": command[3:], "env": dict(os.environ), "cwd": os.getcwd()}).encode()
    message = struct.pack("!I", len(body)) + body
    sent = socket.send_fds(sock, [message], [0, 1, 2])
    if sent < len(message):
        sock.sendall(message[sent:])
    sock.settimeout(FORK_SECONDS)
    reply = _readline(sock)
    if not reply.startswith("pid "):
        raise RuntimeError(reply[len("error "):] if reply.startswith("error ") else reply)
    return sock, int(reply.split()[1])


def main():
    separator = sys.argv.index("--")
    socket_path, fallback_dir = sys.argv[1:3]
    command = sys.argv[separator + 1:]
    try:
        sock, kernel = _ask(socket_path, command)
    except Exception as error:  # noqa: BLE001 - any failure: the usual kernel, same PID
        _fallback(fallback_dir, command, f"{type(error).__name__}: {error}".strip())
        return 1  # not reached: execv replaced this process

    def forward(signum, _frame):
        try:
            os.kill(kernel, signum)
        except OSError:
            pass

    for name in FORWARDED:
        signal.signal(getattr(signal, name), forward)
    sock.settimeout(None)
    sock.sendall(b"go\n")
    try:
        line = _readline(sock)
    except (ConnectionError, OSError):
        return 1
    status = int(line.split()[1]) if line.startswith("exit ") else 1 << 8
    if os.WIFSIGNALED(status):  # die the way the kernel died
        signum = os.WTERMSIG(status)
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 1


if __name__ == "__main__":
    sys.exit(main())
