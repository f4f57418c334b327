"""The CS-Cart edge's error sentences and hints, in one place (the catalogue's source text).

They are raised with ``said(...)`` (bridge/i18n): the exception reads in the current language, and what the
dispatcher stores for a dead letter is the English source, which ``bridge dlq`` and ``bridge status`` show in the
reader's language again by matching it against ``STORED`` (bridge/i18n/stored.py). A sentence added here is added
to ``STORED`` too, so a stored one is always found again.
"""

from __future__ import annotations

from bridge.i18n import N_

# -- the REST client (bridge/cscart/client.py) --------------------------------------------------------------------
NOT_CONFIGURED = N_("cscart: url, email and api_key are all required to talk to CS-Cart")
ANSWERED = N_("CS-Cart {method} {path}: {status} {detail}")
NO_ANSWER = N_("CS-Cart {method} {path}: no answer within {seconds} s")
CONNECTION_FAILED = N_("CS-Cart {method} {path}: cannot connect ({kind}: {error})")
NOT_JSON = N_("CS-Cart {method} {path}: {status} with a body that is not JSON: {body}")
NOT_A_LISTING = N_("GET {entity}: expected a listing ({key!r} and 'params'), got {kind}")
PRICES_NEED_PRICE = N_("product {product_id}: a prices write needs price (use set_prices)")
UNKNOWN_STATUS = N_("order {order_id}: status {letter!r} does not exist in CS-Cart (known: {known})")
NO_SUCH_ORDER = N_("order {order_id}: no such order (CS-Cart answered the status change with 200)")
SHIPMENT_NEEDS_CARRIER = N_("order {order_id}: a shipment needs a carrier or a tracking number")
SHIPMENT_STATUS_UNKNOWN = N_("order {order_id}: shipment order_status {letter!r} does not exist")
NO_SUCH_USER = N_("CS-Cart GET users/{user_id}: no such user (200 with an empty list)")
LINK_STATUS = N_("user {user_id}: usergroup link status {status!r} is not A, P or F")

HINT_AUTH = N_("check cscart.email / cscart.api_key and the admin's API access in CS-Cart")
HINT_400 = N_("CS-Cart rejected the data; fix the record named in the message")
HINT_405 = N_("wrong method for this URL (a bug in the bridge)")
HINT_415 = N_("wrong Content-Type (a bug in the bridge)")
HINT_409 = N_("conflicting state in CS-Cart; check the record by hand")
HINT_STATUS_LETTER = N_("fix the letter in rules/order_flow.yaml or create the status (the add-on does)")
HINT_ORDER_BINDING = N_("check the order id binding")

# -- what CS-Cart's answers must hold (bridge/cscart/mapping.py) ---------------------------------------------------
FIELD_MISSING = N_("{where}: field {key!r} is missing")
FIELD_BAD = N_("{where}: field {key!r}: {error}")
PROMOTION_NOT_OBJECT = N_("{where}: smile_bridge_promotions[{index}] must be an object")

# -- text CS-Cart cannot store (bridge/cscart/textguard.py) --------------------------------------------------------
OUTSIDE_BMP = N_("{field}: character {character!r} (U+{code}) in {text!r} is outside the BMP; "
                 "CS-Cart would store it as '?'")
HINT_OUTSIDE_BMP = N_("add it to cscart.text_map (e.g. {character}: <BMP form>) or set cscart.text_fallback")
TOO_LONG = N_("{field}: {length} characters ({start!r}…); CS-Cart's column holds {limit}")
HINT_TOO_LONG = N_("shorten the name in SMILE (商品名) to at most {limit} characters, then replay this dead letter")

# -- the sinks (bridge/cscart/sink.py, batch_sink.py) -------------------------------------------------------------
UNKNOWN_OP = N_("op {id}: unknown CS-Cart op {op!r} (known: {known})")
PAYLOAD_NOT_OBJECT = N_("op {id} {op}: payload must be an object, got {kind}")
WAREHOUSES_MAP = N_("op {id} {op}: field 'warehouses' must map warehouse_id to amount")
STATUS_LETTER = N_("op {id} {op}: field 'status' must be one status letter, got {letter!r}")
BACKORDERED = N_("order {order_id}: CS-Cart set Backordered (B) instead of {letter}: not enough stock")
HINT_BACKORDERED = N_("restock the products or fix the order in CS-Cart, then replay this dead letter")
STATUS_KEPT = N_("order {order_id}: CS-Cart kept status {actual} instead of {letter}")
HINT_STATUS_KEPT = N_("a CS-Cart hook refused the change; check the order's history")
MAIL_KIND = N_("op {id} {op}: field 'kind' must be one of {kinds}")
VALUES_OBJECT = N_("op {id} {op}: field 'values' must be an object")
VALUES_NON_EMPTY = N_("op {id} {op}: field 'values' must be a non-empty object")
MAIL_NOT_SENT = N_("order {order}: the {kind} mail was not sent: {error}")
HINT_MAIL_NOT_SENT = N_("the order is gone, or the smile_bridge add-on is not installed (it sends the customer "
                        "mails); install it, then replay this dead letter")
PRODUCTS_MAP = N_("op {id} {op}: field 'products' must map item_id to quantity")
DUPLICATE_CODE = N_("product code {code!r} exists {count} times in CS-Cart (ids {ids})")
HINT_DUPLICATE_CODE = N_("delete or recode the duplicates in CS-Cart, then replay this dead letter")
EMAIL_REQUIRED = N_("op {id} {op}: field 'initial.email' is required")
SHARED_EMAIL = N_("{count} CS-Cart customers share the e-mail {email!r}")
HINT_SHARED_EMAIL = N_("merge them in CS-Cart, then replay this dead letter")
NO_BINDING = N_("op {id} {op}: created CS-Cart id {remote_id} but nothing records the binding")
HINT_NO_BINDING = N_("wire the sink with on_created (bridge.wiring does)")
NOT_A_LIST = N_("op {id} {op}: field {name!r} must be a list")
NOT_A_LIST_CUSTOMER_ROWS = N_("op {id} {op}: field {name!r} must be a list ([] deletes the customer's prices)")
NOT_AN_OBJECT = N_("op {id} {op}: field {name!r} must be an object")
CODE_REQUIRED = N_("op {id} {op}: field {name!r} is required (a non-empty code)")
INTEGER_REQUIRED = N_("op {id} {op}: field {name!r} is required (an integer)")
NUMBER_REQUIRED = N_("op {id} {op}: field {name!r} is required (a number)")
NOT_A_NUMBER = N_("op {id} {op}: field {name!r}: {error}")
NOT_WHOLE = N_("op {id} {op}: field {name!r} must be a whole number, got {value!r}")
AMOUNT_RANGE = N_("op {id} {op}: product {product_id}: amount {amount} is outside 0 … {maximum}, what CS-Cart's "
                  "amount column holds")
FIELDS_NON_EMPTY = N_("op {id} {op}: field 'fields' must be a non-empty object")
BATCH_FAILED = N_("op {id} {op}: the batch call failed")
ADDON_REFUSED = N_("{where}: the add-on refused the item: {message}")
HINT_ADDON_REFUSED = N_("fix the value the message names (rules/ or the SMILE data), then replay")
HINT_STALE_BINDING = N_("the CS-Cart id in the binding is stale; re-run the catalog jobs, then replay")
ADDON_MISSING = N_("op {id} {op}: needs the smile_bridge add-on, which this store does not have")
HINT_ADDON_MISSING = N_("install the add-on (docs/addon.md §1), then `bridge dlq replay`")

# -- the add-on's protocol (bridge/cscart/addon_protocol.py, addon_client.py) --------------------------------------
HMAC_EMPTY = N_("the HMAC secret is empty; set cscart.hmac_secret and the add-on's HMAC secret")
SIGNATURE_MISSING = N_("missing {header} header")
SIGNATURE_MALFORMED = N_("malformed {header} header: expected t=<unix>,v1=<hex>")
SIGNATURE_STALE = N_("signature timestamp {timestamp} is {offset} s from now (tolerance {tolerance} s); check both "
                     "clocks (NTP)")
SIGNATURE_REPLAYED = N_("replayed wake-up: this signature was already accepted")
SIGNATURE_MISMATCH = N_("signature mismatch: the secrets differ or the body was changed on the way")
EXPECTED_INTEGER = N_("{where}: expected an integer, got {value!r}")
AT_LEAST = N_("{where}: must be >= {minimum}, got {value}")
EXPECTED_OBJECT = N_("{where}: expected an object, got {kind}")
EXPECTED_OBJECT_PLAIN = N_("{where}: expected an object")
UNKNOWN_EVENT = N_("{where}: unknown event type {value!r}; known: {known}")
EVENT_ENTITY = N_("{where}: {kind} must have entity {entity!r}, got {value!r}")
EVENT_DATA_OBJECT = N_("{where}: expected an object, got {value!r}")
EVENT_DATA_LACKS = N_("{where}: {kind} lacks {keys}")
STRING_OR_INTEGER = N_("{where}: expected a string or integer, got {value!r}")
STATUS_LETTERS = N_("{where}: expected an object of key → letter, got {value!r}")
STATUS_LETTER_RANGE = N_("{where}: expected one letter A–Z except N/T, got {value!r}")
FEED_SHAPE = N_("events feed: expected an object with \"events\" (a list) and \"params\"")
FEED_PARAMS = N_("events feed: params missing")
FEED_ORDER = N_("events feed: ids not strictly increasing: {ids}")
EXPECTED_BOOLEAN = N_("{where}: expected true/false, got {value!r}")
WAKE_UP_NOT_JSON = N_("wake-up body is not JSON: {error}")
WAKE_UP_SOURCE = N_("wake-up body: expected an object with \"source\": \"smile_bridge\"")
BATCH_SHAPE = N_("batch response: expected an object with \"results\" (a list) and \"counts\"")
RESULT_CODE = N_("{where}: unknown result code {value!r}")
RESULT_ORDER = N_("{where}: {index} is out of order")
RESULT_COUNT = N_("batch response: {results} results for {sent} items")
EXPECTED_LIST = N_("{where}: expected a list, got {value!r}")
EXPECTED_DECIMAL = N_("{where}: expected a decimal, got {value!r}")
EXPECTED_STATUS_LETTER = N_("{where}: expected one status letter, got {value!r}")
ACKNOWLEDGEMENT = N_("acknowledgement: expected an object with acknowledged_id (an integer), got {value!r}")
MAIL_ANSWER = N_("mail {key}: expected status sent or duplicate, got {value!r}")
RETURNS_ANSWER = N_("returns: expected an object with \"returns\" (a list), got {value!r}")

# -- campaigns → CS-Cart promotions (bridge/cscart/promotions.py) -------------------------------------------------
PROMOTION_OP = N_("op {id}: {target} takes {expected} with an object payload, not {op}")
PROMOTIONS_MISSING = N_("op {id} {op} ({key}): the smile_bridge add-on's promotions entity does not answer: {error}")
HINT_PROMOTIONS_MISSING = N_("install or upgrade the add-on (docs/addon.md §1), then `bridge dlq replay`")

STORED: tuple[str, ...] = tuple(value for name, value in sorted(globals().items())
                                if name.isupper() and isinstance(value, str))
