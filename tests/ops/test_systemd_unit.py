"""The systemd unit: `systemd-analyze verify` accepts it, it has the directives operations rely on, and its
exposure score stays low. systemd-analyze works offline (no systemd as PID 1 needed); the unit's ExecStart is pointed
at this checkout's `bridge` for the check, because verify also insists the binary exists.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from bridge.config import CREDENTIAL_FILES

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "ops" / "systemd" / "cscart-smile-bridge.service"
INSTALLED_BRIDGE = "/opt/cscart-smile-bridge/venv/bin/bridge"
SYSTEMD_ANALYZE = shutil.which("systemd-analyze") or "systemd-analyze"


def directives(text: str) -> dict[str, dict[str, list[str]]]:
    sections: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        sections[current][key.strip()].append(value.strip())
    return sections


def local_copy(tmp_path: Path, text: str | None = None, unit: Path = UNIT) -> Path:
    bridge = Path(sys.executable).with_name("bridge")
    assert bridge.exists()
    copy = tmp_path / unit.name
    copy.write_text((text or unit.read_text(encoding="utf-8")).replace(INSTALLED_BRIDGE, str(bridge)), encoding="utf-8")
    return copy


def verify(*units: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SYSTEMD_ANALYZE, "verify", *map(str, units)], capture_output=True, text=True, timeout=60, check=False)


def test_systemd_analyze_verify_accepts_every_shipped_unit(tmp_path: Path) -> None:
    shipped = sorted(UNIT.parent.glob("*.service")) + sorted(UNIT.parent.glob("*.timer"))
    assert len(shipped) == 3
    result = verify(*(local_copy(tmp_path, unit=unit) for unit in shipped))
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


def test_the_backup_timer_runs_bridge_backup_into_a_folder() -> None:
    service = directives((UNIT.parent / "cscart-smile-bridge-backup.service").read_text(encoding="utf-8"))["Service"]
    assert service["Type"] == ["oneshot"] and service["User"] == ["cscart-bridge"]
    assert service["ExecStart"][0].startswith(f"{INSTALLED_BRIDGE} backup /var/backups/cscart-smile-bridge/ ")
    timer = directives((UNIT.parent / "cscart-smile-bridge-backup.timer").read_text(encoding="utf-8"))
    assert timer["Timer"]["Persistent"] == ["true"] and timer["Install"]["WantedBy"] == ["timers.target"]


def test_systemd_analyze_verify_would_catch_a_broken_unit(tmp_path: Path) -> None:
    broken = UNIT.read_text(encoding="utf-8").replace("Type=notify", "Type=notifyy")
    result = verify(local_copy(tmp_path, broken))
    # verify only warns (exit 0) on a bad value, which is why the test above also demands an empty stderr
    assert "Failed to parse service type" in result.stderr


def test_exposure_score_is_low(tmp_path: Path) -> None:
    # --threshold fails the command when the exposure (0–100, shown as 0.0–10.0) is above it.
    result = subprocess.run(
        [SYSTEMD_ANALYZE, "security", "--offline=true", "--threshold=25", "--no-pager", str(local_copy(tmp_path))],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr


def test_the_unit_has_what_operations_rely_on() -> None:
    unit = directives(UNIT.read_text(encoding="utf-8"))
    service = unit["Service"]
    expected = {
        "Type": ["notify"], "Restart": ["on-failure"], "NotifyAccess": ["main"], "ProtectSystem": ["strict"],
        "NoNewPrivileges": ["yes"], "PrivateTmp": ["yes"], "ProtectHome": ["yes"],
        "StateDirectory": ["cscart-smile-bridge"], "ConfigurationDirectory": ["cscart-smile-bridge"],
        "User": ["cscart-bridge"],
    }
    for key, value in expected.items():
        assert service[key] == value, key
    assert service["WatchdogSec"] and service["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
    assert "@system-service" in service["SystemCallFilter"]
    assert service["ExecReload"] == ["/bin/kill -HUP $MAINPID"]  # SIGHUP reloads the rules
    assert service["ExecStart"][0].startswith(f"{INSTALLED_BRIDGE} run --config ")
    credentials = {entry.split(":", 1)[0] for entry in service["LoadCredential"]}
    assert {"cscart_api_key", "cscart_hmac_secret"} <= credentials <= set(CREDENTIAL_FILES)
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]


def test_stop_timeout_leaves_room_for_the_drain() -> None:
    service = directives(UNIT.read_text(encoding="utf-8"))["Service"]
    # the drain on SIGTERM (dispatch.drain_timeout, 20 s by default) must fit inside TimeoutStopSec
    assert int(service["TimeoutStopSec"][0].rstrip("s")) > 20 + 5
