"""`docker://REF`: an image in a registry, pulled to an OCI image layout by skopeo and then read like any
layout (scanner.sources.images). This is optional, and it is the one image source that uses the network.
The user names the reference on the command line, skopeo uses its own credentials, and nothing else
touches the registry.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from scanner.errors import UsageError

PREFIX = "docker://"
PULL_TIMEOUT = 1800  # seconds for one image
_REFERENCE = re.compile(r"docker://[A-Za-z0-9][A-Za-z0-9._/:@+-]*")
_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")


def is_reference(text: str) -> bool:
    return text.startswith(PREFIX) and not os.path.exists(text)


def check_reference(ref: str) -> None:
    if not _REFERENCE.fullmatch(ref):
        raise UsageError(f"{ref}: not an image reference (docker://REGISTRY/NAME[:TAG|@DIGEST])")


def pull(ref: str, layout: str) -> None:
    """skopeo copy REF oci:LAYOUT:latest. UsageError without skopeo; OSError naming skopeo's reason when
    the pull fails."""
    from scanner.sources.gitbin import run_tool

    check_reference(ref)
    skopeo = shutil.which("skopeo")
    if skopeo is None:
        raise UsageError(f"{ref}: pulling a registry image needs skopeo on PATH; or save the image first "
                         f"(docker save -o app.tar IMAGE, or skopeo copy {ref} oci-archive:app.tar elsewhere) "
                         "and scan the file")
    os.makedirs(layout, exist_ok=True)
    try:
        proc = run_tool([skopeo, "copy", "--quiet", ref, f"oci:{layout}:latest"], timeout=PULL_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise OSError(f"skopeo copy {ref}: no result within {PULL_TIMEOUT} s") from None
    if proc.returncode != 0:
        lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
        why = _CREDENTIALS.sub("", lines[-1] if lines else f"exit {proc.returncode}")[:300]
        raise OSError(f"skopeo copy {ref} failed: {why}")
