"""The catalog flow: SMILE's master files → CS-Cart, one job per master, each read → rules → plan → outbox.

- ``smile_input``: the newest complete SMILE file of a kind, read and validated (the inbox).
- ``index``: 商品コード/得意先コード → CS-Cart id, from the bindings (which product or user a row writes to).
- ``stock`` (every 10 min), ``prices`` (hourly), ``products`` and ``customers`` (daily), ``customer_prices``
  (得意先別単価 → the add-on): the jobs.
- ``drift``: CS-Cart amounts changed by hand are put back to what the ledger says was written.
- ``created``: a create op's new CS-Cart id is bound in the same transaction that marks it done.
"""
