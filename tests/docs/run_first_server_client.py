#!/usr/bin/env python3
"""Runs the guide's first server and first client against each other.

Usage: run_first_server_client.py SERVER CLIENT
The server listens on a free loopback port and serves one client; the client connects, asks once and
says bye. Every wait is bounded; the server is killed if it outlives the test. Standard library only.
"""

import os
import socket
import subprocess
import sys
import threading


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    server_bin, client_bin = sys.argv[1], sys.argv[2]
    emulator = os.environ.get("TOFU_TEST_EMULATOR", "").split()  # a cross build's wine
    port = str(free_port())
    server = subprocess.Popen(emulator + [server_bin, port, "1"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True)
    try:
        first = []
        reader = threading.Thread(target=lambda: first.append(server.stdout.readline()), daemon=True)
        reader.start()
        reader.join(10)
        if not first or not first[0].startswith("listening"):
            print(f"FAIL: the server did not start listening: {first!r}")
            return 1
        print("server:", first[0].rstrip())

        client = subprocess.run(emulator + [client_bin, "127.0.0.1", port], capture_output=True, text=True, timeout=30)
        print("client:", client.stdout.rstrip().replace("\n", "\nclient: "))
        if client.returncode != 0:
            print(f"FAIL: the client exited {client.returncode}: {client.stderr.strip()}")
            return 1
        if "server says: echo: ping" not in client.stdout:
            print("FAIL: the client did not get the echo")
            return 1

        rest, _ = server.communicate(timeout=30)
        print("server:", rest.rstrip().replace("\n", "\nserver: "))
        if server.returncode != 0:
            print(f"FAIL: the server exited {server.returncode}")
            return 1
        print("PASS")
        return 0
    except subprocess.TimeoutExpired as e:
        print(f"FAIL: timeout: {e}")
        return 1
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


if __name__ == "__main__":
    sys.exit(main())
