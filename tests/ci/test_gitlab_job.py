"""The GitLab CI job (ci/gitlab/tokenscan.gitlab-ci.yml), run as the runner runs it: before_script and
script in one shell, with the variables GitLab sets for a merge-request pipeline, on a real checkout (the
install lines need the package registry and are read, not run). Its report carries every field GitLab's
secret detection schema requires, checked with a schema written here from GitLab's published one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from cirepos import ZERO, Forge, gitlab_env
from clirun import ROOT, tokenscan

TEMPLATE = yaml.safe_load((ROOT / "ci" / "gitlab" / "tokenscan.gitlab-ci.yml").read_text())
JOB = TEMPLATE["tokenscan"]
REPORT = "gl-secret-detection-report.json"

_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$"
_TOOL = {"type": "object", "required": ["id", "name", "version", "vendor"],
         "properties": {"id": {"type": "string", "minLength": 1}, "name": {"type": "string", "minLength": 1},
                        "version": {"type": "string", "minLength": 1},
                        "vendor": {"type": "object", "required": ["name"]}}}
# What GitLab's secret-detection-report-format.json (15.x) requires of a report, field by field.
SCHEMA = {
    "type": "object",
    "required": ["version", "scan", "vulnerabilities"],
    "properties": {
        "version": {"type": "string", "pattern": r"^15\.\d+\.\d+$"},
        "scan": {"type": "object", "required": ["analyzer", "scanner", "type", "start_time", "end_time", "status"],
                 "properties": {"analyzer": _TOOL, "scanner": _TOOL, "type": {"const": "secret_detection"},
                                "start_time": {"type": "string", "pattern": _TIME},
                                "end_time": {"type": "string", "pattern": _TIME},
                                "status": {"enum": ["success", "failure"]},
                                "messages": {"type": "array", "items": {
                                    "type": "object", "required": ["level", "value"],
                                    "properties": {"level": {"enum": ["info", "warn", "fatal"]}}}}}},
        "vulnerabilities": {"type": "array", "items": {
            "type": "object",
            "required": ["id", "category", "name", "severity", "location", "identifiers"],
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "category": {"const": "secret_detection"},
                "name": {"type": "string", "minLength": 1, "maxLength": 255},
                "description": {"type": "string", "maxLength": 1048576},
                "severity": {"enum": ["Info", "Unknown", "Low", "Medium", "High", "Critical"]},
                "location": {"type": "object", "required": ["file", "commit", "start_line"],
                             "properties": {"file": {"type": "string", "minLength": 1},
                                            "commit": {"type": "object", "required": ["sha"],
                                                       "properties": {"sha": {"type": "string", "minLength": 7}}},
                                            "start_line": {"type": "integer", "minimum": 1},
                                            "end_line": {"type": "integer", "minimum": 1}}},
                "identifiers": {"type": "array", "minItems": 1, "maxItems": 20, "items": {
                    "type": "object", "required": ["type", "name", "value"],
                    "properties": {"type": {"type": "string", "minLength": 1},
                                   "name": {"type": "string", "minLength": 1},
                                   "value": {"type": "string", "minLength": 1}}}},
            }}},
    },
}


def _run_job(checkout: Path, variables: dict[str, str]) -> subprocess.CompletedProcess[str]:
    lines = [ln for ln in [*JOB["before_script"], *JOB["script"]] if "venv" not in ln and "pip install" not in ln]
    env = {**os.environ, **{k: str(v) for k, v in TEMPLATE["variables"].items()}, **JOB.get("variables", {}),
           **variables, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["bash", "-eo", "pipefail", "-c", "\n".join(lines)], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def merge_request(tmp_path):
    forge = Forge(tmp_path)
    d = forge.dev
    d.git("checkout", "-q", "-b", "feature")
    d.commit("add", **{"deploy/prod.env": f"CF_API_TOKEN={forge.secret('mr')}\n"})
    d.commit(f"note {forge.secret('mr-message')}")
    d.git("push", "-q", "origin", "feature")
    head = forge.sha("feature")
    checkout = forge.checkout("feature", depth=int(JOB["variables"]["GIT_DEPTH"]))
    variables = gitlab_env(CI_PIPELINE_SOURCE="merge_request_event", CI_MERGE_REQUEST_IID="3",
                           CI_MERGE_REQUEST_DIFF_BASE_SHA=forge.sha("main"), CI_COMMIT_SHA=head,
                           CI_COMMIT_BEFORE_SHA=ZERO, TOKENSCAN_GIT="https://gitlab.example/tokenscan.git",
                           TOKENSCAN_REV="0" * 40)
    return forge, checkout, variables


def test_the_job_gates_the_merge_request_and_writes_the_report(merge_request):
    forge, checkout, variables = merge_request
    proc = _run_job(checkout, variables)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads((checkout / REPORT).read_text())
    jsonschema.validate(doc, SCHEMA)
    vulns = doc["vulnerabilities"]
    assert len(vulns) == 2 and len({v["id"] for v in vulns}) == 2
    files = {v["location"]["file"] for v in vulns}
    assert "deploy/prod.env" in files and any(f.startswith("commit message of ") for f in files)
    assert {v["location"]["commit"]["sha"] for v in vulns} <= {forge.sha("feature"), forge.sha("feature~1")}
    text = json.dumps(doc)
    assert forge.secrets["mr"] not in text and forge.secrets["before-base"] not in text
    assert "raw_source_code_extract" not in text  # the secret only with --show-secrets
    assert JOB["artifacts"]["reports"]["secret_detection"] == REPORT and JOB["artifacts"]["when"] == "always"


def test_ids_are_stable_across_pipelines(merge_request):
    _, checkout, variables = merge_request
    _run_job(checkout, variables)
    first = json.loads((checkout / REPORT).read_text())
    _run_job(checkout, variables)
    second = json.loads((checkout / REPORT).read_text())
    assert [v["id"] for v in first["vulnerabilities"]] == [v["id"] for v in second["vulnerabilities"]]


def test_the_job_refuses_to_run_without_a_pinned_tokenscan(merge_request):
    _, checkout, variables = merge_request
    proc = _run_job(checkout, {**variables, "TOKENSCAN_REV": ""})
    assert proc.returncode == 2 and "TOKENSCAN_REV" in proc.stderr


def test_the_job_runs_on_merge_requests_and_plain_branches_only():
    rules = [r["if"] for r in JOB["rules"]]
    assert rules[0] == '$CI_PIPELINE_SOURCE == "merge_request_event"'
    assert any("CI_OPEN_MERGE_REQUESTS" in r for r in rules)  # no second pipeline for a branch with an MR


def test_a_scan_with_gaps_says_so_in_the_report(tmp_path):
    """An object missing from the history: scan.messages carries it, and the report still validates."""
    forge = Forge(tmp_path)
    d = forge.dev
    d.git("checkout", "-q", "-b", "feature")
    d.commit("add", **{"a.txt": "one\n", "b.env": f"T={forge.secret('gap')}\n"})
    oid = d.git("rev-parse", "HEAD:a.txt")
    (d.path / ".git" / "objects" / oid[:2] / oid[2:]).unlink()
    proc = tokenscan("ci", str(d.path), "--base", "main", "--format", "gitlab", "--no-fetch", env={"GITHUB_ACTIONS": ""})
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert any(oid in m["value"] for m in doc["scan"]["messages"])
