import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser

import jsonschema
import pytest
from clirun import ROOT
from gitrepo import Repo
from plant import plant_tree
from tokens import cloudflare

from scanner.pipeline.run import ScanOptions, history_scan, scan_paths
from scanner.report import render

SCHEMA = ROOT / "fixtures" / "sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    root = tmp_path_factory.mktemp("rep")
    expected = plant_tree(root)
    return root, expected, scan_paths([str(root)], ScanOptions(jobs=1))


def test_sarif_validates_against_the_schema_and_is_redacted(planted):
    root, expected, report = planted
    text = render(report, "sarif", show_secrets=False)
    doc = json.loads(text)
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    run = doc["runs"][0]
    assert len(run["results"]) == len(report.findings)
    used = {f.rule_id for f in report.findings}
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == used
    res = run["results"][0]
    assert res["properties"]["secretFingerprint"] == report.findings[0].fingerprint
    assert len({r["partialFingerprints"]["tokenscanSecretAt/v1"] for r in run["results"]}) == len(run["results"])
    assert all(d["help"]["text"] for d in run["tool"]["driver"]["rules"])
    assert all(d["helpUri"].startswith("https://developers.cloudflare.com/")
               for d in run["tool"]["driver"]["rules"] if d["id"].startswith("cloudflare-"))
    assert res["locations"][0]["physicalLocation"]["region"]["startLine"] == report.findings[0].line
    assert res["level"] in ("error", "warning", "note")
    for _, secret in expected:
        assert secret not in text


def test_jsonl_one_finding_per_line(planted):
    _, _, report = planted
    lines = render(report, "jsonl", show_secrets=False).splitlines()
    assert len(lines) == len(report.findings)
    assert all(json.loads(line)["fingerprint"] for line in lines)


class _Collect(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows, self.external, self.selects = 0, [], 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-rule" in a and a.get("class") != "fix":
            self.rows += 1
        if tag == "select":
            self.selects += 1
        for key in ("src", "href"):  # anything the page would fetch; a link a person may follow is not
            if a.get(key, "").startswith(("http:", "https:", "//")) and not (tag == "a" and key == "href"):
                self.external.append(a[key])


def test_html_is_self_contained_filterable_and_redacted(tmp_path):
    r = Repo(tmp_path / "repo")
    tok = cloudflare("cfut_", 60)
    r.commit("leak", **{"a.env": f"T={tok}\n<script>x</script>\n"})
    report = history_scan(str(r.path), ScanOptions(jobs=1))
    html = render(report, "html", show_secrets=False)
    p = _Collect()
    p.feed(html)
    assert p.rows == 1 and p.selects == 2 and p.external == []
    assert tok not in html and "still at HEAD" in html and "Timeline" in html


@pytest.mark.skipif(not shutil.which("chromium"), reason="chromium not installed")
def test_html_renders_in_headless_chromium(planted, tmp_path):
    _, _, report = planted
    page = tmp_path / "report.html"
    page.write_text(render(report, "html", show_secrets=False))
    out = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                          "--disable-background-networking", "--disable-component-update", "--disable-sync",
                          f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert f'<span id="shown">{len(report.findings)}</span>' in out.stdout  # the filter script ran


def test_default_outputs_never_hold_a_secret(planted):
    root, expected, _ = planted
    for fmt in ("text", "json", "jsonl", "sarif", "html"):
        res = subprocess.run([sys.executable, "-m", "scanner", "scan", str(root), "--format", fmt],
                             capture_output=True, text=True)
        assert res.returncode == 1
        for _, secret in expected:
            assert secret not in res.stdout and secret not in res.stderr, fmt


def test_sarif_places_commit_messages_logically_and_html_names_the_repository(tmp_path):
    r = Repo(tmp_path / "my-project")
    tok = cloudflare("cfut_", 77)
    r.commit(f"deploy with {tok}", a="1\n")
    r.commit("copy", **{"one.env": f"T={tok}\n", "two.env": f"T={tok}\n"})
    report = history_scan(str(r.path), ScanOptions(jobs=1))
    doc = json.loads(render(report, "sarif", show_secrets=False))
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    results = doc["runs"][0]["results"]
    msg = [x for x in results if x["properties"]["source"] == "commit-message"]
    assert msg and msg[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        f"commit/{msg[0]['properties']['commit']}/message"  # GitHub drops a result without one
    assert msg[0]["locations"][0]["logicalLocations"][0]["name"].startswith("commit ")
    files = [x for x in results if x["properties"]["source"] != "commit-message"]
    assert len(files) == 2 and len({x["partialFingerprints"]["tokenscanSecretAt/v1"] for x in files}) == 2
    page = render(report, "html", show_secrets=False)
    assert "<title>tokenscan report: history of my-project</title>" in page
    assert "</b>live</div>" not in page  # nothing was verified: no "0 live" card


def test_every_format_says_what_to_do(planted):
    _, _, report = planted
    cf = next(f for f in report.findings if f.rule_id.startswith("cloudflare-"))
    url = "https://developers.cloudflare.com/"
    assert "fix: " in render(report, "text", show_secrets=False)
    body = json.loads(render(report, "json", show_secrets=False))
    rem = next(x["remediation"] for x in body["findings"] if x["rule_id"] == cf.rule_id)
    assert rem["what"] and rem["url"].startswith(url)
    sarif = json.loads(render(report, "sarif", show_secrets=False))
    rule = next(d for d in sarif["runs"][0]["tool"]["driver"]["rules"] if d["id"] == cf.rule_id)
    assert rule["helpUri"].startswith(url) and rule["help"]["text"].startswith(rem["what"])
    page = render(report, "html", show_secrets=False)
    assert page.count('class="fix"') == len(report.findings) and f'href="{rem["url"]}"' in page


def test_every_machine_format_carries_what_was_not_scanned(tmp_path):
    """Issue 28: a damaged history's missing object is in JSON's scan.incomplete, a JSONL line of its own
    and SARIF's invocation (executionSuccessful false, a notification naming the file); schema-valid."""
    r = Repo(tmp_path / "r")
    r.commit("init", **{"ok.env": f"T={cloudflare('cfut_', 281)}\n", "lost.txt": "gone\n"})
    oid = r.git("rev-parse", "HEAD:lost.txt")
    (r.path / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    report = history_scan(str(r.path), ScanOptions(jobs=1))
    assert [w.path for w in report.incomplete] == ["lost.txt"]
    data = json.loads(render(report, "json", show_secrets=False))
    assert [w["path"] for w in data["scan"]["incomplete"]] == ["lost.txt"]
    lines = [json.loads(x) for x in render(report, "jsonl", show_secrets=False).splitlines()]
    assert [x["incomplete"]["path"] for x in lines if "incomplete" in x] == ["lost.txt"]
    assert sum(1 for x in lines if "fingerprint" in x) == len(report.findings) == 1
    doc = json.loads(render(report, "sarif", show_secrets=False))
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))
    [inv] = doc["runs"][0]["invocations"]
    assert inv["executionSuccessful"] is False
    [note] = inv["toolExecutionNotifications"]
    assert note["descriptor"]["id"] == "missing-object" and oid in note["message"]["text"]
    assert note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "lost.txt"
    clean = scan_paths([str(r.path / "ok.env")], ScanOptions(jobs=1))
    assert json.loads(render(clean, "sarif", show_secrets=False))["runs"][0]["invocations"][0] == {
        "executionSuccessful": True, "toolExecutionNotifications": []}
