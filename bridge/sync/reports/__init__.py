"""Report packs on their schedule (rules/reports.yaml): the job only decides what is due; making, writing and
mailing a pack is ``bridge.analytics.packs``."""
