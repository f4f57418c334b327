<?php
/**
 * POST /api/smile_bridge_batch {"items": [...]}: 1–500 stock, price-tier, customer-price, field and setting
 * updates in one request; 200 with one result per item, in order; 403 unless the API user holds the privilege of
 * every entity the items touch (BatchValidator::PRIVILEGES). Contract: docs/addon.md.
 */

namespace Tygh\Api\Entities;

use SmileBridge\BatchRejected;
use SmileBridge\BatchResult;
use SmileBridge\BatchValidator;
use Tygh\Api\AEntity;
use Tygh\Api\Response;

class SmileBridgeBatch extends AEntity
{
    public function index($id = '', $params = array())
    {
        return ['status' => Response::STATUS_METHOD_NOT_ALLOWED, 'data' => ['message' => 'send POST /api/smile_bridge_batch {"items": [...]}']];
    }

    public function create($params)
    {
        try {
            $items = BatchValidator::items($params);
        } catch (BatchRejected $exc) {
            return ['status' => Response::STATUS_BAD_REQUEST, 'data' => ['message' => $exc->getMessage()]];
        }
        $user_id = isset($this->auth['user_id']) ? (int) $this->auth['user_id'] : 0;
        $missing = array_values(array_filter(BatchValidator::requiredPrivileges($items), function ($privilege) use ($user_id) {
            return !fn_check_user_access($user_id, $privilege);
        }));
        if ($missing) {
            return ['status' => Response::STATUS_FORBIDDEN, 'data' => ['message' => 'the API user lacks the privilege(s) ' . implode(', ', $missing) . ' this batch needs']];
        }
        // 500 fn_update_product calls can outlast a default max_execution_time of 30 s.
        @set_time_limit(300);
        return ['status' => Response::STATUS_OK, 'data' => BatchResult::response(fn_smile_bridge_batch_apply($items))];
    }

    public function update($id, $params)
    {
        return $this->index();
    }

    public function delete($id)
    {
        return $this->index();
    }

    public function privileges()
    {
        return [
            'index' => true,
            'create' => true,  // checked in create(): the privilege of every entity the items touch
            'update' => true,
            'delete' => true,
        ];
    }
}
