"""The process pier starts for an instance whose Python has a warm interpreter (pier_warm.py).

  python3 -I -S pier_shim.py SOCKET HOST

It hands its standard output and error, fd 3 (host messages) and fd 4 (the invoke channel) to the warm
interpreter with the instance's environment, folder and command line; the interpreter forks the
instance, which then talks to pier on those descriptors as a cold start does. The shim stays as the
process pier supervises: SIGTERM and SIGINT go on to the instance, and when the instance ends the shim
ends the same way (its exit code, or its signal). If the shim is killed, the interpreter kills the
instance. With no warm interpreter to reach, the shim becomes the cold host (exec), so an instance
always starts.
"""

import json
import os
import signal
import socket
import struct
import sys


def main():
    path, host = sys.argv[1], sys.argv[2]
    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(path)
    except OSError:
        os.execv(sys.executable, [sys.executable, host])
    body = json.dumps({"env": dict(os.environ), "cwd": os.getcwd(), "argv": [host]}).encode()
    request = struct.pack(">I", len(body)) + body
    sent = socket.send_fds(conn, [request], [1, 2, 3, 4])
    conn.sendall(request[sent:])
    # The instance holds these now; pier's end of the channel must see the instance alone (its end of
    # file is how the instance learns that pier is gone).
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (1, 2, 3, 4):
        os.dup2(null, fd)
    reader = conn.makefile("r")
    first = reader.readline()
    if not first:
        os._exit(1)
    pid = json.loads(first)["pid"]

    def forward(signum, _frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    line = reader.readline()
    if not line:
        # The interpreter is gone: so is the instance's supervisor; end it rather than leave it alone.
        forward(signal.SIGKILL, None)
        os._exit(1)
    ended = json.loads(line)
    if "signal" in ended:
        if ended["signal"] != signal.SIGKILL:  # its handler cannot be set, and needs no resetting
            signal.signal(ended["signal"], signal.SIG_DFL)
        os.kill(os.getpid(), ended["signal"])
    os._exit(ended.get("code", 1))


if __name__ == "__main__":
    main()
