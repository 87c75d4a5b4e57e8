"""`tokenscan serve`: triage in a browser, over the audit datastore.

It is a small Flask application, rendered on the server. Every read goes through the Datastore methods the
CLI uses (findings_view, triage_history), and every decision through Datastore.triage_set, recorded with who
and when exactly as `tokenscan triage set` records it.

- **Network.** It is bound to 127.0.0.1 unless the user names another host. A request whose Host header is
  not this server's is refused, so a web page cannot reach the server through DNS rebinding.
- **Writes.** Every POST carries a CSRF token tied to the browser's session and comes from this origin.
- **Pages.** Each page's Content-Security-Policy allows only this origin's own stylesheet and script, and the
  pages load nothing from any other host.
- **Secrets.** No secret reaches a page unless the datastore holds it and `--show-secrets` was given.
"""
