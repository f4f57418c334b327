"""The SHIPPED rules files (rules/*.yaml as the repository delivers them) for flow tests on the simulator.

Only ``states`` of order_flow.yaml changes: the add-on picks its status letters from the free ones on each store,
and the simulator's add-on took A/E/G/H (the shipped file lists H/J/S/W). Every gate, payment class, notification
and cancellation setting stays exactly as shipped — a flow that only works with test rules is a defect (issue 15).
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from bridge.cscart.sim.seed import ORDER_FLOW_YAML as SIMULATOR_ORDER_FLOW

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_RULES = ROOT / "rules"


def shipped_order_flow(**changes: Any) -> str:
    """rules/order_flow.yaml with the simulator's status letters; ``changes`` replace top-level keys."""
    yaml = YAML(typ="safe")
    data = yaml.load((SHIPPED_RULES / "order_flow.yaml").read_text(encoding="utf-8"))
    data["states"] = yaml.load(SIMULATOR_ORDER_FLOW)["states"]
    data.update(changes)
    out = io.StringIO()
    YAML().dump(data, out)
    return out.getvalue()


def shipped_rules_dir(target: Path, **order_flow_changes: Any) -> Path:
    """A rules folder: every shipped file copied, order_flow.yaml with the simulator's letters."""
    target.mkdir(parents=True, exist_ok=True)
    for path in SHIPPED_RULES.glob("*.yaml"):
        shutil.copy(path, target / path.name)
    (target / "order_flow.yaml").write_text(shipped_order_flow(**order_flow_changes), encoding="utf-8")
    return target
