"""pier's warm interpreter: one per Python executable, it imports the libraries models use (numpy,
pandas, scikit-learn, joblib) and pier's host once, then forks an instance for each request on its
Unix socket, so that an instance starts without importing them again and shares their pages.

  python3 pier_warm.py SOCKET

It prints "ready" on stdout once it listens. pier_shim.py connects, sends the instance's environment,
working folder and command line (a u32 length, then JSON) with its standard output, standard error,
host-message and invoke-channel descriptors attached (SCM_RIGHTS). The interpreter forks; the child
puts those descriptors on 1, 2, 3 and 4, takes the environment, and runs pier_host.main() as a cold
start would. The shim gets {"pid"} at once, then {"code"} or {"signal"} when the child ends.

A child whose shim is gone (killed by pier, however) is killed. When pier is gone (standard input
ends), every child is killed and the interpreter exits. It never runs threads of its own: fork copies
only the thread that calls it.
"""

import json
import os
import selectors
import signal
import socket
import struct
import sys
import traceback

PRELOAD = (
    "numpy",
    "pandas",
    "joblib",
    "sklearn",
    "sklearn.base",
    "sklearn.compose",
    "sklearn.ensemble",
    "sklearn.impute",
    "sklearn.linear_model",
    "sklearn.pipeline",
    "sklearn.preprocessing",
    "sklearn.tree",
)


def preload():
    """Imports what is there; a missing library is the model's business, at its own load."""
    import importlib

    loaded = []
    for name in PRELOAD:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception:
            pass
    import pier_host  # noqa: F401  (and pier_script, through it)

    return loaded


def read_request(conn):
    """The shim's request: (JSON object, the four descriptors)."""
    data, fds, _flags, _addr = socket.recv_fds(conn, 1 << 16, 4)
    if len(data) < 4 or len(fds) != 4:
        for fd in fds:
            os.close(fd)
        raise ValueError("a request without its length or its four descriptors")
    (length,) = struct.unpack(">I", data[:4])
    body = data[4:]
    while len(body) < length:
        more = conn.recv(length - len(body))
        if not more:
            raise ValueError("the request ended early")
        body += more
    return json.loads(body), fds


def become_instance(request, fds, close_inherited):
    """In the child: the shim's descriptors as 1-4, its environment and folder, then the host."""
    signal.set_wakeup_fd(-1)
    close_inherited()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for target, fd in zip((1, 2, 3, 4), fds):
        if fd != target:
            os.dup2(fd, target)
    for fd in fds:
        if fd > 4:
            os.close(fd)
    os.environ.clear()
    os.environ.update(request["env"])
    os.chdir(request["cwd"])
    sys.argv = request["argv"]
    import pier_host

    code = 0
    try:
        pier_host.send({"type": "forked", "pid": os.getpid()})
        pier_host.main()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def main():
    path = sys.argv[1]
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    loaded = preload()
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old = os.umask(0o177)
    listener.bind(path)
    os.umask(old)
    listener.listen(64)

    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.signal(signal.SIGTERM, lambda *_: None)

    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ, "accept")
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ, "pier")
    selector.register(wake_r, selectors.EVENT_READ, "signal")
    children = {}  # pid -> the shim's connection
    sys.stdout.write(f"ready {json.dumps(loaded)}\n")
    sys.stdout.flush()

    def kill(pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    while True:
        for key, _ in selector.select():
            what = key.data
            if what == "pier":
                if not os.read(sys.stdin.fileno(), 4096):
                    for pid in children:
                        kill(pid)
                    os.unlink(path)
                    os._exit(0)
            elif what == "signal":
                os.read(wake_r, 4096)
                while True:
                    try:
                        pid, status = os.waitpid(-1, os.WNOHANG)
                    except ChildProcessError:
                        break
                    if pid == 0:
                        break
                    conn = children.pop(pid, None)
                    if conn is None:
                        continue
                    ended = (
                        {"signal": os.WTERMSIG(status)}
                        if os.WIFSIGNALED(status)
                        else {"code": os.WEXITSTATUS(status)}
                    )
                    try:
                        conn.sendall((json.dumps(ended) + "\n").encode())
                    except OSError:
                        pass
                    selector.unregister(conn)
                    conn.close()
            elif what == "accept":
                conn, _ = listener.accept()
                try:
                    request, fds = read_request(conn)
                except (OSError, ValueError):
                    conn.close()
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    def close_inherited():
                        selector.close()
                        for sock in (listener, conn, *children.values()):
                            sock.close()
                        os.close(wake_r)
                        os.close(wake_w)

                    become_instance(request, fds, close_inherited)
                for fd in fds:
                    os.close(fd)
                children[pid] = conn
                selector.register(conn, selectors.EVENT_READ, pid)
                try:
                    conn.sendall((json.dumps({"pid": pid}) + "\n").encode())
                except OSError:
                    pass
            else:
                # A shim's connection: it never writes, so readable means it is gone.
                pid = what
                try:
                    gone = not key.fileobj.recv(1)
                except OSError:
                    gone = True
                if gone:
                    selector.unregister(key.fileobj)
                    key.fileobj.close()
                    if children.pop(pid, None) is not None:
                        kill(pid)


if __name__ == "__main__":
    main()
