"""README.md's set-up and server command blocks run as written (issue 14), and the users file
needs no catalog.

The blocks are read out of README.md, so a README edit that no longer runs fails here. They run
in a temporary copy of the project (`cp -a`-style: modification times kept) whose `.venv` is a
symlink to the virtual environment running these tests, with HOME and the XDG folders inside the
temporary folder (the real home is never touched; only U2NET_HOME points at the real model folder,
so the default model is not fetched again):

- `make demo` runs verbatim, after `make -n demo` shows it would not run `pip install`: an install
  from the copy would repoint the shared editable install at a folder about to be deleted. Where
  the environment is older than pyproject.toml the test skips and says so (`make install` first).
- `make test` is only resolved (`make -n test`): running the whole suite inside itself would be
  recursive. It must be a target make knows, ending in the pytest run.
- the server block runs as one bash script, verbatim; only when port 8000 is taken here is the
  port (and nothing else) swapped for a free one. serve must answer /healthz with 200 and /metrics
  with the families the README names (no login for either), name the users file `users add`
  wrote, and stop cleanly on SIGTERM.
- the README's `vitrina.toml` examples load as settings, as written.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from local_net import free_port

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PASSWORD = "readme-password-1"
NOT_COPIED = (".git", ".hypothesis", ".pytest_cache", ".ruff_cache", ".venv", "vitrina-out")
NOT_COPIED += ("test-artifacts", "out", "*.egg-info")


def block_after(heading: str) -> list[str]:
    """The non-empty lines of the first ``` block under `heading` in README.md."""
    text = README.read_text("utf-8")
    start = text.index(f"\n{heading}\n")
    match = re.search(r"^```[^\n]*\n(.*?)^```", text[start:], re.DOTALL | re.MULTILINE)
    assert match, f"no command block under {heading!r}"
    return [line for line in match.group(1).splitlines() if line.strip()]


def port_taken(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
            return False
        except OSError:
            return True


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A copy of the project with mtimes kept, its .venv the environment running the tests."""
    if sys.prefix == sys.base_prefix:
        pytest.skip("not running in a virtual environment: nothing for .venv to point at")
    tmp = tmp_path_factory.mktemp("readme")
    copy = tmp / "project"
    shutil.copytree(ROOT, copy, symlinks=True, ignore=shutil.ignore_patterns(*NOT_COPIED))
    (copy / ".venv").symlink_to(Path(sys.prefix))
    # As a fresh clone has it: an earlier `make demo` here wrote its results into the catalog.
    pristine = subprocess.run(
        ["git", "-C", str(ROOT), "show", "HEAD:examples/catalog.xlsx"],
        capture_output=True,
        check=False,
    )
    if pristine.returncode == 0:
        (copy / "examples" / "catalog.xlsx").write_bytes(pristine.stdout)
    home = tmp / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VITRINA_", "PYTHON"))}
    env.update(
        HOME=str(home),
        XDG_DATA_HOME=str(home / "data"),
        XDG_CONFIG_HOME=str(home / "config"),
        XDG_CACHE_HOME=str(home / "cache"),
        U2NET_HOME=os.environ.get("U2NET_HOME") or str(Path.home() / ".u2net"),
        VITRINA_PASSWORD=PASSWORD,
        # The copy's code, not whichever tree the environment's editable install points at.
        PYTHONPATH=os.pathsep.join(
            [str(copy)] + [str(p) for p in sorted((copy / "plugins").glob("*")) if p.is_dir()]
        ),
    )
    return copy, env, home


def bash(script: str, cwd: Path, env: dict, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", script],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_setup_block_runs_as_written(project):
    copy, env, _home = project
    lines = block_after("## Set-up: two commands")
    targets = [line.split("#")[0].split() for line in lines]
    assert [t[:1] for t in targets] == [["make"]] * len(lines), f"not make commands: {lines}"
    assert [t[1] for t in targets] == ["demo", "test"], "new set-up commands: teach this test"
    demo, test = lines

    dry = bash(demo.replace("make ", "make -n ", 1), copy, env, 60)
    assert dry.returncode == 0, dry.stderr
    if "pip install" in dry.stdout:
        pytest.skip(
            "the virtual environment is older than pyproject.toml (run `make install`): "
            "`make demo` would reinstall it from this temporary copy"
        )
    assert "vitrina-sync run examples/catalog.xlsx" in dry.stdout

    ran = bash(demo, copy, env, 600)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    assert re.search(r"\d+ rows \w+; [1-9]\d* rows changed", ran.stdout), ran.stdout[-2000:]
    assert "error" in ran.stdout  # the example's wrong rows say so
    again = bash(demo, copy, env, 300)  # README: "Run it again: `0 rows changed`"
    assert again.returncode == 0 and "; 0 rows changed" in again.stdout, again.stdout[-2000:]

    # `make test` inside the suite would run the suite inside itself: only resolve it.
    dry_test = bash(test.replace("make ", "make -n ", 1), copy, env, 60)
    assert dry_test.returncode == 0, dry_test.stderr
    assert re.search(r"python -m pytest\b", dry_test.stdout), dry_test.stdout[-2000:]


def test_server_block_runs_as_written(project):
    copy, env, home = project
    lines = block_after("## The server: `vitrina-sync serve`")
    assert any(" serve " in line for line in lines), lines
    script = "\n".join(lines)
    port = 8000
    if port_taken(port):  # only the port changes, and only when this machine uses 8000
        port = free_port()
        script = script.replace("--port 8000", f"--port {port}")
    log_path = home / "serve.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            ["bash", "-c", script],
            cwd=copy,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # SIGTERM goes to bash and serve alike
        )
    try:
        health = wait_for_health(port, proc, log_path)
        assert health["ok"], health
        text = log_path.read_text()
        saved = re.search(r"user anna \(admin\) saved in (\S+)", text)
        assert saved, text
        users_file = Path(saved.group(1))
        assert users_file == home / "data" / "vitrina-sync" / "users.json"  # no catalog needed
        assert json.loads(users_file.read_text())["users"]["anna"]["role"] == "admin"
        assert f"users from {users_file})" in text  # serve reads the file users add wrote
        # README: /metrics, no login, Prometheus text with the families it names
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            assert r.status == 200 and r.headers["Content-Type"].startswith("text/plain")
            metrics = r.read().decode()
        for family in (
            'vitrina_rows{catalog="examples/catalog.xlsx",status=',  # rows per status
            'vitrina_jobs_total{outcome="done"}',
            'vitrina_jobs_total{outcome="failed"}',
            "vitrina_sync_seconds_count",
            "vitrina_sync_loop_restarts_total",
            "# TYPE vitrina_sheets_api_requests_total counter",  # samples for Google Sheets only
            "# TYPE vitrina_sheets_api_retries_total counter",
            "# TYPE vitrina_storage_failures_total counter",
        ):
            assert family in metrics, f"{family} not in /metrics:\n{metrics[-3000:]}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        stopped = wait_for_line(log_path, "vitrina-sync serve: stopped", 60)
        if proc.poll() is None:
            proc.wait(10)
        if not stopped:
            os.killpg(proc.pid, signal.SIGKILL)
    assert stopped, log_path.read_text()[-3000:]
    assert not port_taken(port)


def wait_for_health(port: int, proc, log_path: Path, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None and not port_taken(port):
            raise AssertionError(f"serve ended: {log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as exc:  # 503 until the first cycle has run
            last = exc.read().decode()
        except OSError as exc:
            last = str(exc)
        time.sleep(0.5)
    raise AssertionError(f"no healthy /healthz: {last}\n{log_path.read_text()[-3000:]}")


def wait_for_line(path: Path, text: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in path.read_text():
            return True
        time.sleep(0.2)
    return False


# -- the users file needs no catalog ---------------------------------------------------------------
def users_add(name: str, *args: str) -> str:
    from vitrina_sync.cli import main

    result = CliRunner().invoke(
        main, ["users", "add", name, *args], env={"VITRINA_PASSWORD": PASSWORD}
    )
    assert result.exit_code == 0, result.output
    return result.output.rsplit(" saved in ", 1)[1].strip()


def test_users_file_default_beside_vitrina_toml_else_the_data_folder(tmp_path, monkeypatch):
    from vitrina_sync.settings import load_settings
    from vitrina_sync.web.auth import serve_users_file

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("VITRINA_USERS_FILE", raising=False)
    bare, project = tmp_path / "bare", tmp_path / "project"
    bare.mkdir()
    project.mkdir()
    (project / "vitrina.toml").write_text("workers = 1\n")

    monkeypatch.chdir(bare)
    data_file = tmp_path / "data" / "vitrina-sync" / "users.json"
    assert Path(users_add("anna", "--role", "admin")) == data_file
    # serve, started from the same folder, reads the same file (a catalog's out folder or not)
    assert serve_users_file(load_settings(None), None, bare / "out") == data_file

    monkeypatch.chdir(project)
    assert Path(users_add("boris")) == project / "users.json"
    assert serve_users_file(load_settings(Path("vitrina.toml")), None, None) == (
        project / "users.json"
    )
    # --config FILE: beside that file; the users_file setting overrides everything
    other = tmp_path / "other.toml"
    other.write_text(f'users_file = "{tmp_path / "set.json"}"\n')
    assert Path(users_add("vera", "--config", str(other))) == tmp_path / "set.json"
    assert json.loads(data_file.read_text())["users"].keys() == {"anna"}


def test_serve_still_reads_a_catalogs_own_users_file(tmp_path, monkeypatch):
    """Accounts made with `users add --catalog` (the only default before) are not lost."""
    from vitrina_sync.settings import load_settings
    from vitrina_sync.web.auth import catalog_users_file, serve_users_file

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    legacy = catalog_users_file(tmp_path / "out")
    legacy.parent.mkdir(parents=True)
    legacy.write_text('{"users": {}}')
    assert serve_users_file(load_settings(None), None, tmp_path / "out") == legacy


# -- the README's vitrina.toml examples ----------------------------------------------------------
def toml_blocks() -> list[str]:
    return re.findall(r"^```toml\n(.*?)^```", README.read_text("utf-8"), re.DOTALL | re.MULTILINE)


def test_the_readme_toml_examples_load_as_written(tmp_path, monkeypatch):
    """Each ```toml block, saved as a catalog's vitrina.toml, loads into the settings it shows
    (a renamed setting or a TOML slip in the README fails here). Nothing is contacted: the S3
    example is only read."""
    from vitrina_sync.settings import settings_for_catalog

    for name in [k for k in os.environ if k.startswith("VITRINA_")]:
        monkeypatch.delenv(name)
    blocks = toml_blocks()
    assert len(blocks) == 2, "a new toml example in the README: teach this test"
    languages, bucket = blocks
    (tmp_path / "vitrina.toml").write_text(languages, "utf-8")
    settings = settings_for_catalog(tmp_path)
    assert settings["reject_reasons"][0] == {"en": "scratches", "ru": "царапины", "kk": "сызаттар"}
    assert settings["checklists"]["kitchen"][1] == "lid"
    (tmp_path / "vitrina.toml").write_text(bucket, "utf-8")
    settings = settings_for_catalog(tmp_path)
    assert settings["assets"] == "s3://shop-photos/catalog"
    assert settings["storage"] == "s3://shop-media/vitrina"
    assert settings["s3_endpoint_url"] == "https://storage.yandexcloud.net"
    assert settings["public_base_url"] == "https://shop-media.website.yandexcloud.net"
