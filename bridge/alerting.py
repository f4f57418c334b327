"""Render the Prometheus alert rules for a site: texts in the operator's language, absolute runbook links.

    python -m bridge.alerting --docs-url https://intra.example.jp/bridge-docs [--language ja] \\
        [--input ops/prometheus/alerts.yml] [--output /etc/prometheus/rules/cscart-smile-bridge.yml]

The English texts live here (marked for the message catalogue, so the Japanese is in ``bridge.po`` beside every
other message); ``summary``/``description`` get the chosen language, ``summary_en``/``description_en`` keep the
English, ``runbook`` stays the relative doc link and ``runbook_url`` is ``DOCS_URL/operations.html#<alert>``
(``DOCS_URL/ja/運用ガイド.html#<alert>`` for Japanese). The shipped ``ops/prometheus/alerts.yml`` is this rendering
with ``DEFAULT_DOCS_URL`` in Japanese; a test keeps the two in step.
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

from bridge import i18n
from bridge.i18n import N_, _
from bridge.opsfile import render_main

DEFAULT_DOCS_URL = "https://bridge-docs.example.jp"  # a placeholder: render with your own --docs-url

# alert → (summary, description), English; Prometheus templates ({{ $value }}) stay as they are in translations.
TEXTS: dict[str, tuple[str, str]] = {
    "BridgeDown": (
        N_("The bridge on {{ $labels.instance }} does not answer /metrics"),
        N_("Prometheus could not scrape the bridge for 5 minutes. Nothing is being synced.")),
    "BridgeAbsent": (
        N_("Prometheus has no scrape target for the bridge at all"),
        N_("No up series for job cscart-smile-bridge for 5 minutes: the scrape config is missing or renamed, so "
           "BridgeDown cannot fire either.")),
    "BridgeRestarting": (
        N_("The bridge on {{ $labels.instance }} restarted {{ $value }} times in the last hour"),
        N_("Crashes or watchdog restarts (a job stuck past stuck_after). See journalctl -u cscart-smile-bridge.")),
    "BridgeJobStale": (
        N_("Sync job {{ $labels.sync_job }} has not succeeded within twice its interval"),
        N_("bridge status shows the last error; CS-Cart or the SMILE share may be unreachable.")),
    "BridgeDeadLetters": (
        N_("{{ $value }} write(s) failed for good and wait for an operator"),
        N_("bridge dlq list shows them with the error and a hint; fix the cause, then bridge dlq replay.")),
    "BridgeOutboxBacklogGrowing": (
        N_("Outbox backlog {{ $value }} and growing for 30 minutes"),
        N_("A target is slow or failing (retries wait in pending). Check API errors on the dashboard.")),
    "BridgeCSCartAuthFailing": (
        N_("CS-Cart refuses the bridge's API credentials (401/403)"),
        N_("The API key was changed or the API user disabled. Nothing reaches CS-Cart until it is fixed.")),
    "BridgeSmileFileQuarantined": (
        N_("An inbox file ({{ $labels.layout }}) was quarantined"),
        N_("The file could not be read or was refused; it was not applied. The log names file, line and field.")),
    "BridgeStockGuardTripped": (
        N_("The stock mass-change guard held a stock file"),
        N_("Too many stock levels would change at once. Check the file; apply it with bridge sync stock --force.")),
    "BridgeStockBelowReorder": (
        N_("{{ $value }} SKU(s) at or below their reorder point"),
        N_("Order from the supplier: bridge report stock lists the SKUs with a suggested quantity.")),
    "BridgeOrderNotConfirmed": (
        N_("{{ $value }} order(s) sent to SMILE are not confirmed by it"),
        N_("SMILE did not import the order file in time. Check the SMILE import and the outbox folder.")),
    "BridgeShipmentDelayed": (
        N_("{{ $value }} order(s) instructed for shipping have no tracking number past their due time"),
        N_("The carrier result file did not arrive or did not contain these orders.")),
}

DOC_PAGES = {"en": "operations.html", "ja": "ja/運用ガイド.html"}


class MissingTexts(ValueError):
    """An alert of the rules file has no texts in ``TEXTS`` (add them, then the Japanese in bridge.po)."""


def render(source: str, docs_url: str, language: str = "ja") -> str:
    from ruamel.yaml import YAML

    yaml = YAML()  # round trip: comments and layout of the rules file are kept
    yaml.width = 4096
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    data = yaml.load(source)
    previous = i18n.get_language()
    i18n.set_language(language)
    try:
        missing = []
        for group in data["groups"]:
            for rule in group["rules"]:
                name = rule["alert"]
                if name not in TEXTS:
                    missing.append(name)
                    continue
                summary, description = TEXTS[name]
                notes = rule["annotations"]
                values = {
                    "summary": _(summary), "description": _(description), "summary_en": summary,
                    "description_en": description,
                    "runbook_url": f"{docs_url.rstrip('/')}/{DOC_PAGES[language]}#{name.lower()}",
                }
                notes["runbook"] = f"docs/operations.md#{name.lower()}"
                for key, value in values.items():  # new keys go before runbook, which ends each rule's block
                    if key in notes:
                        notes[key] = value
                    else:
                        notes.insert(list(notes).index("runbook"), key, value)
        if missing:
            raise MissingTexts(f"alerts without texts in bridge/alerting.py TEXTS: {', '.join(missing)}")
    finally:
        i18n.set_language(previous)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    def docs_url(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--docs-url", default=DEFAULT_DOCS_URL, help="where the rendered docs are served")

    return render_main(argv, prog="python -m bridge.alerting", description=__doc__.split("\n\n")[0],
                       default_input=Path("ops/prometheus/alerts.yml"), add_arguments=docs_url,
                       render=lambda text, args: render(text, args.docs_url, args.language), errors=(MissingTexts,))




if __name__ == "__main__":
    raise SystemExit(main())
