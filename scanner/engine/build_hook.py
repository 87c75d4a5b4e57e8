"""Build step (hatchling custom hook, see pyproject.toml): compiles `_runs.c` into the wheel.

Where no C compiler is found, or it fails, the wheel stays pure Python and says so: `scanner.engine.runs`
then finds the same runs in Python, slower. Only the interpreter's own build settings are used (sysconfig's
compiler, flags and include folder), so nothing else is needed to build. An editable install puts the
module beside its source, where the package imports it from.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import sysconfig
import tempfile
from typing import Any

try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # imported outside a build (the tests compile with compile_runs)
    BuildHookInterface = object  # type: ignore[assignment,misc]

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "_runs.c")
MODULE = "_runs" + (sysconfig.get_config_var("EXT_SUFFIX") or ".so")


def compile_runs(out_dir: str) -> tuple[str | None, str]:
    """(path of the compiled module in out_dir, or None; the compiler's complaint when it failed)."""
    ldshared = sysconfig.get_config_var("LDSHARED")
    include = sysconfig.get_paths()["include"]
    if not ldshared or sys.platform == "win32":
        return None, "no C compiler configured for this Python"
    out = os.path.join(out_dir, MODULE)
    cmd = [*shlex.split(ldshared), *shlex.split(sysconfig.get_config_var("CCSHARED") or ""), "-O2",
           f"-I{include}", SOURCE, "-o", out]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, str(exc)
    if proc.returncode != 0 or not os.path.exists(out):
        return None, (proc.stderr or proc.stdout).strip()[-2000:]
    return out, ""


class NativeRunsHook(BuildHookInterface):  # type: ignore[misc,valid-type]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        out_dir = HERE if version == "editable" else tempfile.mkdtemp(prefix="tokenscan-build-")
        built, error = compile_runs(out_dir)
        if built is None:
            print(f"tokenscan: _runs.c not compiled ({error}); the pure-Python run finder is used", file=sys.stderr)
            return
        if version != "editable":
            build_data["force_include"][built] = f"scanner/engine/{MODULE}"
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
