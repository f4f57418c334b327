<?php

namespace SmileBridge;

/**
 * The event outbox's one format: rows written by the hooks, JSON served by GET /api/smile_bridge_events.
 *
 * Event (JSON object):
 *   {"id": 17, "type": "order.status_changed", "entity": "order", "entity_id": 96,
 *    "occurred_at": 1767225600, "data": {"status_from": "O", "status_to": "P"}}
 * id grows strictly; the daemon treats the feed as at-least-once and deduplicates by id.
 * bridge/cscart/addon_protocol.py (Event) parses exactly this shape.
 */
final class EventSerializer
{
    const ORDER_PLACED = 'order.placed';
    const ORDER_STATUS_CHANGED = 'order.status_changed';
    const ORDER_UPDATED = 'order.updated';
    const ORDER_DELETED = 'order.deleted';
    const USER_UPDATED = 'user.updated';
    // A return request (CS-Cart's rma add-on) changed status: the daemon reads it (GET smile_bridge_returns/:id).
    const RETURN_STATUS_CHANGED = 'return.status_changed';

    const DEFAULT_LIMIT = 100;
    const MAX_LIMIT = 1000;

    /** type => [entity, required data keys] */
    const SCHEMA = [
        self::ORDER_PLACED => ['order', ['status', 'user_id', 'total']],
        self::ORDER_STATUS_CHANGED => ['order', ['status_from', 'status_to']],
        self::ORDER_UPDATED => ['order', ['status']],
        self::ORDER_DELETED => ['order', []],
        self::USER_UPDATED => ['user', ['action', 'user_type']],
        self::RETURN_STATUS_CHANGED => ['return', ['order_id', 'status_from', 'status_to']],
    ];

    /**
     * A row for the outbox table (columns event_type, entity, entity_id, payload, created_at).
     *
     * @param array<string, scalar|null> $data
     * @return array{event_type:string, entity:string, entity_id:int, payload:string, created_at:int}
     */
    public static function row(string $type, int $entityId, array $data, int $occurredAt): array
    {
        if (!isset(self::SCHEMA[$type])) {
            throw new \InvalidArgumentException('unknown event type "' . $type . '"');
        }
        list($entity, $required) = self::SCHEMA[$type];
        $missing = array_diff($required, array_keys($data));
        if ($missing) {
            throw new \InvalidArgumentException($type . ' event lacks data key(s): ' . implode(', ', $missing));
        }
        $clean = [];
        foreach ($required as $key) {
            $value = $data[$key];
            $clean[$key] = is_int($value) ? $value : (string) $value;
        }
        return [
            'event_type' => $type,
            'entity' => $entity,
            'entity_id' => $entityId,
            'payload' => self::json($clean === [] ? new \stdClass() : $clean),
            'created_at' => $occurredAt,
        ];
    }

    /**
     * The API shape of a stored row; scalars typed (the DB layer returns strings).
     *
     * @param array<string, mixed> $row with event_id, event_type, entity, entity_id, payload, created_at
     * @return array{id:int, type:string, entity:string, entity_id:int, occurred_at:int, data:object}
     */
    public static function fromRow(array $row): array
    {
        $data = json_decode((string) $row['payload']);
        if (!is_object($data)) {
            $data = new \stdClass();
        }
        return [
            'id' => (int) $row['event_id'],
            'type' => (string) $row['event_type'],
            'entity' => (string) $row['entity'],
            'entity_id' => (int) $row['entity_id'],
            'occurred_at' => (int) $row['created_at'],
            'data' => $data,
        ];
    }

    /**
     * Clamp the feed's query parameters: after_id >= 0 (absent = the acknowledged position), 1 <= limit <= 1000.
     *
     * @param array<string, mixed> $params
     * @return array{after_id:int, limit:int}
     */
    public static function feedParams(array $params, int $acknowledgedId): array
    {
        $afterId = $acknowledgedId;
        if (isset($params['after_id']) && $params['after_id'] !== '') {
            if (!ctype_digit((string) $params['after_id'])) {
                throw new \InvalidArgumentException('after_id must be a non-negative integer');
            }
            $afterId = (int) $params['after_id'];
        }
        $limit = self::DEFAULT_LIMIT;
        if (isset($params['limit']) && $params['limit'] !== '') {
            if (!ctype_digit((string) $params['limit']) || (int) $params['limit'] < 1) {
                throw new \InvalidArgumentException('limit must be an integer from 1 to ' . self::MAX_LIMIT);
            }
            $limit = min((int) $params['limit'], self::MAX_LIMIT);
        }
        return ['after_id' => $afterId, 'limit' => $limit];
    }

    /**
     * The GET response. $rows are the rows with event_id > after_id in id order, fetched with LIMIT limit + 1
     * so that has_more is known without a count query.
     *
     * $statuses maps the add-on's status keys (hold, shipping_instructed, shipped, notified) to this store's letters,
     * so the daemon never has to guess them from descriptions.
     *
     * @param array<int, array<string, mixed>> $rows
     * @param array<string, string> $statuses
     * @return array<string, mixed>
     */
    public static function feed(array $rows, int $afterId, int $limit, int $acknowledgedId, array $statuses = []): array
    {
        $hasMore = count($rows) > $limit;
        $events = array_map([self::class, 'fromRow'], array_slice($rows, 0, $limit));
        $last = $events ? $events[count($events) - 1]['id'] : $afterId;
        return [
            'events' => $events,
            'params' => [
                'after_id' => $afterId,
                'limit' => $limit,
                'next_after_id' => $last,
                'has_more' => $hasMore,
                'acknowledged_id' => $acknowledgedId,
                'statuses' => $statuses === [] ? new \stdClass() : $statuses,
                // what POST /api/smile_bridge_batch accepts: the daemon sends a kind only when this add-on knows it
                'batch_kinds' => BatchValidator::KINDS,
            ],
        ];
    }

    /** Body of the wake-up POST: the newest event id, so the daemon can tell a stale hint from a new one. */
    public static function wakeUpBody(int $lastEventId, int $sentAt): string
    {
        return self::json(['source' => 'smile_bridge', 'last_event_id' => $lastEventId, 'sent_at' => $sentAt]);
    }

    /** @param mixed $value */
    public static function json($value): string
    {
        $json = json_encode($value, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
        if ($json === false) {
            throw new \InvalidArgumentException('cannot encode as JSON: ' . json_last_error_msg());
        }
        return $json;
    }
}
