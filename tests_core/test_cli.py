"""`python -m octopia` against the sandbox: in-process through cli.main, and once for real."""

import io
import json
import os
import pty
import select
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from octopia import auth, cli, samples, wire
from octopia.client import OctopiaClient
from octopia.demo import run_demo
from octopia.sandbox import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SELLER_ID

ROOT = Path(__file__).resolve().parents[1]  # the addon root, where `python -m octopia` runs
ENV_VARS = tuple(cli.ENV.values())
POST_ORDER = "/orders/"
IMPORTS = "/order-invoice-imports"


@pytest.fixture(autouse=True)
def _fresh_tokens():
    auth.clear_token_cache()
    yield
    auth.clear_token_cache()


def sandbox_env(sandbox, **overrides):
    values = {
        "OCTOPIA_CLIENT_ID": DEMO_CLIENT_ID,
        "OCTOPIA_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        "OCTOPIA_SELLER_ID": DEMO_SELLER_ID,
        "OCTOPIA_API_URL": sandbox.api_url,
        "OCTOPIA_AUTH_URL": sandbox.auth_url,
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


@pytest.fixture
def env(sandbox, monkeypatch):
    """The OCTOPIA_* variables of the seeded demo client, and nothing else of the shell's."""
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    values = sandbox_env(sandbox)
    for var, value in values.items():
        monkeypatch.setenv(var, value)
    return values


@pytest.fixture
def run(sandbox, capsys):
    """cli.main(argv) -> (exit code, stdout, stderr); never a secret or a token in either."""

    def _run(*argv):
        code = cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        assert_no_secret(sandbox, out + err)
        return code, out, err

    return _run


def assert_no_secret(sandbox, text):
    assert DEMO_CLIENT_SECRET not in text
    assert "wrong-secret" not in text
    for token in list(sandbox.state.tokens):
        assert token not in text


def write(folder, name, data):
    path = folder / name
    path.write_bytes(data)
    return path


def good_file(folder, order_id, kind):
    if kind == "pdf":
        return write(folder, f"{order_id}.pdf", samples.pdf_invoice(order_id))
    return write(folder, f"{order_id}.xml", samples.ubl_invoice(order_id))


def posts(sandbox):
    return sandbox.request_count(method="POST", path_prefix="/seller/")


def requests_seen(sandbox):
    return sandbox.request_count()


# --- upload -------------------------------------------------------------------------
def test_upload_wait_prints_the_final_table(env, run, sandbox, tmp_path):
    path = good_file(tmp_path, "CD-1001", "pdf")
    code, out, err = run("upload", "CD-1001", path, "--wait")
    assert code == 0
    (imported,) = sandbox.imports_of(DEMO_SELLER_ID)
    lines = out.splitlines()
    assert lines[0] == f"Import {imported['importId']}: Success"
    assert lines[1].split() == ["order", "file", "status", "step", "error"]
    assert lines[3].split() == ["CD-1001", "CD-1001.pdf", "Success", "Integrated"]
    assert f"waiting for import {imported['importId']}: Running" in err
    assert sandbox.request_count("POST", "/orders/CD-1001/invoice-documents") == 1


def test_upload_json_uses_octopia_field_names(env, run, sandbox, tmp_path):
    path = good_file(tmp_path, "CD-1002", "xml")
    code, out, _err = run("upload", "CD-1002", path, "--json")
    assert code == 0
    data = json.loads(out)
    assert set(data) >= {"importId", "status", "files"}
    assert data["status"] == "Running"
    (file,) = data["files"]
    assert file["fileName"] == "CD-1002.xml"
    assert file["orderId"] == "CD-1002"
    assert {"status", "integrationStatus", "errors"} <= set(file)
    assert data == sandbox.imports_of(DEMO_SELLER_ID)[0]


def test_global_options_work_before_the_command_too(env, run, tmp_path):
    path = good_file(tmp_path, "CD-1003", "pdf")
    code, out, _err = run("--json", "--timeout", "30", "upload", "CD-1003", path)
    assert code == 0
    assert json.loads(out)["files"][0]["orderId"] == "CD-1003"


def test_options_on_the_command_line_replace_the_environment(run, sandbox, monkeypatch, tmp_path):
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("OCTOPIA_CLIENT_SECRET", DEMO_CLIENT_SECRET)  # never an option
    path = good_file(tmp_path, "CD-1004", "pdf")
    code, out, _err = run(
        "upload",
        "CD-1004",
        path,
        "--client-id",
        DEMO_CLIENT_ID,
        "--seller-id",
        DEMO_SELLER_ID,
        "--api-url",
        sandbox.api_url,
        "--auth-url",
        sandbox.auth_url,
    )
    assert code == 0
    assert "CD-1004.pdf" in out


# --- the client secret ------------------------------------------------------------------
SECRET_VALUE = "s3cret-on-the-command-line"


@pytest.mark.parametrize(
    "argv",
    [
        ("imports", "--client-secret", SECRET_VALUE),
        (f"--client-secret={SECRET_VALUE}", "imports"),
        ("--json", "--client_secret", SECRET_VALUE, "imports"),
        ("status", "imp-1", "--secret", SECRET_VALUE),
        ("imports", "--client-s", SECRET_VALUE),  # an abbreviation argparse would accept
        ("imports", "--client-secret"),
    ],
)
def test_client_secret_option_is_refused(env, sandbox, capsys, argv):
    with pytest.raises(SystemExit) as info:
        cli.main(list(argv))
    out, err = capsys.readouterr()
    assert info.value.code == 2  # a usage error
    assert "OCTOPIA_CLIENT_SECRET" in err
    assert SECRET_VALUE not in out + err
    assert requests_seen(sandbox) == 0


def test_client_secret_option_is_refused_even_with_everything_else_set(env, sandbox, capsys):
    with pytest.raises(SystemExit):
        cli.main(["imports", "--client-secret", DEMO_CLIENT_SECRET])
    assert requests_seen(sandbox) == 0
    assert_no_secret(sandbox, "".join(capsys.readouterr()))


def test_help_does_not_offer_a_secret_option(capsys):
    with pytest.raises(SystemExit):
        cli.main(["upload", "--help"])
    out = capsys.readouterr().out
    assert "--client-id" in out and "secret" not in out.lower()


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def prompts(monkeypatch):
    """getpass.getpass answering DEMO_CLIENT_SECRET; -> the prompts it was shown."""
    shown = []

    def answer(prompt="Password: ", stream=None):
        shown.append(prompt)
        return DEMO_CLIENT_SECRET

    monkeypatch.setattr(cli.getpass, "getpass", answer)
    return shown


def test_secret_is_asked_when_stdin_is_a_terminal(env, run, monkeypatch, prompts):
    monkeypatch.delenv("OCTOPIA_CLIENT_SECRET")
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    code, out, _err = run("imports")
    assert code == 0
    assert out.splitlines()[-1] == "0 of 0 imports"
    assert len(prompts) == 1 and "secret" in prompts[0].lower()


def test_secret_in_the_environment_is_not_asked(env, run, monkeypatch, prompts):
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    assert run("imports")[0] == 0
    assert prompts == []


def test_no_prompt_without_a_terminal(env, run, sandbox, monkeypatch, prompts):
    monkeypatch.delenv("OCTOPIA_CLIENT_SECRET")
    monkeypatch.setattr(sys, "stdin", io.StringIO(DEMO_CLIENT_SECRET + "\n"))
    code, _out, err = run("imports")
    assert code == 1
    assert "OCTOPIA_CLIENT_SECRET" in err
    assert prompts == [] and requests_seen(sandbox) == 0


def test_no_prompt_when_another_setting_is_missing(env, run, sandbox, monkeypatch, prompts):
    monkeypatch.delenv("OCTOPIA_CLIENT_SECRET")
    monkeypatch.delenv("OCTOPIA_SELLER_ID")
    monkeypatch.setattr(sys, "stdin", FakeTerminal())
    code, _out, err = run("imports")
    assert code == 1
    assert "OCTOPIA_SELLER_ID" in err and "OCTOPIA_CLIENT_SECRET" in err
    assert prompts == [] and requests_seen(sandbox) == 0


# On a real terminal: the CLI runs in a new session whose controlling terminal is a pseudo
# terminal, as when a person types the command.
LAUNCH_ON_TTY = """
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR)  # the session's first terminal: its controlling one
for std in (0, 1, 2):
    os.dup2(fd, std)
os.execv(sys.executable, [sys.executable, "-m", "octopia", *sys.argv[2:]])
"""


def read_terminal(fd, until, deadline):
    data = b""
    while until not in data and time.monotonic() < deadline:
        ready, _w, _x = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the other side closed
                break
            if not chunk:
                break
            data += chunk
    return data


def test_secret_typed_at_a_real_terminal_is_not_echoed(sandbox):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCTOPIA_")}
    env.update(sandbox_env(sandbox, OCTOPIA_CLIENT_SECRET=None))
    master, slave = pty.openpty()  # the slave stays open here: else reading master fails
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCH_ON_TTY, os.ttyname(slave), "imports"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        shown = read_terminal(master, b"secret: ", deadline)
        assert b"secret: " in shown
        os.write(master, DEMO_CLIENT_SECRET.encode() + b"\n")
        shown += read_terminal(master, b" imports", deadline)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(master)
        os.close(slave)
    text = shown.decode(errors="replace")
    assert "0 of 0 imports" in text
    assert DEMO_CLIENT_SECRET not in text  # typed with echo off
    assert sandbox.request_count(path_prefix="/seller/") == 1


# --- bulk ---------------------------------------------------------------------------
def five_files(folder):
    kinds = ("pdf", "xml", "pdf", "xml", "xml")
    return [good_file(folder, f"CD-100{n}", kind) for n, kind in enumerate(kinds, 1)]


def test_bulk_splits_files_into_several_zips(env, run, sandbox, tmp_path):
    code, out, _err = run("bulk", *five_files(tmp_path), "--max-files", "2", "--json")
    assert code == 0
    data = json.loads(out)
    assert isinstance(data, list) and len(data) == 3
    assert sandbox.request_count("POST", IMPORTS) == 3
    names = [[f["fileName"] for f in report["files"]] for report in data]
    assert names == [
        ["CD-1001.pdf", "CD-1002.xml"],
        ["CD-1003.pdf", "CD-1004.xml"],
        ["CD-1005.xml"],
    ]
    assert [r["importId"] for r in data] == [
        r["importId"] for r in sandbox.imports_of(DEMO_SELLER_ID)
    ]
    assert not list(tmp_path.glob("octopia-*.zip"))


def test_bulk_wait_prints_one_table_per_import(env, run, sandbox, tmp_path):
    sandbox.set_running(polls=0)  # final at the first read: the wait itself is tested elsewhere
    code, out, _err = run("bulk", *five_files(tmp_path), "--max-files", "2", "--wait")
    assert code == 0
    assert out.count(": Success\n") == 3
    for n in range(1, 6):
        assert f"CD-100{n}" in out
    assert "Running" not in out


def test_bulk_json_is_a_list_even_for_one_import(env, run, tmp_path):
    code, out, _err = run("bulk", good_file(tmp_path, "CD-1001", "pdf"), "--json")
    assert code == 0
    (report,) = json.loads(out)
    assert report["files"][0]["fileName"] == "CD-1001.pdf"


def test_bulk_one_zip_is_sent_as_it_is(env, run, sandbox, tmp_path):
    archive = tmp_path / "invoices.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("CD-1006.pdf", samples.pdf_invoice("CD-1006"))
        zf.writestr("CD-1007.xml", samples.ubl_invoice("CD-1007"))
    sandbox.set_running(polls=0)
    code, out, _err = run("--json", "bulk", archive, "--wait")
    assert code == 0
    (report,) = json.loads(out)
    assert report["status"] == "Success"
    assert sorted(f["orderId"] for f in report["files"]) == ["CD-1006", "CD-1007"]
    assert sandbox.request_count("POST", IMPORTS) == 1


def test_bulk_refuses_a_zip_that_is_not_one(env, run, sandbox, tmp_path):
    path = write(tmp_path, "invoices.zip", b"this is no archive")
    code, out, err = run("bulk", path)
    assert code == 1
    assert out == ""
    assert "not a readable ZIP archive" in err
    assert requests_seen(sandbox) == 0


def test_bulk_refuses_a_zip_among_other_files(env, run, sandbox, tmp_path):
    archive = write(tmp_path, "more.zip", b"")
    code, _out, err = run("bulk", good_file(tmp_path, "CD-1001", "pdf"), archive)
    assert code == 1
    assert "must be uploaded alone" in err
    assert requests_seen(sandbox) == 0


def test_bulk_says_which_imports_were_accepted_before_an_error(
    env, run, sandbox, tmp_path, monkeypatch
):
    original = OctopiaClient.upload_bulk
    calls = []

    def second_refused(self, files):
        calls.append(files)
        if len(calls) == 2:
            sandbox.inject("status", method="POST", path=IMPORTS, status=422, detail="no more")
        return original(self, files)

    monkeypatch.setattr(OctopiaClient, "upload_bulk", second_refused)
    code, out, err = run("bulk", *five_files(tmp_path), "--max-files", "2")
    assert code == 1
    assert out == ""
    (accepted,) = sandbox.imports_of(DEMO_SELLER_ID)
    assert "Accepted before the error:" in err
    assert f"Import {accepted['importId']}: Running" in err
    assert "HTTP 422" in err and "no more" in err
    assert len(calls) == 2  # stopped at the failure: the third ZIP was not sent
    assert not list(tmp_path.glob("octopia-*.zip"))


# --- status and imports ---------------------------------------------------------------
@pytest.fixture
def uploaded(env, sandbox, tmp_path):
    """Two imports made through the CLI: (import id of CD-1001, import id of CD-1002)."""
    ids = []
    for order, kind in (("CD-1001", "pdf"), ("CD-1002", "xml")):
        assert cli.main(["--json", "upload", order, str(good_file(tmp_path, order, kind))]) == 0
        ids.append(sandbox.imports_of(DEMO_SELLER_ID)[-1]["importId"])
    return ids


def test_status_shows_one_import(uploaded, run):
    code, out, _err = run("status", uploaded[0])
    assert code == 0
    assert out.splitlines()[0] == f"Import {uploaded[0]}: Running"
    assert "CD-1001.pdf" in out


def test_status_json(uploaded, run):
    code, out, _err = run("status", uploaded[1], "--json")
    assert code == 0
    data = json.loads(out)
    assert data["importId"] == uploaded[1]
    assert data["files"][0]["orderId"] == "CD-1002"


def test_status_wait_polls_until_final(uploaded, run, sandbox):
    code, out, err = run("status", uploaded[0], "--wait")
    assert code == 0
    assert out.splitlines()[0] == f"Import {uploaded[0]}: Success"
    assert f"waiting for import {uploaded[0]}: Success" in err
    assert sandbox.request_count("GET", wire.import_path(uploaded[0])) >= 2


def test_status_of_an_unknown_import(env, run):
    code, out, err = run("status", "no-such-import")
    assert code == 1
    assert out == ""
    assert err.startswith("error: Octopia does not know this order or import (HTTP 404)")


def test_imports_lists_newest_first(uploaded, run):
    code, out, _err = run("imports")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["import", "status", "files", "created"]
    assert [line.split()[0] for line in lines[2:4]] == [uploaded[1], uploaded[0]]
    assert lines[-1] == "2 of 2 imports"


def test_imports_filtered_by_order_and_paged(uploaded, run):
    code, out, _err = run("imports", "--order", "CD-1001")
    assert code == 0
    assert uploaded[0] in out and uploaded[1] not in out
    code, out, _err = run("imports", "--page", "2", "--page-size", "1")
    assert code == 0
    assert uploaded[0] in out and uploaded[1] not in out
    assert out.splitlines()[-1] == "1 of 2 imports"


def test_imports_json_is_a_list_page(uploaded, run):
    code, out, _err = run("imports", "--json", "--page-size", "1")
    assert code == 0
    data = json.loads(out)
    assert data["totalCount"] == 2
    assert [r["importId"] for r in data["items"]] == [uploaded[1]]


def test_imports_json_when_there_is_none(env, run):
    code, out, _err = run("imports", "--json")
    assert code == 0
    assert json.loads(out) == {"items": [], "totalCount": 0}


# --- failures -------------------------------------------------------------------------
def test_missing_credentials(run, sandbox, monkeypatch, tmp_path):
    for var in ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    code, out, err = run("upload", "CD-1001", good_file(tmp_path, "CD-1001", "pdf"))
    assert code == 1
    assert out == ""
    assert err.startswith("error: Missing settings:")
    for var in ("OCTOPIA_CLIENT_ID", "OCTOPIA_CLIENT_SECRET", "OCTOPIA_SELLER_ID"):
        assert var in err
    assert requests_seen(sandbox) == 0


def test_missing_secret_only(env, run, monkeypatch):
    monkeypatch.delenv("OCTOPIA_CLIENT_SECRET")
    code, _out, err = run("imports")
    assert code == 1
    assert "OCTOPIA_CLIENT_SECRET" in err
    assert "OCTOPIA_CLIENT_ID" not in err and "OCTOPIA_SELLER_ID" not in err


def test_upload_of_a_bad_pdf_names_the_order(env, run, sandbox, tmp_path):
    path = write(tmp_path, "CD-1001.pdf", samples.bad_pdf("CD-1001"))
    code, out, err = run("upload", "CD-1001", path)
    assert code == 1
    assert out == ""
    assert "Order CD-1001" in err and "not a PDF" in err
    assert requests_seen(sandbox) == 0


def test_upload_of_a_pdf_named_xml_is_refused(env, run, sandbox, tmp_path):
    path = write(tmp_path, "CD-1001.xml", samples.pdf_invoice("CD-1001"))
    code, _out, err = run("upload", "CD-1001", path)
    assert code == 1
    assert "Order CD-1001" in err and "content is a PDF" in err
    assert requests_seen(sandbox) == 0


def test_upload_of_a_missing_file(env, run, sandbox, tmp_path):
    code, _out, err = run("upload", "CD-1001", tmp_path / "nowhere.pdf")
    assert code == 1
    assert "Order CD-1001: file not found" in err
    assert requests_seen(sandbox) == 0


def test_bulk_with_a_bad_file_sends_nothing(env, run, sandbox, tmp_path):
    good = good_file(tmp_path, "CD-1001", "xml")
    bad = write(tmp_path, "CD-1002.pdf", samples.bad_pdf("CD-1002"))
    code, out, err = run("bulk", good, bad)
    assert code == 1
    assert out == ""
    assert "Order CD-1002" in err
    assert requests_seen(sandbox) == 0


def test_wrong_seller_id_is_forbidden(env, run, sandbox, monkeypatch, tmp_path):
    monkeypatch.setenv("OCTOPIA_SELLER_ID", "SELLER-2")
    code, out, err = run("upload", "CD-1001", good_file(tmp_path, "CD-1001", "pdf"))
    assert code == 1
    assert out == ""
    assert "(HTTP 403)" in err
    assert sandbox.imports_of("SELLER-2") == [] == sandbox.imports_of(DEMO_SELLER_ID)


def test_wrong_secret_is_refused_without_echoing_it(env, run, sandbox, monkeypatch):
    monkeypatch.setenv("OCTOPIA_CLIENT_SECRET", "wrong-secret")
    code, _out, err = run("imports")
    assert code == 1
    assert "refused the client id or the client secret" in err
    assert sandbox.request_count(path_prefix="/seller/") == 0


# --- as a real process ------------------------------------------------------------------
def test_python_m_octopia_as_a_subprocess(sandbox, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCTOPIA_")}
    env.update(sandbox_env(sandbox))
    files = [good_file(tmp_path, "CD-1008", "pdf"), good_file(tmp_path, "CD-1009", "xml")]
    done = subprocess.run(
        [sys.executable, "-m", "octopia", "bulk", *map(str, files), "--wait", "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (report,) = json.loads(done.stdout)
    assert report["status"] == "Success"
    assert sorted(f["orderId"] for f in report["files"]) == ["CD-1008", "CD-1009"]
    assert "waiting for import" in done.stderr
    assert_no_secret(sandbox, done.stdout + done.stderr)

    env["OCTOPIA_SELLER_ID"] = "SELLER-2"
    done = subprocess.run(
        [sys.executable, "-m", "octopia", "imports"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "(HTTP 403)" in done.stderr
    assert "Traceback" not in done.stderr
    assert_no_secret(sandbox, done.stdout + done.stderr)


# --- demo -------------------------------------------------------------------------------
def test_run_demo(capsys):
    out = io.StringIO()
    assert run_demo(out=out) == 0
    text = out.getvalue()
    assert "Demo OK" in text
    assert "Refused locally, nothing sent: Order CD-1005" in text
    assert DEMO_CLIENT_SECRET not in text + capsys.readouterr().err


def test_run_demo_json():
    out = io.StringIO()
    assert run_demo(as_json=True, out=out) == 0
    text = out.getvalue()
    start, end = text.index("\n["), text.rindex("]")
    reports = json.loads(text[start : end + 1])
    assert len(reports) == 2
    assert {f["orderId"] for r in reports for f in r["files"]} >= {"CD-9999"}
