<?php

namespace SmileBridge;

/**
 * The body of POST /api/smile_bridge_mails (pure): {"order_id": 12, "kind": "delay", "key": "…", "values": {…}}.
 * key (1–128 printable ASCII characters) makes the call idempotent; values are MailContext::VALUE_KEYS.
 */
final class MailRequest
{
    /** @var int */
    public $orderId;
    /** @var string */
    public $kind;
    /** @var string */
    public $key;
    /** @var array<string, mixed> */
    public $values;

    /**
     * @param mixed $body
     * @throws \InvalidArgumentException naming the field and what it must be
     */
    public static function parse($body): self
    {
        if (!is_array($body)) {
            throw new \InvalidArgumentException('the body must be a JSON object {"order_id", "kind", "key", "values"} sent with Content-Type: application/json');
        }
        $request = new self();
        $id = $body['order_id'] ?? null;
        if (!(is_int($id) || (is_string($id) && ctype_digit($id))) || (int) $id <= 0) {
            throw new \InvalidArgumentException('order_id: must be a positive integer');
        }
        $request->orderId = (int) $id;
        $kind = $body['kind'] ?? null;
        if (!is_string($kind) || !MailContext::isKind($kind)) {
            throw new \InvalidArgumentException('kind: must be one of ' . implode(', ', array_keys(MailContext::KINDS)));
        }
        $request->kind = $kind;
        $key = $body['key'] ?? null;
        if (!is_string($key) || !preg_match('/^[\x21-\x7E]{1,128}$/', $key)) {
            throw new \InvalidArgumentException('key: must be 1-128 printable ASCII characters without spaces (one per mail: a repeat is not sent again)');
        }
        $request->key = $key;
        $values = $body['values'] ?? [];
        if (!is_array($values)) {
            throw new \InvalidArgumentException('values: must be an object of ' . implode(', ', MailContext::VALUE_KEYS));
        }
        foreach (array_keys($values) as $name) {
            if (!in_array($name, MailContext::VALUE_KEYS, true)) {
                throw new \InvalidArgumentException('values.' . $name . ': unknown; allowed: ' . implode(', ', MailContext::VALUE_KEYS));
            }
        }
        $request->values = $values;
        return $request;
    }
}
