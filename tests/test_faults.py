"""Ordinary contents and ordinary mishaps never crash a run: each is a warning or a clear exit-2 error,
and secrets never appear in a message. Each test here failed before its fix."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from clirun import tokenscan as cli
from tokens import cloudflare

from scanner.report.formats import FORMATS


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "t"
    root.mkdir()
    (root / "a.env").write_text(f"CF_API_TOKEN={cloudflare('cfut_', 11)}\n")
    return root


@pytest.mark.parametrize("fmt", FORMATS)
def test_non_utf8_file_name_is_escaped_the_same_way_in_every_format(tree, tmp_path, fmt):
    os.rename(tree / "a.env", os.path.join(os.fsencode(tree), b"bad\xffname.env"))
    out = tmp_path / f"r.{fmt}"
    res = cli("scan", str(tree), "--format", fmt, "-o", str(out))
    assert res.returncode == 1, res.stderr
    text = out.read_text(encoding="utf-8")
    shown = "bad\\xffname.env"  # the same escape everywhere; JSON writes its backslash as \\
    expected = {"json": json.dumps(shown)[1:-1], "jsonl": json.dumps(shown)[1:-1], "gitlab": json.dumps(shown)[1:-1],
                "sarif": "bad%5Cxffname.env"}
    assert expected.get(fmt, shown) in text  # SARIF: the same name, percent-encoded as a URI
    if fmt == "sarif":  # and on stdout, where it used to crash too
        res = cli("scan", str(tree), "--format", "sarif")
        assert res.returncode == 1 and "bad%5Cxffname.env" in res.stdout


def test_a_gitignore_line_pathspec_rejects_is_a_warning_naming_file_and_line(tree):
    (tree / ".gitignore").write_text("*.log\nbin\\Debug\\\n")
    (tree / "x.log").write_text(f"T={cloudflare('cfut_', 12)}\n")
    res = cli("scan", str(tree))
    assert res.returncode == 1, res.stderr
    assert "bad-ignore-line: " in res.stdout and ".gitignore: line 2: pattern not understood" in res.stdout
    assert "x.log" not in res.stdout  # the good line still applies


def test_a_fifo_is_named_and_skipped_and_a_symlinked_root_is_followed(tree, tmp_path):
    os.mkfifo(tree / "pipe")
    link = tmp_path / "link"
    link.symlink_to(tree, target_is_directory=True)
    res = cli("scan", str(link))
    assert res.returncode == 1, res.stderr
    assert "special-file" in res.stdout and "a FIFO skipped" in res.stdout
    assert "cloudflare-user-api-token" in res.stdout


def test_ignore_file_never_echoes_a_pasted_secret_and_accepts_the_printed_fingerprint(tree):
    tok = cloudflare("cfut_", 11)
    (tree / ".tokenscanignore").write_text(f"{tok}\n")
    res = cli("scan", str(tree))
    assert res.returncode == 2 and ".tokenscanignore:1" in res.stderr
    assert tok not in res.stderr and tok[5:-4] not in res.stderr
    printed = json.loads(cli("scan", str(tree), "--format", "json", "--no-suppress").stdout)["findings"][0]
    (tree / ".tokenscanignore").write_text(printed["fingerprint"][:16] + "\n")
    res = cli("scan", str(tree))
    assert res.returncode == 0 and "ignore-file 1" in res.stdout
    (tree / ".tokenscanignore").write_bytes(b"# caf\xe9\n" + printed["fingerprint"][:16].encode() + b"\n")
    assert cli("scan", str(tree)).returncode == 0


def test_deeply_nested_baseline_is_a_clear_error(tree, tmp_path):
    b = tmp_path / "b.json"
    b.write_text("[" * 100000 + "]" * 100000)
    res = cli("scan", str(tree), "--baseline", str(b))
    assert res.returncode == 2 and "b.json" in res.stderr and "internal error" not in res.stderr


def test_output_trouble_is_a_clear_error(tree, tmp_path):
    with open("/dev/full", "w") as full:
        res = cli("scan", str(tree), stdout=full)
    assert res.returncode == 2 and "No space left" in res.stderr and "internal error" not in res.stderr
    res = subprocess.run(f"{sys.executable} -m scanner scan {tree} >&-", shell=True, capture_output=True, text=True)
    assert res.returncode == 2 and "standard output is closed" in res.stderr
    # -o is checked before the scan, not after it
    res = cli("scan", str(tree), "-o", str(tmp_path / "no" / "such" / "dir" / "r.txt"))
    assert res.returncode == 2 and "does not exist" in res.stderr


def test_jobs_are_capped_at_the_core_count(tree):
    from scanner.cli.shared import scan_options_from as _scan_options
    from scanner.pipeline.run import ScanOptions  # noqa: F401  (the CLI builds one)
    from scanner.pipeline.workers import default_jobs

    kw = dict(rule_files=(), include_invalid_checksum=False, baseline=None, ignore_file=None, no_suppress=False,
              decode_depth=2, quiet=True, jobs=500, force_jobs=False, verify=False)
    assert _scan_options(kw).jobs == default_jobs()
    assert _scan_options({**kw, "force_jobs": True}).jobs == 500


def test_summary_counts_read_as_english(tree):
    res = cli("scan", str(tree / "a.env"))
    assert "1 finding (1 critical) in 1 file," in res.stdout


def test_fail_on_incomplete_fails_the_gate_when_something_could_not_be_read(tree):
    (tree / "a.env").write_text("nothing here\n")
    locked = tree / "locked.env"
    locked.write_text("x\n")
    locked.chmod(0)
    if os.access(locked, os.R_OK):
        pytest.skip("running as a user who can read anything")
    res = cli("scan", str(tree))
    assert res.returncode == 0 and "incomplete: 1 item could not be scanned" in res.stdout
    assert cli("scan", str(tree), "--fail-on-incomplete").returncode == 1


def _descendants(pid: int) -> set[int]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            kids.setdefault(ppid, []).append(int(entry))
    out, todo = set(), [pid]
    while todo:
        for k in kids.get(todo.pop(), []):
            out.add(k)
            todo.append(k)
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def stop_with(proc: subprocess.Popen, sig: int) -> str:
    """Sends sig to a process started in its own session and waits for it (killing its group if it hangs);
    its standard error."""
    os.kill(proc.pid, sig)
    try:
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return err


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_ends_every_worker_and_exits_with_the_signal_code(tmp_path, sig, code):
    """A scan big enough for the process pool, kept busy by a slow rule, is stopped mid-way."""
    root = tmp_path / "big"
    root.mkdir()
    line = "cf_" + "a" * 28 + "!\n"
    for i in range(40):
        (root / f"f{i}.txt").write_text(line * 8000)  # 40 x 256 KB: above the in-process threshold
    rules = tmp_path / "slow.toml"
    rules.write_text('[[rules]]\nid = "slow"\ndescription = "slow"\nseverity = "low"\nkeywords = ["cf_"]\n'
                     # the lookbehind never holds: the native pass (which cannot judge it) lets every line
                     # through, and the regex backtracks on each
                     "regex = '''(cf_(?:a|a?)+(?<=b)!)'''\n")
    proc = subprocess.Popen([sys.executable, "-m", "scanner", "scan", str(root), "--rules", str(rules), "-j", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 30
    while len(_descendants(proc.pid)) < 2 and time.time() < deadline:
        time.sleep(0.05)
    kids = _descendants(proc.pid)
    assert len(kids) >= 2, "the pool never started"
    time.sleep(0.3)
    err = stop_with(proc, sig)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    time.sleep(0.2)
    assert not [k for k in kids if _alive(k)]


def test_exit_code_gate_on_incomplete_and_undecided_verification():
    from scanner.findings import Finding, Verification, Warning
    from scanner.pipeline.run import exit_code
    from scanner.report import Report

    def finding(status):
        return Finding("r", "d", "high", "s" * 30, "f" * 64, "p", 1, 1, verification=Verification(status))

    clean_but_partial = Report("history", ".", [], [Warning("corrupt-object", "cannot read blob 1234")])
    assert exit_code(clean_but_partial, "any") == 0
    assert exit_code(clean_but_partial, "any", fail_on_incomplete=True) == 1
    skipped_by_design = Report("scan", ".", [], [Warning("binary", "binary file skipped")])
    assert exit_code(skipped_by_design, "any", fail_on_incomplete=True) == 0
    for status, gate in (("live", 1), ("unknown", 1), ("not-checked", 1), ("invalid", 0), ("inactive", 0)):
        assert exit_code(Report("scan", ".", [finding(status)], []), "live") == gate, status
    assert exit_code(Report("scan", ".", [finding("unknown")], []), "live", allow_unknown=True) == 0


def test_skips_by_design_are_counted_not_listed_unless_asked(tmp_path):
    for i in range(30):
        (tmp_path / f"b{i}.bin").write_bytes(b"\0binary")
    (tmp_path / "link").symlink_to(tmp_path / "b0.bin")
    body = json.loads(cli("scan", str(tmp_path), "--format", "json").stdout)["scan"]
    assert body["skipped"] == {"binary": 30, "symlink": 1} and body["warnings"] == []
    body = json.loads(cli("scan", str(tmp_path), "--format", "json", "--list-skipped").stdout)["scan"]
    assert len(body["warnings"]) == 31 and body["skipped"] == {}
