"""A loopback stand-in for an HTTP proxy that records every request line it is sent and refuses them all.

Used to prove which verification traffic goes through a proxy from the environment: loopback stand-ins must
never (their plain-HTTP requests carry secrets), real vendor hosts must (a CONNECT to the vendor's host).
It never forwards anything, so nothing leaves the machine.
"""

from __future__ import annotations

import socketserver
import threading


class RecordingProxy:
    def __init__(self) -> None:
        self.lines: list[str] = []  # first line of each request: "CONNECT host:443 HTTP/1.1", "GET http://..."
        self.lock = threading.Lock()
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                first = self.rfile.readline(65536).decode("latin-1").strip()
                while self.rfile.readline(65536).strip():  # the rest of the head
                    pass
                with proxy.lock:
                    proxy.lines.append(first)
                self.wfile.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
