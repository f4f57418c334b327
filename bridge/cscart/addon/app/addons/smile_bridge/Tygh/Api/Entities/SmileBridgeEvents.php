<?php
/**
 * GET /api/smile_bridge_events?after_id=&limit=   events with id > after_id, oldest first, at most limit (≤ 1000)
 * GET /api/smile_bridge_events/:id                 one event
 * PUT /api/smile_bridge_events/:id                 acknowledge every event up to :id (never moves back)
 * Without after_id the feed starts after the acknowledged id. Contract: docs/addon.md.
 */

namespace Tygh\Api\Entities;

use SmileBridge\EventSerializer;
use Tygh\Api\AEntity;
use Tygh\Api\Response;

class SmileBridgeEvents extends AEntity
{
    public function index($id = '', $params = array())
    {
        if ($id !== '' && $id !== null) {
            $row = db_get_row('SELECT * FROM ?:smile_bridge_events WHERE event_id = ?i', $id);
            if (!$row) {
                return ['status' => Response::STATUS_NOT_FOUND, 'data' => ['message' => 'event ' . (int) $id . ' not found (purged or never written)']];
            }
            return ['status' => Response::STATUS_OK, 'data' => EventSerializer::fromRow($row)];
        }
        $acknowledged = (int) fn_smile_bridge_get_param('events.acknowledged_id', '0');
        try {
            $query = EventSerializer::feedParams((array) $params, $acknowledged);
        } catch (\InvalidArgumentException $exc) {
            return ['status' => Response::STATUS_BAD_REQUEST, 'data' => ['message' => $exc->getMessage()]];
        }
        $rows = db_get_array(
            'SELECT * FROM ?:smile_bridge_events WHERE event_id > ?i ORDER BY event_id ASC LIMIT ?i',
            $query['after_id'],
            $query['limit'] + 1
        );
        $statuses = [];
        foreach (array_keys(fn_smile_bridge_status_definitions()) as $key) {
            $statuses[$key] = fn_smile_bridge_get_param('status.' . $key);
        }
        $feed = EventSerializer::feed((array) $rows, $query['after_id'], $query['limit'], $acknowledged, $statuses);
        return ['status' => Response::STATUS_OK, 'data' => $feed];
    }

    public function create($params)
    {
        return ['status' => Response::STATUS_METHOD_NOT_ALLOWED, 'data' => ['message' => 'events are written by the add-on; acknowledge with PUT /api/smile_bridge_events/<id>']];
    }

    public function update($id, $params)
    {
        if (!ctype_digit((string) $id)) {
            return ['status' => Response::STATUS_BAD_REQUEST, 'data' => ['message' => 'the event id to acknowledge must be a non-negative integer']];
        }
        $newest = (int) db_get_field('SELECT MAX(event_id) FROM ?:smile_bridge_events');
        $current = (int) fn_smile_bridge_get_param('events.acknowledged_id', '0');
        $acknowledged = max($current, min((int) $id, max($newest, $current)));
        fn_smile_bridge_set_param('events.acknowledged_id', (string) $acknowledged);
        $purged = fn_smile_bridge_purge_events();
        return ['status' => Response::STATUS_OK, 'data' => ['acknowledged_id' => $acknowledged, 'purged' => $purged]];
    }

    public function delete($id)
    {
        return ['status' => Response::STATUS_METHOD_NOT_ALLOWED, 'data' => ['message' => 'events are purged by age (setting event_retention_days)']];
    }

    public function privileges()
    {
        return [
            'index' => 'view_orders',
            'create' => false,
            'update' => 'view_orders',
            'delete' => false,
        ];
    }
}
