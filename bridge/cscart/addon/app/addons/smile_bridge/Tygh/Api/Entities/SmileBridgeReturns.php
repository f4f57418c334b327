<?php
/**
 * GET /api/smile_bridge_returns?statuses=A,C&since=<unix>&limit=<n>   return requests (CS-Cart's rma add-on), newest
 *                                                                      first, with their products
 * GET /api/smile_bridge_returns/:id                                    one return request
 * 404 "rma" when CS-Cart's rma add-on has no tables here. Contract: docs/addon.md §5.5.
 */

namespace Tygh\Api\Entities;

use SmileBridge\ReturnSerializer;
use Tygh\Api\AEntity;
use Tygh\Api\Response;

class SmileBridgeReturns extends AEntity
{
    public function index($id = '', $params = array())
    {
        if (!fn_smile_bridge_rma_available()) {
            return ['status' => Response::STATUS_NOT_FOUND, 'data' => ['message' => 'CS-Cart\'s rma add-on (returns) is not installed on this store']];
        }
        if ($id !== '' && $id !== null) {
            $return = fn_smile_bridge_return_json((int) $id);
            if ($return === null) {
                return ['status' => Response::STATUS_NOT_FOUND, 'data' => ['message' => 'return ' . (int) $id . ' not found']];
            }
            return ['status' => Response::STATUS_OK, 'data' => $return];
        }
        try {
            $query = ReturnSerializer::listParams((array) $params);
        } catch (\InvalidArgumentException $exc) {
            return ['status' => Response::STATUS_BAD_REQUEST, 'data' => ['message' => $exc->getMessage()]];
        }
        $condition = db_quote('timestamp >= ?i', $query['since']);
        if ($query['statuses']) {
            $condition .= db_quote(' AND status IN (?a)', $query['statuses']);
        }
        $ids = db_get_fields('SELECT return_id FROM ?:rma_returns WHERE ' . $condition . ' ORDER BY return_id DESC LIMIT ?i', $query['limit']);
        $returns = [];
        foreach ($ids as $return_id) {
            $return = fn_smile_bridge_return_json((int) $return_id);
            if ($return !== null) {
                $returns[] = $return;
            }
        }
        return ['status' => Response::STATUS_OK, 'data' => ['returns' => $returns, 'params' => $query]];
    }

    public function create($params)
    {
        return ['status' => Response::STATUS_METHOD_NOT_ALLOWED, 'data' => ['message' => 'returns are read-only here: change them in CS-Cart (Orders → Return requests)']];
    }

    public function update($id, $params)
    {
        return $this->create($params);
    }

    public function delete($id)
    {
        return $this->create([]);
    }

    public function privileges()
    {
        return ['index' => 'view_orders', 'create' => false, 'update' => false, 'delete' => false];
    }
}
