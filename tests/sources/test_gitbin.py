"""git is looked up once per process, and a gitlink means the same thing to every git-reading module."""

import shutil

import scanner.sources.git as gitsrc
import scanner.sources.staged as staged
from scanner.sources import gitbin


def test_git_binary_is_looked_up_once(monkeypatch):
    calls: list[str] = []
    real = shutil.which

    def counting(name, *a, **k):
        calls.append(name)
        return real(name, *a, **k)

    monkeypatch.setattr(gitbin.shutil, "which", counting)
    gitbin.git_binary.cache_clear()
    try:
        first = gitbin.git_binary()
        assert [gitbin.git_binary() for _ in range(5)] == [first] * 5
        assert calls == ["git"]
        assert first == real("git")
    finally:
        gitbin.git_binary.cache_clear()


def test_one_gitlink_constant():
    assert gitsrc.GITLINK is gitbin.GITLINK == staged.GITLINK == 0o160000
    assert gitbin.GITLINK_TEXT == b"160000"


def test_read_only_git_env_never_prompts():
    env = gitbin.git_env()
    assert env["GIT_TERMINAL_PROMPT"] == "0" and env["GIT_NO_LAZY_FETCH"] == "1"
