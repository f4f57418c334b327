"""The orders flow: CS-Cart orders → gates → SMILE 受注 file → read-back, and the order's workflow state.

- ``source`` (polling ``orders`` with a cursor) and ``event_feed`` (the add-on's event feed): where orders come from.
- ``hook``: the add-on's signed wake-up push (``POST /hooks/cscart``) that runs the job at once.
- ``workflow``: the pure decisions: which move an order makes, what it writes and mails (no I/O).
- ``rules`` and ``settings``: the rules files and settings the flow reads.
- ``credit``: the one credit-exposure formula (orders gate, customers job, add-on checkout figure).
- ``export``: the 受注 file for SMILE; ``batches``: a recorded batch written, recovered after a crash, or resent;
  ``readback``: SMILE's 売上明細 confirms what it imported.
- ``job``: the orchestration, one run = fetch → decide → one store transaction → outbox.
"""
