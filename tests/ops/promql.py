"""Metric names used by PromQL expressions, and metric names the bridge exports."""

from __future__ import annotations

import re

from prometheus_client import CollectorRegistry

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^{}]*\}")
_RANGES = re.compile(r"\[[^\[\]]*\]")
# Label lists after grouping and matching keywords: by (a, b), on (a), group_left (a) …
_LABEL_LISTS = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)", re.IGNORECASE)
_IDENT = re.compile(r"(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?")
_KEYWORDS = {"and", "or", "unless", "offset", "bool", "by", "without", "on", "ignoring", "group_left", "group_right",
             "inf", "nan", "atan2"}


def metric_names(expr: str) -> set[str]:
    """Every metric name an expression selects (function names, keywords and label names left out)."""
    text = _STRINGS.sub('""', expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGES.sub(" ", text)
    text = _LABEL_LISTS.sub(" ", text)
    text = re.sub(r"\$__\w+|\$\{?\w+\}?", " ", text)  # Grafana variables
    names = set()
    for match in _IDENT.finditer(text):
        name, call = match.group(1), match.group(2)
        if call or name.lower() in _KEYWORDS or re.fullmatch(r"\d+[smhdwy]", name):
            continue
        names.add(name)
    return names


def exported_names(registry: CollectorRegistry) -> set[str]:
    """Sample names each family produces: counters gain _total, histograms _bucket/_count/_sum, and so on."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "summary": ("", "_count", "_sum", "_created"),
        "gauge": ("",),
        "info": ("_info",),
        "stateset": ("",),
        "gaugehistogram": ("_bucket", "_gcount", "_gsum"),
        "unknown": ("",),
    }
    names = set()
    for family in registry.collect():
        names.update(family.name + suffix for suffix in suffixes[family.type])
    return names
