"""The campaigns flow: ``rules/campaigns.yaml`` → live CS-Cart promotions (through the smile_bridge add-on), switched
on and off at their minute, reported to SMILE on the 受注 slip and measured from the orders mirror.

- ``mapper``: one campaign → the promotion the add-on stores (pure): target, conditions and benefits as CS-Cart's
  condition tree and bonus list, with the ids looked up in ``Lookups`` (categories from the rules, products and
  customers from the bindings, usergroups and shippings from CS-Cart).
- ``job``: the ``campaigns`` job (every ``jobs.campaigns.interval``, on rules reload and at each campaign's start
  and end minute): maps every campaign, diffs against the ledger, enqueues only changes; campaigns removed, disabled
  or ended are disabled in CS-Cart (never deleted); promotions edited by hand in the admin are reported and put back.
- ``notify``: start, end, usage cap and repair → log line, metric, MQTT event (``campaign_changed``).
- ``applied``: which campaigns an order got (from the orders mirror) → the 受注 slip's 値引 and ¥0 bonus lines.
- ``report``: the effect report (``bridge campaigns report``): orders, customers, usage rate, revenue, discount
  cost, average order value against before and against non-participants, incremental gross margin, ROI.
- ``bridge campaigns list`` / ``plan`` (``bridge/cli/campaigns_cmd.py``): each campaign's state now, its promotion
  id, the next write.

The add-on side is ``Tygh/Api/Entities/SmileBridgePromotions.php`` (+ ``lib/SmileBridge/PromotionBuilder.php``);
the REST edge is ``bridge/cscart/promotions.py``; the simulator's promotions are ``bridge/cscart/sim/promotions.py``.
"""
