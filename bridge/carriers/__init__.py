"""Carrier edge: label files (B2クラウド, e飛伝, ゆうプリR), result files, tracking, time slots, text guard."""
