"""Development judge (not part of the test suite): recall and false alarms on text other people wrote.

    python tests/bench/bench_recall.py --kingfisher KF_GIT_DIR [--gitleaks GL_GIT_DIR] [--betterleaks BL_GIT_DIR]
                                       [--trufflehog TH_GIT_DIR] [--noseyparker NP_GIT_DIR] [--secretlint SL_GIT_DIR]
                                       [--semgrep SG_GIT_DIR] [--generated] [--vendor NAME] [-v]

Reads, at run time and from the git directories given (nothing is fetched), the examples the peers publish
with their own rules: Kingfisher's `data/rules/*.yml` (`examples`, `negative_examples`) and gitleaks'
`cmd/generate/config/rules/*.go` (string literals written whole as elements of `tps`/`fps` or appended to
them, and sample secrets written whole for the generator; generated ones are not text anyone wrote, and are
read only with --generated, filled with random bodies), betterleaks' (a gitleaks fork, the same layout), and
the inputs of TruffleHog's detector pattern tests (`pkg/detectors/*/*_test.go`, literals, the file's string
variables and fmt.Sprintf of them). Each example becomes one file; one `tokenscan scan --format json` over
them says which files held a finding. Prints, per vendor and overall: positives found (all, and those whose
rule's secret opens with a literal prefix: the formats that can be found with certainty) and negatives
reported. Peers on PATH (`kingfisher`, `gitleaks`) are not run here: their own
examples would flatter them. Facts about formats only: nothing of the peers' rules is copied.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import string
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from common import tokenscan_cmd  # noqa: E402

# an independent reading of "looks like a placeholder" (not tokenscan's filter): fillers people type
PLACEHOLDERISH = re.compile(r"(?i)x{4}|0{6}|1234|2345|abcd|bcde|wxyz|example|sample|your|dummy|fake|test|<|\.\.\.")
_TH_PREFIXED = re.compile(r"^[A-Za-z][A-Za-z0-9]{1,15}[_-][A-Za-z0-9_-]{12,}")  # a reported value's vendor prefix


@dataclass(frozen=True)
class Example:
    vendor: str
    rule: str
    text: str
    positive: bool
    prefixed: bool


def _git(git_dir: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", git_dir, *args], capture_output=True, text=True, check=True).stdout


def _prefixed(pattern: str) -> bool:
    """Whether the secret starts with a literal vendor prefix (`sgp_`, `xoxb-`, `AKIA`...): a literal of three or
    more characters, two of them letters, at the start of the rule's first capturing group or written right
    before it (`sbp_(...)`), or an alternation of such literals (`(?:AKIA|ASIA)`). Read from the parsed pattern,
    so a keyword followed by a gap (`slack.{0,32}(...)`) is no prefix."""
    from re import _constants as c
    from re import _parser

    text = re.sub(r"\\[pP]\{\w+\}", "a", pattern).replace("\\z", "$")
    text = re.sub(r"\(\?[a-zA-Z-]+\)", "", text)  # flags anywhere (Go and Rust allow them mid-pattern): case is no matter here
    try:
        tree = list(_parser.parse(text, 0))
    except (re.error, OverflowError, RecursionError):
        return False

    def lead(items: list) -> str:  # the literal every match of `items` starts with
        out = ""
        for op, av in items:
            if op is c.AT:
                continue
            if op is c.LITERAL:
                out += chr(av)
            elif op is c.IN and len(av) == 2 and all(o is c.LITERAL for o, _ in av):
                out += chr(av[0][1])  # [Ss]: either case of one letter
            elif op is c.SUBPATTERN and av[0] is None:
                inner = list(av[3])
                out += lead(inner)
                if not all(o in (c.LITERAL, c.AT) for o, _ in inner):
                    return out
            elif op is c.BRANCH:
                alts = [lead(list(a)) for a in av[1]]
                return out + min(alts, key=len)
            else:
                return out
        return out

    def split(items: list) -> tuple[list, list] | None:  # (what comes before the first group, the group)
        for i, (op, av) in enumerate(items):
            if op is c.SUBPATTERN:
                if av[0] is not None:
                    return items[:i], list(av[3])
                inner = split(list(av[3]))
                if inner:
                    return items[:i] + inner[0], inner[1]
        return None

    parts = split(tree)
    before, group = parts if parts else ([], tree)
    tail = ""
    for op, av in reversed(before):
        if op is c.AT:
            continue
        if op is not c.LITERAL:
            break
        tail = chr(av) + tail
    literal = tail + lead(group)
    return len(literal) >= 3 and sum(ch.isalpha() for ch in literal) >= 2


def kingfisher(git_dir: str, rules_dir: str = "data/rules") -> list[Example]:
    import yaml

    out = []
    for path in _git(git_dir, "ls-tree", "-r", "--name-only", "HEAD", "--", rules_dir).split():
        if not path.endswith((".yml", ".yaml")):
            continue
        vendor = os.path.basename(path).rsplit(".", 1)[0]
        try:
            doc = yaml.safe_load(_git(git_dir, "show", f"HEAD:{path}")) or {}
        except yaml.YAMLError:
            continue
        for rule in doc.get("rules", []) or []:
            pre = _prefixed(str(rule.get("pattern", "")))
            for key, positive in (("examples", True), ("negative_examples", False)):
                for ex in rule.get(key) or []:
                    out.append(Example(vendor, str(rule.get("id")), str(ex), positive, pre))
    return out


def noseyparker(git_dir: str) -> list[Example]:
    """Nosey Parker's rules (Kingfisher's ancestor, the same YAML with examples and negative_examples)."""
    return kingfisher(git_dir, "crates/noseyparker/data/default/builtin/rules")


_SECRETLINT_NOT_VENDOR = ("preset-", "pattern", "filter-comments", "no-", "example")


def secretlint(git_dir: str) -> list[Example]:
    """secretlint's rule snapshots (`packages/@secretlint/secretlint-rule-*/test/snapshots/*/input*`): an input
    whose output.json reports messages is a positive (prefixed when a reported value opens with a vendor
    prefix), one that reports none a negative. Rules that are no vendor's format (presets, user patterns,
    comment filters, no-dotenv and the like) are left out."""
    out = []
    for path in _git(git_dir, "ls-tree", "-r", "--name-only", "HEAD", "--", "packages/@secretlint").split():
        m = re.match(r"packages/@secretlint/secretlint-rule-([^/]+)/test/snapshots/([^/]+)/input[^/]*$", path)
        if not m or m.group(1).startswith(_SECRETLINT_NOT_VENDOR):
            continue
        folder = path.rsplit("/", 1)[0]
        try:
            report = json.loads(_git(git_dir, "show", f"HEAD:{folder}/output.json"))
        except (subprocess.CalledProcessError, ValueError):
            continue
        values = [str(v) for msg in report.get("messages", []) for v in (msg.get("data") or {}).values()]
        raw = subprocess.run(["git", "--git-dir", git_dir, "show", f"HEAD:{path}"], capture_output=True).stdout
        if b"\0" in raw:  # a binary input (an archive, a key file): not one example's text
            continue
        text = raw.decode("utf-8", "surrogateescape")
        out.append(Example(m.group(1), f"{m.group(1)}/{m.group(2)}", text, bool(report.get("messages")),
                           any(_TH_PREFIXED.match(v) for v in values)))
    return out


_SEMGREP_MARK = re.compile(r"^\s*(?:#|//|<!--|/\*)\s*(ruleid|ok|todoruleid|todook)\s*:\s*([\w.-]+)")


def semgrep(git_dir: str) -> list[Example]:
    """semgrep-rules' secret rules (`generic/secrets/**`): each rule's test file marks the example after a
    `ruleid: <id>` comment as one it must match and the example after `ok: <id>` as one it must not. An
    example is the lines up to a blank one, or to an armored block's END line. Prefixed is read from the
    rule's `pattern-regex` or `metavariable-regex` in the YAML beside it."""
    import yaml

    out = []
    for path in _git(git_dir, "ls-tree", "-r", "--name-only", "HEAD", "--", "generic/secrets").split():
        if path.endswith((".yaml", ".yml", ".md")):
            continue
        stem = path.rsplit(".", 1)[0]
        try:
            doc = yaml.safe_load(_git(git_dir, "show", f"HEAD:{stem}.yaml")) or {}
        except (subprocess.CalledProcessError, yaml.YAMLError):
            continue
        regexes = re.findall(r"(?:pattern-regex|regex):\s*(.+)", yaml.safe_dump(doc, width=10**6))
        pre = any(_prefixed(r.strip().strip("'\"")) for r in regexes)
        vendor = os.path.basename(stem).removeprefix("detected-").split("-")[0]
        lines = _git(git_dir, "show", f"HEAD:{path}").splitlines()
        for i, line in enumerate(lines):
            m = _SEMGREP_MARK.match(line)
            if not m or m.group(1).startswith("todo"):
                continue
            block: list[str] = []
            for ln in lines[i + 1:]:
                armored = bool(block) and block[0].startswith("-----BEGIN") and "-----END" not in block[-1]
                if _SEMGREP_MARK.match(ln) or (not ln.strip() and block and not armored):
                    break
                if ln.strip():
                    block.append(ln)
            if block:
                out.append(Example(vendor, m.group(2), "\n".join(block), m.group(1) == "ruleid", pre))
    return out


_GO_LIST = re.compile(r"\b(tps|fps)\s*:?=\s*\[\]string\s*\{(.*?)\n\s*\}", re.S)
_GO_VAR = re.compile(r"\nvar\s+(\w+)\s*=\s*\[\]string\s*\{(.*?)\n\}", re.S)
_GO_APPEND = re.compile(r"\b(tps|fps)\s*:?=\s*append\(")
_GO_STR = re.compile(r'`([^`]*)`|"((?:[^"\\\n]|\\.)*)"')
# a sample secret written whole, which the peer's generator puts into assignments: one assignment of ours
_GO_SAMPLE = re.compile(r'GenerateSampleSecrets?\(\s*"([^"]+)"\s*,\s*(`[^`]*`|"(?:[^"\\\n]|\\.)*")\s*\)')


def gitleaks(git_dir: str) -> list[Example]:
    out = []
    for path in _git(git_dir, "ls-tree", "-r", "--name-only", "HEAD", "--", "cmd/generate/config/rules").split():
        if not path.endswith(".go"):
            continue
        src = _git(git_dir, "show", f"HEAD:{path}")
        vendor = os.path.basename(path)[:-3]
        # lists written once beside the rules (`var api_keys = []string{...}`) and appended to tps or fps
        named = {m.group(1): m.group(2) for m in _GO_VAR.finditer(src)}
        for func in re.split(r"\nfunc ", src)[1:]:
            rid = re.search(r'RuleID:\s*"([^"]+)"', func)
            regex = re.search(r"Regex:\s*[^\n]*?`([^`]*)`", func)
            pre = _prefixed(regex.group(1)) if regex else False
            lists = [(m.group(1), m.group(2)) for m in _GO_LIST.finditer(func)]
            for m in _GO_APPEND.finditer(func):  # append(tps, `literal`, ..., named...): the literals and the lists
                args = _go_elements(_balanced(func, m.end()))[1:]
                lists.extend((m.group(1), named[a[:-3]]) for a in args if a.endswith("...") and a[:-3] in named)
                lists.append((m.group(1), ",".join(a for a in args if _GO_STR.fullmatch(a))))
            for m in _GO_SAMPLE.finditer(func):
                s = _GO_STR.fullmatch(m.group(2))
                value = _go_literal(s)
                out.append(Example(vendor, rid.group(1) if rid else vendor, f'{m.group(1)}_token = "{value}"', True, pre))
            for kind, body in lists:
                for element in _go_elements(body):
                    s = _GO_STR.fullmatch(element)
                    if s is None:  # a call (generated secrets), a concatenation: not text someone wrote
                        continue
                    text = _go_literal(s)
                    if text.strip():
                        out.append(Example(vendor, rid.group(1) if rid else vendor, text, kind == "tps", pre))
    return out


_GO_GENERATED = re.compile(r'GenerateSampleSecrets?\(\s*"([^"]+)"\s*,\s*((?:[^()\n]|\((?:[^()\n]|\([^()\n]*\))*\))+)\)')
_GO_CLASS = {"Numeric": "[0-9]", "Hex": "[a-f0-9]", "AlphaNumeric": "[a-z0-9]", "AlphaNumericExtendedShort": "[a-z0-9_-]",
             "AlphaNumericExtended": "[a-z0-9=_-]", "AlphaNumericExtendedLong": "[a-z0-9/=_+-]"}


def _go_literal(m: re.Match[str]) -> str:
    """The value of a Go string literal matched by _GO_STR: a raw string as written, an interpreted one unescaped."""
    return m.group(1) if m.group(1) is not None else bytes(m.group(2), "utf-8").decode("unicode_escape")


def _go_pattern(arg: str) -> str | None:
    """The regex a `secrets.NewSecret(...)` argument stands for: a `utils` class (`utils.Hex("32")`), a regex
    literal, or a concatenation of them; None for anything else (a variable, a Sprintf)."""
    out = []
    for part in re.split(r"\s*\+\s*", arg.strip()):
        if m := re.fullmatch(r'utils\.(\w+)\("([0-9,]+)"\)', part):
            if m.group(1) not in _GO_CLASS:
                return None
            out.append(f"{_GO_CLASS[m.group(1)]}{{{m.group(2)}}}")
        elif part == "utils.Hex8_4_4_4_12()":
            out.append("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
        elif s := _GO_STR.fullmatch(part):
            out.append(_go_literal(s))
        else:
            return None
    return "".join(out)


def _generate(pattern: str, rnd: random.Random) -> str | None:
    """One random string of a simple regex (literals, classes, groups, alternation, bounded repeats)."""
    from re import _constants as c
    from re import _parser

    def run(items: Any) -> str:
        out = []
        for op, av in items:
            if op is c.LITERAL:
                out.append(chr(av))
            elif op is c.IN:
                chars = []
                for o, a in av:
                    if o is c.LITERAL:
                        chars.append(chr(a))
                    elif o is c.RANGE:
                        chars.extend(chr(x) for x in range(a[0], a[1] + 1))
                    elif o is c.CATEGORY:
                        chars.extend("0123456789" if a is c.CATEGORY_DIGIT else string.ascii_letters + string.digits + "_")
                    else:
                        raise ValueError(o)
                out.append(rnd.choice(chars))
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
                lo, hi, sub = av
                hi = lo + 8 if hi is c.MAXREPEAT else hi
                out.extend(run(sub) for _ in range(rnd.randint(lo, hi)))
            elif op is c.SUBPATTERN:
                out.append(run(av[3]))
            elif op is c.BRANCH:
                out.append(run(rnd.choice(av[1])))
            elif op is not c.AT:
                raise ValueError(op)
        return "".join(out)

    try:
        return run(_parser.parse(pattern, 0))
    except (ValueError, re.error):
        return None


def gitleaks_generated(git_dir: str) -> list[Example]:
    """The samples gitleaks' (or betterleaks') generator makes from a prefix and a class (`"tfp_" +
    secrets.NewSecret(utils.AlphaNumericExtended("59"))`), filled here with random bodies: the peer's reading
    of each format's length and alphabet, not text anyone wrote (a checksummed format cannot pass)."""
    rnd = random.Random(0)
    out = []
    for path in _git(git_dir, "ls-tree", "-r", "--name-only", "HEAD", "--", "cmd/generate/config/rules").split():
        if not path.endswith(".go"):
            continue
        for func in re.split(r"\nfunc ", _git(git_dir, "show", f"HEAD:{path}"))[1:]:
            rid = re.search(r'RuleID:\s*"([^"]+)"', func)
            regex = re.search(r"Regex:\s*[^\n]*?`([^`]*)`", func)
            if not (rid and regex and _prefixed(regex.group(1))):
                continue
            for m in _GO_GENERATED.finditer(func):
                pieces = []
                for part in re.split(r"\s*\+\s*(?![^(]*\))", m.group(2).strip()):
                    if g := re.fullmatch(r"secrets\.NewSecret(?:WithEntropy)?\((.*?)(?:,\s*[0-9.]+)?\)", part):
                        pieces.append(_go_pattern(g.group(1)))
                    else:
                        pieces.append(_go_pattern(part))
                if any(p is None for p in pieces):
                    continue
                value = _generate("".join(p for p in pieces if p), rnd)
                if value:
                    out.append(Example(os.path.basename(path)[:-3], rid.group(1), f'{m.group(1)}_token = "{value}"', True, True))
    return out


_TH_CASE = re.compile(r'input:\s*((?:`[^`]*`|"(?:[^"\\\n]|\\.)*"|\w+|fmt\.Sprintf\([^\n]*\))),?\s*\n?\s*'
                      r'want:\s*(nil|\[\]string\{(.*?)\})', re.S)
_TH_VAR = re.compile(r'^\s*(\w+)\s*:?=\s*(`[^`]*`|"(?:[^"\\\n]|\\.)*")', re.M)


def _go_value(expr: str, names: dict[str, str]) -> str | None:
    """A Go string expression's value: a literal, a variable holding one, or fmt.Sprintf of those with %s."""
    expr = expr.strip()
    if s := _GO_STR.fullmatch(expr):
        return _go_literal(s)
    if expr in names:
        return names[expr]
    if expr.startswith("fmt.Sprintf(") and expr.endswith(")"):
        args = [_go_value(a, names) for a in _go_elements(expr[len("fmt.Sprintf("):-1])]
        if args and None not in args and args[0].count("%s") == len(args) - 1:
            return args[0].replace("%s", "{}").format(*args[1:])
    return None


def trufflehog(git_dir: str) -> list[Example]:
    """The pattern tests of TruffleHog's detectors (`pkg/detectors/*/…_test.go`, not the integration tests):
    each case's `input` is an example (a literal, a variable the file defines, or fmt.Sprintf of them),
    positive when it `want`s secrets (prefixed when one of them opens with a vendor prefix such as `cfut_`),
    negative when it wants none."""
    out = []
    for path in _git(git_dir, "ls-tree", "-r", "--name-only", "HEAD", "--", "pkg/detectors").split():
        if not path.endswith("_test.go") or path.endswith("_integration_test.go"):
            continue
        vendor = path.split("/")[2]
        src = _git(git_dir, "show", f"HEAD:{path}")
        names = {m.group(1): v for m in _TH_VAR.finditer(src) if (v := _go_value(m.group(2), {})) is not None}
        for m in _TH_CASE.finditer(src):
            text = _go_value(m.group(1), names)
            if text is None or not text.strip():
                continue
            wants = [] if m.group(2) == "nil" else [w for e in _go_elements(m.group(3) or "")
                                                    if (w := _go_value(e, names)) is not None]
            out.append(Example(vendor, vendor, text, m.group(2) != "nil", any(_TH_PREFIXED.match(w) for w in wants)))
    return out


def _balanced(src: str, start: int) -> str:
    """The text from start up to the parenthesis that closes the one just before start (strings skipped)."""
    depth, i = 1, start
    while i < len(src) and depth:
        if src[i] in "`\"" and (m := _GO_STR.match(src, i)):
            i = m.end()
            continue
        depth += {"(": 1, ")": -1}.get(src[i], 0)
        i += 1
    return src[start:i - 1]


def _go_elements(body: str) -> list[str]:
    """The top-level elements of a Go composite literal's body, comments dropped, each stripped."""
    out, depth, cur, i = [], 0, [], 0
    while i < len(body):
        c = body[i]
        if body.startswith("//", i):
            i = body.find("\n", i)
            i = len(body) if i < 0 else i
            continue
        if c in "`\"":
            m = _GO_STR.match(body, i)
            if m:
                cur.append(m.group(0))
                i = m.end()
                continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append("".join(cur).strip())
    return [e for e in out if e]


def judge(examples: list[Example], verbose: bool, extra: tuple[str, ...] = ()) -> None:
    # a negative of one rule that is another rule's positive (Cloudflare's key rule lists the token rule's
    # examples as its negatives) is no negative of the formats at all: left out
    claimed = {ex.text for ex in examples if ex.positive}
    examples = [ex for ex in examples if ex.positive or ex.text not in claimed]
    with tempfile.TemporaryDirectory() as tmp:
        names = {}
        for i, ex in enumerate(examples):
            name = os.path.join(tmp, f"{i:05d}.txt")
            with open(name, "w", encoding="utf-8", errors="surrogateescape") as fh:
                fh.write(ex.text + "\n")
            names[name] = ex
        proc = subprocess.run([*tokenscan_cmd(), "scan", "--format", "json", "--no-color", *extra, tmp],
                              capture_output=True, text=True)
        if proc.returncode not in (0, 1):
            raise SystemExit(proc.stderr)
        hit = {f["path"] for f in json.loads(proc.stdout)["findings"]}
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0, 0, 0, 0, 0])
    # pos, found, prefixed, prefixed found, neg, neg reported, realistic prefixed, realistic prefixed found
    missed: list[Example] = []
    reported: list[Example] = []
    for name, ex in names.items():
        row = per[ex.vendor]
        found = name in hit
        if ex.positive:
            row[0] += 1
            row[1] += found
            if ex.prefixed:
                row[2] += 1
                row[3] += found
                if not PLACEHOLDERISH.search(ex.text):
                    row[6] += 1
                    row[7] += found
                if not found:
                    missed.append(ex)
        else:
            row[4] += 1
            row[5] += found
            if found:
                reported.append(ex)
    total = [sum(r[i] for r in per.values()) for i in range(8)]
    print(f"{'vendor':24} {'positives':>12} {'prefixed':>12} {'negatives reported':>20}")
    for vendor, r in sorted(per.items()):
        if verbose or r[3] < r[2] or r[5]:
            print(f"{vendor:24} {r[1]:>5}/{r[0]:<6} {r[3]:>5}/{r[2]:<6} {r[5]:>8}/{r[4]:<6}")
    pct = lambda a, b: f"{100 * a / b:.1f}%" if b else "-"  # noqa: E731
    print(f"\nall positives found: {total[1]}/{total[0]} ({pct(total[1], total[0])}); prefixed: {total[3]}/{total[2]} "
          f"({pct(total[3], total[2])}); prefixed, not placeholder-looking: {total[7]}/{total[6]} ({pct(total[7], total[6])}); "
          f"negatives reported: {total[5]}/{total[4]} ({pct(total[5], total[4])})")
    if verbose:
        for ex in missed:
            kind = "placeholder-looking" if PLACEHOLDERISH.search(ex.text) else "realistic"
            print("MISSED", kind, ex.vendor, ex.rule, ex.text[:120].replace("\n", " "))
        for ex in reported:
            print("REPORTED", ex.vendor, ex.rule, ex.text[:120].replace("\n", " "))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kingfisher", metavar="GIT_DIR")
    ap.add_argument("--gitleaks", metavar="GIT_DIR")
    ap.add_argument("--betterleaks", metavar="GIT_DIR", help="betterleaks (a gitleaks fork: the same layout)")
    ap.add_argument("--trufflehog", metavar="GIT_DIR", help="TruffleHog (its detectors' pattern tests)")
    ap.add_argument("--noseyparker", metavar="GIT_DIR", help="Nosey Parker (Kingfisher's ancestor: the same YAML)")
    ap.add_argument("--secretlint", metavar="GIT_DIR", help="secretlint (its rules' test snapshots)")
    ap.add_argument("--semgrep", metavar="GIT_DIR", help="semgrep-rules (its secret rules' annotated tests)")
    ap.add_argument("--generated", action="store_true",
                    help="also gitleaks' and betterleaks' generated samples, with random bodies (their reading of lengths)")
    ap.add_argument("--vendor", help="only this vendor (file name without extension)")
    ap.add_argument("--hide-invalid-checksum", action="store_true",
                    help="leave out candidates whose checksum fails (tokenscan lists them, never gating, by default)")
    ap.add_argument("-v", "--verbose", action="store_true", help="every vendor, and each example missed or reported")
    a = ap.parse_args()
    sources = (("Kingfisher", a.kingfisher, kingfisher), ("gitleaks", a.gitleaks, gitleaks),
               ("betterleaks", a.betterleaks, gitleaks), ("TruffleHog", a.trufflehog, trufflehog),
               ("Nosey Parker", a.noseyparker, noseyparker), ("secretlint", a.secretlint, secretlint),
               ("semgrep-rules", a.semgrep, semgrep))
    if not any(git_dir for _, git_dir, _ in sources):
        ap.error("give one or more of --kingfisher, --gitleaks, --betterleaks, --trufflehog, --noseyparker, "
                 "--secretlint, --semgrep (git directories, e.g. a clone's)")
    for label, git_dir, read in sources:
        if git_dir:
            examples = [e for e in read(git_dir) if not a.vendor or e.vendor == a.vendor]
            print(f"== {label} examples ({git_dir}): {len(examples)}")
            judge(examples, a.verbose, ("--hide-invalid-checksum",) if a.hide_invalid_checksum else ())
            if a.generated and read is gitleaks:
                examples = [e for e in gitleaks_generated(git_dir) if not a.vendor or e.vendor == a.vendor]
                print(f"== {label} generated samples ({git_dir}): {len(examples)}")
                judge(examples, a.verbose, ("--hide-invalid-checksum",) if a.hide_invalid_checksum else ())


if __name__ == "__main__":
    main()
