"""The tests' loopback server: a client that hangs up is normal, and prints nothing among the test dots."""

from __future__ import annotations

import socket
import struct
import time

from tests.loopback import LoopbackServer, Route


def test_a_client_that_resets_the_connection_prints_no_traceback(capfd):
    with LoopbackServer() as srv:
        srv.routes["/feed.xml"] = Route(body=b"<rss/>" * 50_000, headers={"Content-Type": "application/xml"})
        for _ in range(3):
            sock = socket.create_connection((srv.host, srv.port))
            sock.sendall(b"GET /feed.xml HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.recv(100)  # the answer has begun; then a hard close (RST) in the middle of it
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
        deadline = time.monotonic() + 5
        while len(srv.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)  # the handler threads meet the reset
    err = capfd.readouterr().err
    assert len(srv.requests) == 3
    assert "Traceback" not in err and "ConnectionResetError" not in err and "BrokenPipeError" not in err, err
