"""The shipping flow: orders in 出荷指示 → carrier label files; carrier result files → shipments, 出荷済;
then the customer's shipping mail once (出荷通知済 → 完了).

- ``flow``: what the shipping steps share (rules in force, status moves, outbox writes, events).
- ``labels``: label files out (B2クラウド, e飛伝, ゆうプリR) on each carrier's schedule.
- ``results``: result files in (the inbox), tracking numbers → CS-Cart shipments.
- ``notify``: the shipping mail and the delay watch.
- ``job``: the ``shipping`` job that runs the steps on their schedules.
"""
