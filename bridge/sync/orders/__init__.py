"""The orders flow: CS-Cart orders → gates → SMILE 受注 file → read-back, and the order's workflow state.

- ``source`` (polling ``orders`` with a cursor) and ``event_feed`` (the add-on's event feed): where orders come from.
- ``hook``: the add-on's signed wake-up push (``POST /hooks/cscart``) that runs the job at once.
- ``workflow``: the pure decisions: which move an order makes, what it writes and mails (no I/O).
- ``rules`` and ``settings``: the rules files and settings the flow reads.
- ``moves``: the workflow's decisions carried out in the run's transaction (the shipping job's moves too).
- ``credit``: the one credit-exposure formula (orders gate, customers job, add-on checkout figure).
- ``catalog_wait``, ``direct_ship``, ``hand_work``: what a decision needs besides the order (a product not bound
  *yet*, the products' 直送可 flag, the tracking numbers behind the statuses staff set by hand).
- ``delivery``: お届け希望日 / 時間帯 offered at checkout and read back from the order.
- ``export``: the 受注 file for SMILE; ``batches``: a recorded batch written, recovered after a crash, or resent;
  ``readback``: SMILE's 売上明細 confirms what it imported.
- ``mails``: the add-on's customer mails that are no status change (入金確認, 遅延のお知らせ, 返品受付).
- ``returns``: approved 返品 requests (CS-Cart's rma add-on) → a 返品 file for SMILE and the customer's mail.
- ``job``: the orchestration, one run = fetch → decide → one store transaction → outbox.
"""
