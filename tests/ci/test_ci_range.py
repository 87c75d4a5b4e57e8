"""`tokenscan ci` gates exactly the commits a change adds, in the shapes changes come in: a pull request
(merge commits from the base included, a secret added and removed inside it), a rebased and force-pushed
head, a push, a first push of a branch, a GitLab merge request, a shallow checkout (fetched, or refused with
the setting to change), and no CI system at all."""

from __future__ import annotations

import json
import subprocess

import pytest
from cirepos import ZERO, Forge, git, github_env, gitlab_env, pull_request_payload, push_payload
from clirun import tokenscan


def _found(proc: subprocess.CompletedProcess[str]) -> list[str]:
    assert proc.returncode in (0, 1), proc.stderr
    return [f["secret"] for f in json.loads(proc.stdout)["findings"]]


def _run(path, env, *args):
    return tokenscan("ci", str(path), "--format", "json", "--show-secrets", "--no-github-output", *args,
                     env=env, cwd=path)


@pytest.fixture
def forge(tmp_path):
    return Forge(tmp_path)


def _feature(forge: Forge) -> tuple[str, str]:
    """feature off main: adds-then-removes one secret, adds another, and merges main in midway (main's new
    commit holds a secret of its own, which is the base's, not the change's)."""
    d = forge.dev
    base_fork = forge.sha("main")
    d.git("checkout", "-q", "-b", "feature")
    d.commit("add key", **{"deploy.env": f"TOKEN={forge.secret('added-then-removed')}\n"})
    d.commit("remove key", **{"deploy.env": "TOKEN=${TOKEN}\n"})
    d.git("checkout", "-q", "main")
    d.commit("main moves on", **{"main.env": f"CF={forge.secret('on-main-later')}\n"})
    d.git("checkout", "-q", "feature")
    d.git("merge", "-q", "--no-edit", "main")
    d.commit("feature key", **{"src/settings.py": f"API = '{forge.secret('in-feature')}'\n"})
    d.git("push", "-q", "origin", "main", "feature")
    assert base_fork != forge.sha("main")
    return forge.sha("main"), forge.sha("feature")


def _pull_request_checkout(forge: Forge, base: str, head: str, depth: int | None = 1):
    """GitHub checks out refs/pull/N/merge, the merge of head into base, at depth 1."""
    d = forge.dev
    d.git("checkout", "-q", "--detach", base)
    d.git("merge", "-q", "--no-ff", "--no-edit", head)
    d.git("push", "-q", "origin", "HEAD:refs/pull/1/merge", f"{head}:refs/pull/1/head")
    merge = forge.sha("HEAD")
    d.git("checkout", "-q", "feature")
    return forge.checkout("refs/pull/1/merge", depth), merge


def test_pull_request_reports_only_its_commits_from_a_depth_one_merge_checkout(forge):
    base, head = _feature(forge)
    ci, merge = _pull_request_checkout(forge, base, head)
    env = github_env(forge.root, "pull_request", pull_request_payload(base, head), merge, "refs/pull/1/merge")
    proc = _run(ci, env)
    assert sorted(_found(proc)) == sorted([forge.secrets["added-then-removed"], forge.secrets["in-feature"]])
    assert proc.returncode == 1
    notes = json.loads(proc.stdout)["scan"]["notes"]
    assert any(n.startswith(f"ci: GitHub Actions pull_request: the commits of {head[:12]} not reachable from {base[:12]}")
               for n in notes), notes


def test_each_secret_of_the_change_is_reported_once(forge):
    base, _ = _feature(forge)
    d = forge.dev
    same = forge.secrets["in-feature"]
    d.commit("copy key", **{"other/settings.py": f"API = '{same}'\n"})  # same blob, another path
    d.commit("touch", **{"src/settings.py": f"API = '{same}'\n# touched\n"})  # new blob, same secret
    d.git("push", "-q", "origin", "feature")
    head = forge.sha("feature")
    ci = forge.checkout("feature", depth=None)
    env = github_env(forge.root, "pull_request", pull_request_payload(base, head), head, "refs/pull/1/merge")
    found = _found(_run(ci, env))
    places = json.loads(_run(ci, env).stdout)["findings"]
    assert found.count(forge.secrets["added-then-removed"]) == 1
    assert len({(f["path"], f["line"]) for f in places if f["secret"] == same}) == len(
        [f for f in places if f["secret"] == same])  # no place twice
    assert forge.secrets["before-base"] not in found and forge.secrets["on-main-later"] not in found


def test_a_clean_pull_request_passes(forge):
    d = forge.dev
    base = forge.sha("main")
    d.git("checkout", "-q", "-b", "feature")
    d.commit("docs", **{"README.md": "docs\n"})
    d.git("push", "-q", "origin", "feature")
    head = forge.sha("feature")
    ci = forge.checkout("feature")
    proc = _run(ci, github_env(forge.root, "pull_request", pull_request_payload(base, head), head, "refs/heads/feature"))
    assert proc.returncode == 0, proc.stderr
    assert _found(proc) == []


def test_rebased_and_force_pushed_head(forge):
    base, _ = _feature(forge)
    d = forge.dev
    d.git("checkout", "-q", "-b", "rebased", "main")
    d.commit("feature key, rebased", **{"src/settings.py": f"API = '{forge.secrets['in-feature']}'\n"})
    d.git("push", "-q", "--force", "origin", "rebased:feature")
    head = forge.sha("rebased")
    ci = forge.checkout("feature")
    proc = _run(ci, github_env(forge.root, "pull_request", pull_request_payload(base, head), head, "refs/pull/1/merge"))
    assert _found(proc) == [forge.secrets["in-feature"]]  # the dropped commits are not in the PR any more


def test_push_scans_before_to_after(forge):
    d = forge.dev
    before = forge.sha("main")
    d.commit("one", **{"a.env": f"X={forge.secret('pushed')}\n"})
    d.commit("two", **{"b.txt": "b\n"})
    d.git("push", "-q", "origin", "main")
    after = forge.sha("main")
    ci = forge.checkout("main")
    proc = _run(ci, github_env(forge.root, "push", push_payload(before, after, "refs/heads/main"), after, "refs/heads/main"))
    assert _found(proc) == [forge.secrets["pushed"]]


def _push_topic(forge: Forge, secret: str, force: bool = False) -> str:
    """One commit holding a new secret on branch topic, pushed; the new tip."""
    forge.dev.commit(secret, **{f"{secret}.env": f"X={forge.secret(secret)}\n"})
    forge.dev.git("push", "-q", *(["--force"] if force else []), "origin", "topic")
    return forge.sha("topic")


def _run_push(forge: Forge, before: str, after: str, checkout: str = "topic", forced: bool = False):
    ci = forge.checkout(checkout)
    return _run(ci, github_env(forge.root, "push", push_payload(before, after, "refs/heads/topic", forced),
                               after, "refs/heads/topic"))


def test_first_push_of_a_branch_is_measured_against_the_default_branch(forge):
    forge.dev.git("checkout", "-q", "-b", "topic")
    proc = _run_push(forge, ZERO, _push_topic(forge, "topic"))
    assert _found(proc) == [forge.secrets["topic"]]
    assert any("new branch" in n for n in json.loads(proc.stdout)["scan"]["notes"])


def test_force_push_of_a_branch_is_measured_against_the_default_branch(forge):
    forge.dev.git("checkout", "-q", "-b", "topic")
    before = _push_topic(forge, "old-topic")
    forge.dev.git("reset", "-q", "--hard", "main")
    proc = _run_push(forge, before, _push_topic(forge, "new-topic", force=True), forced=True)
    assert _found(proc) == [forge.secrets["new-topic"]]


def test_gitlab_merge_request_and_push_pipelines(forge):
    base, head = _feature(forge)
    merge_base = forge.dev.git("merge-base", base, head)
    ci = forge.checkout("feature", depth=20)
    mr = gitlab_env(CI_PIPELINE_SOURCE="merge_request_event", CI_MERGE_REQUEST_IID="7",
                    CI_MERGE_REQUEST_DIFF_BASE_SHA=merge_base, CI_COMMIT_SHA=head, CI_COMMIT_BEFORE_SHA=ZERO)
    assert sorted(_found(_run(ci, mr))) == sorted([forge.secrets["added-then-removed"], forge.secrets["in-feature"]])
    d = forge.dev
    d.commit("later", **{"late.env": f"X={forge.secret('late')}\n"})
    d.git("push", "-q", "origin", "feature")
    push = gitlab_env(CI_PIPELINE_SOURCE="push", CI_COMMIT_BEFORE_SHA=head, CI_COMMIT_SHA=forge.sha("feature"),
                      CI_COMMIT_BRANCH="feature")
    ci2 = forge.checkout("feature", depth=20, name="ci2")
    assert _found(_run(ci2, push)) == [forge.secrets["late"]]


def test_shallow_checkout_without_fetching_names_the_setting(forge):
    base, head = _feature(forge)
    ci, merge = _pull_request_checkout(forge, base, head)
    env = github_env(forge.root, "pull_request", pull_request_payload(base, head), merge, "refs/pull/1/merge")
    proc = _run(ci, env, "--no-fetch")
    assert proc.returncode == 2
    assert "fetch-depth: 0" in proc.stderr and "GIT_DEPTH: 0" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_deep_range_is_fetched_step_by_step_until_whole(forge):
    """A pull request of 80 commits from a depth-1 checkout: one --depth=50 fetch is not enough, the
    deepening loop must go on until the shared commit is there, and every commit's secret is found."""
    d = forge.dev
    base = forge.sha("main")
    d.git("checkout", "-q", "-b", "feature")
    d.commit("first", **{"first.env": f"X={forge.secret('first-of-80')}\n"})
    for i in range(79):
        d.commit(f"c{i}", **{"n.txt": f"{i}\n"})
    d.git("push", "-q", "origin", "feature")
    head = forge.sha("feature")
    ci = forge.checkout("feature")
    proc = _run(ci, github_env(forge.root, "pull_request", pull_request_payload(base, head), head, "refs/pull/1/merge"))
    assert _found(proc) == [forge.secrets["first-of-80"]]
    assert "shallow" not in json.dumps(json.loads(proc.stdout)["scan"]["incomplete"])


def test_unreachable_remote_is_an_error_not_a_partial_scan(forge):
    base, head = _feature(forge)
    ci, merge = _pull_request_checkout(forge, base, head)
    git(ci, "remote", "set-url", "origin", f"file://{forge.root / 'gone.git'}")
    env = github_env(forge.root, "pull_request", pull_request_payload(base, head), merge, "refs/pull/1/merge")
    proc = _run(ci, env)
    assert proc.returncode == 2 and "is not in the checkout" in proc.stderr, proc.stderr


def test_outside_ci_it_asks_for_a_base(forge):
    ci = forge.checkout("main", depth=None)
    env = {"GITHUB_ACTIONS": "", "GITLAB_CI": ""}
    proc = _run(ci, env)
    assert proc.returncode == 2 and "--base" in proc.stderr
    d = forge.dev
    d.commit("k", **{"k.env": f"X={forge.secret('explicit')}\n"})
    d.git("push", "-q", "origin", "main")
    git(ci, "fetch", "-q", "origin", "main")
    proc = _run(ci, env, "--base", "HEAD", "--head", "FETCH_HEAD")
    assert _found(proc) == [forge.secrets["explicit"]]


def test_the_gate_is_read_from_the_base(forge):
    """A pull request that adds `fail-on = "none"` and an ignore entry cannot pass its own gate."""
    d = forge.dev
    base = forge.sha("main")
    d.git("checkout", "-q", "-b", "feature")
    d.commit("loosen", **{".tokenscan.toml": 'fail-on = "none"\n', "k.env": f"X={forge.secret('sneaky')}\n",
                          ".tokenscanignore": "k.env\n"})
    d.git("push", "-q", "origin", "feature")
    head = forge.sha("feature")
    ci = forge.checkout("feature")
    proc = _run(ci, github_env(forge.root, "pull_request", pull_request_payload(base, head), head, "refs/pull/1/merge"))
    assert proc.returncode == 1 and _found(proc) == [forge.secrets["sneaky"]]


def test_event_without_a_change_is_a_usage_error(forge):
    ci = forge.checkout("main")
    env = github_env(forge.root, "schedule", {"schedule": "0 0 * * *"}, forge.sha("main"), "refs/heads/main")
    proc = _run(ci, env)
    assert proc.returncode == 2 and "schedule" in proc.stderr and "--base" in proc.stderr


def test_force_push_whose_old_tip_is_gone_everywhere(forge):
    """The old tip was force-pushed away and collected: it cannot be fetched, the head still is, and the
    branch is measured against the default branch."""
    forge.dev.git("checkout", "-q", "-b", "topic")
    after = _push_topic(forge, "after-gone")
    gone = "1234567890abcdef1234567890abcdef12345678"
    # the job's checkout (of main) holds neither the head nor the old tip
    proc = _run_push(forge, gone, after, checkout="main", forced=True)
    assert _found(proc) == [forge.secrets["after-gone"]]
    notes = json.loads(proc.stdout)["scan"]["notes"]
    assert any("is gone" in n for n in notes) and any("new branch" in n for n in notes)
