"""Settings: file + environment + credentials, precise errors, masked output."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from bridge.cli import app
from bridge.config import load_settings
from bridge.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_match_the_system_plan(tmp_path: Path) -> None:
    settings = load_settings(None, data_dir=tmp_path)
    intervals = {name: job.interval for name, job in settings.jobs.items()}
    assert intervals == {"stock": 600, "prices": 3600, "customers": 86400, "products": 86400, "orders": 60,
                         "drift": 86400, "customer_prices": 3600, "shipping": 60, "campaigns": 300,
                         "reports": 300}
    assert settings.state_path == tmp_path / "state.sqlite3"
    assert settings.http.host == "127.0.0.1"


def test_example_config_is_valid() -> None:
    settings = load_settings(ROOT / "ops" / "config.example.yaml")
    assert settings.jobs.stock.interval == 600


def test_environment_overrides_file_with_nested_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "data_dir: data\njobs:\n  stock:\n    interval: 300\n")
    monkeypatch.setenv("BRIDGE_JOBS__STOCK__INTERVAL", "120")
    settings = load_settings(path)
    assert settings.jobs.stock.interval == 120
    assert settings.data_dir == tmp_path / "data"  # relative to the file


def test_relative_paths_from_the_environment_are_relative_to_the_working_folder(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    path = write(config_dir, "data_dir: state\nrules_dir: rules\n")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("BRIDGE_DATA_DIR", "./data")
    settings = load_settings(path)
    assert settings.data_dir == work / "data"  # from the environment: the shell's folder
    assert settings.rules_dir == config_dir / "rules"  # from the file: next to the file


def test_unknown_key_names_key_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "data_dir: /tmp/x\njobs:\n  stock:\n    intervall: 300\n")
    with pytest.raises(ConfigError) as error:
        load_settings(path)
    message = str(error.value)
    assert "jobs.stock.intervall" in message and f"{path}:4" in message and "unknown key" in message


def test_wrong_type_names_key_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "data_dir: /tmp/x\nhttp:\n  port: eighty\n")
    with pytest.raises(ConfigError, match=rf"{path}:3: http.port: expected a whole number"):
        load_settings(path)


def test_wrong_type_from_environment_names_the_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIDGE_DISPATCH__BATCH_SIZE", "lots")
    with pytest.raises(ConfigError, match="environment variable BRIDGE_DISPATCH__BATCH_SIZE"):
        load_settings(None, data_dir=tmp_path)


def test_missing_file_and_bad_yaml_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "nope.yaml")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(write(tmp_path, "jobs: [\n"))


def test_secrets_from_credentials_directory_are_never_printed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "cscart_api_key").write_text("s3cr3t-key\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    monkeypatch.setenv("BRIDGE_DATA_DIR", str(tmp_path))
    settings = load_settings(None)
    assert settings.cscart.api_key is not None and settings.cscart.api_key.get_secret_value() == "s3cr3t-key"
    result = CliRunner().invoke(app, ["config", "check", "--full"])
    assert "s3cr3t-key" not in result.output and "**********" in result.output
    summary = CliRunner().invoke(app, ["config", "check"])
    assert "s3cr3t-key" not in summary.output


def test_config_check_exits_2_with_the_problem(tmp_path: Path) -> None:
    path = write(tmp_path, "jobs:\n  stok: {interval: 5}\n")
    result = CliRunner().invoke(app, ["config", "check", "--config", str(path)])
    assert result.exit_code == 2
