"""How every command ends when something goes wrong: bad input is one stderr line and exit 2, Ctrl-C 130,
SIGTERM 143, a closed pipe 1, a bug one line and exit 2 (TOKENSCAN_DEBUG=1 shows its traceback); never a
traceback otherwise. Shared by the click group and the pre-commit hook's lean path (scanner/cli/precommit.py),
so both end alike. Imports nothing heavy: the lean path must not pay for click."""

from __future__ import annotations

import os
import signal
import sys
from typing import Callable

from scanner.errors import UsageError


class Terminated(BaseException):
    """SIGTERM (CI cancel, `timeout`, `docker stop`) unwinds like Ctrl-C: workers and git helpers are ended
    and waited for on the way out, so nothing is left holding the caller's pipes."""


def on_sigterm(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # once is enough: the unwinding must not be interrupted
    raise Terminated()


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def guarded(fn: Callable[[], object], passthrough: tuple[type[BaseException], ...] = ()) -> int | None:
    """Runs fn; the exit code its failure means, or None when it returned (SystemExit and the passthrough
    exceptions, click's own, go on up)."""
    try:
        fn()
    except passthrough:
        raise
    except UsageError as exc:
        say(f"tokenscan: error: {exc}")
        return 2
    except KeyboardInterrupt:
        say("tokenscan: interrupted")
        return 130
    except Terminated:
        say("tokenscan: terminated")
        return 143
    except BrokenPipeError:  # `tokenscan ... | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # a bug: say so briefly; TOKENSCAN_DEBUG=1 shows the traceback
        if os.environ.get("TOKENSCAN_DEBUG"):
            raise
        say(f"tokenscan: internal error: {type(exc).__name__}: {exc}")
        return 2
    return None
