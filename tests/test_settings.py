"""Start-up refuses a bad environment with a message naming the variable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOOD_SECRET = "x" * 30 + "-production-secret-" + "y" * 20
CONFIG_VARIABLES = {
    "DEBUG",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "ALLOWED_HOSTS",
    "LEDGER_SIGNING_KEY",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "ALERT_WEBHOOK_SECRET",
}
GOOD_LEDGER_KEY = "Zm9yLXRlc3RzLW9ubHktMzItYnl0ZXMtb2Ytc2VlZCE="


def run_check(tmp_path, **env) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "SECRET_KEY", "DATABASE_URL", "REDIS_URL", "ALLOWED_HOSTS"}
    }
    clean["WATCHPRICE_VAR_DIR"] = str(tmp_path)
    return subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_starts_with_no_environment_at_all(tmp_path):
    result = run_check(tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "broker" / "queue").is_dir()


def test_production_without_a_secret_key_stops_with_a_clear_message(tmp_path):
    result = run_check(tmp_path, DEBUG="false", ALLOWED_HOSTS="prices.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY is required but not set" in result.stderr


def test_production_with_a_short_secret_key_is_refused(tmp_path):
    result = run_check(tmp_path, DEBUG="false", SECRET_KEY="short", ALLOWED_HOSTS="a.example.com")
    assert result.returncode != 0
    assert "SECRET_KEY must be a random string of at least 50 characters" in result.stderr


def test_production_without_a_ledger_signing_key_is_refused(tmp_path):
    result = run_check(
        tmp_path, DEBUG="false", SECRET_KEY=GOOD_SECRET, ALLOWED_HOSTS="prices.example.com"
    )
    assert result.returncode != 0
    assert "LEDGER_SIGNING_KEY is required but not set" in result.stderr


def test_production_without_allowed_hosts_is_refused(tmp_path):
    result = run_check(tmp_path, DEBUG="false", SECRET_KEY=GOOD_SECRET)
    assert result.returncode != 0
    assert "ALLOWED_HOSTS is required in production" in result.stderr


def test_production_with_a_proper_key_and_hosts_passes_the_deploy_check(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if k not in CONFIG_VARIABLES},
            "WATCHPRICE_VAR_DIR": str(tmp_path),
            "DEBUG": "false",
            "SECRET_KEY": GOOD_SECRET,
            "ALLOWED_HOSTS": "prices.example.com",
            "LEDGER_SIGNING_KEY": GOOD_LEDGER_KEY,
            "ALERT_WEBHOOK_SECRET": "a-webhook-secret-for-tests",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("DEBUG", "maybe", "DEBUG must be a boolean"),
        ("DATABASE_URL", "mysql://db/x", "DATABASE_URL must be a URL of the form sqlite://"),
        ("REDIS_URL", "http://localhost:6379", "REDIS_URL must be a URL of the form redis://"),
        ("API_PAGE_SIZE", "fifty", "API_PAGE_SIZE must be a whole number"),
        ("LEDGER_SIGNING_KEY", "c2hvcnQ=", "LEDGER_SIGNING_KEY must be the base64 encoding"),
    ],
)
def test_a_malformed_variable_is_named_in_the_error(tmp_path, variable, value, message):
    result = run_check(tmp_path, **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr
