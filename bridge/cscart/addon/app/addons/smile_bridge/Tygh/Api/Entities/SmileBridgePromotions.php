<?php
/**
 * /api/smile_bridge_promotions: the promotions the bridge manages, by campaign id (docs/addon.md §10).
 *
 * GET                  {"promotions": [{campaign_id, promotion_id, status, number_of_usages, edited, …}],
 *                      "capabilities": {"reward_points": bool}}
 * GET    /<campaign>   one of them
 * PUT    /<campaign>   create or update through fn_update_promotion (all languages); {"status": "D"} alone only
 *                      switches it off; "dry_run": true answers the promotion it would store and writes nothing
 * POST, DELETE         405: promotions are never deleted (orders refer to them)
 */

namespace Tygh\Api\Entities;

use Tygh\Api\AEntity;
use Tygh\Api\Response;

if (!function_exists('fn_smile_bridge_promotions')) {
    require_once __DIR__ . '/../../../includes/promotions.php';  // func.php loads it too; this keeps the entity whole
}

class SmileBridgePromotions extends AEntity
{
    /** Campaign ids, not numbers: core's AEntity accepts numeric ids only (any other id answers 404). */
    public function isValidIdentifier($id)
    {
        return is_string($id) && preg_match('/^[a-z0-9][a-z0-9_\-]{0,63}$/', $id) === 1;
    }

    public function index($id = '', $params = array())
    {
        $service = fn_smile_bridge_promotions();
        if ($id === '' || $id === null) {
            return ['status' => Response::STATUS_OK, 'data' => $service->listing()];
        }
        $row = $service->one((string) $id);
        if ($row === null) {
            return ['status' => Response::STATUS_NOT_FOUND, 'data' => ['message' => "campaign $id has no promotion"]];
        }
        return ['status' => Response::STATUS_OK, 'data' => $row];
    }

    public function create($params)
    {
        return $this->refuse('create or update with PUT /api/smile_bridge_promotions/<campaign id>');
    }

    public function update($id, $params)
    {
        $result = fn_smile_bridge_promotions()->put((string) $id, is_array($params) ? $params : []);
        return ['status' => $result['status'], 'data' => $result['data']];
    }

    public function delete($id)
    {
        return $this->refuse('promotions are never deleted (orders refer to them): PUT {"status": "D"} instead');
    }

    private function refuse(string $message): array
    {
        return ['status' => Response::STATUS_METHOD_NOT_ALLOWED, 'data' => ['message' => $message]];
    }

    public function privileges()
    {
        return [
            'index' => 'manage_promotions',
            'create' => 'manage_promotions',
            'update' => 'manage_promotions',
            'delete' => 'manage_promotions',
        ];
    }
}
