"""Running the triage application: a threaded WSGI server on one address until SIGINT or SIGTERM, which end
it cleanly (the port is closed on the way out; no traceback)."""

from __future__ import annotations

import ipaddress
import sys
from typing import Any

from werkzeug.serving import WSGIRequestHandler, make_server


class _Handler(WSGIRequestHandler):
    """One line per request on stderr: method, path, status. Paths hold fingerprints at most, never a secret,
    and request bodies (triage notes) are not logged."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        sys.stderr.write(f"{self.command} {self.path.split('?', 1)[0]} {code}\n")

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def host_names(host: str, port: int) -> tuple[str, ...]:
    """The Host header values to answer: this address (and localhost for a loopback one). A wildcard
    address answers to any name, which is why it is only ever the user's explicit choice."""
    names = [f"{host}:{port}", f"[{host}]:{port}"]
    if is_loopback(host):
        names += [f"localhost:{port}", f"127.0.0.1:{port}"]
    return tuple(names)


def run(app_factory: Any, host: str, port: int) -> None:
    """Binds first (so the port is known), builds the app for that address, then serves until a signal."""
    server = make_server(host, port, None, threaded=True, request_handler=_Handler)  # type: ignore[arg-type]
    bound = server.server_port
    app = app_factory(bound)
    server.app = app
    shown = f"[{host}]" if ":" in host else host
    print(f"tokenscan serve: http://{shown}:{bound}/  (Ctrl-C stops it)", flush=True)
    try:  # Ctrl-C and SIGTERM unwind through here (scanner.cli.guard turns SIGTERM into an exception)
        server.serve_forever()
    finally:
        server.server_close()
