<?php
/**
 * POST /api/smile_bridge_mails {"order_id", "kind", "key", "values"}: sends one of the add-on's customer mails for
 * an order with CS-Cart's mailer, once per key. 200 {"status": "sent"|"duplicate"}; 400 bad body; 404 no such order;
 * 409 the template is disabled; 500 the mailer did not send it. Contract: docs/addon.md.
 */

namespace Tygh\Api\Entities;

use SmileBridge\MailRequest;
use Tygh\Api\AEntity;
use Tygh\Api\Response;

class SmileBridgeMails extends AEntity
{
    public function index($id = '', $params = array())
    {
        return ['status' => Response::STATUS_METHOD_NOT_ALLOWED, 'data' => ['message' => 'send POST /api/smile_bridge_mails {"order_id", "kind", "key", "values"}']];
    }

    public function create($params)
    {
        try {
            $request = MailRequest::parse($params);
        } catch (\InvalidArgumentException $exc) {
            return ['status' => Response::STATUS_BAD_REQUEST, 'data' => ['message' => $exc->getMessage()]];
        }
        $result = fn_smile_bridge_send_mail($request->orderId, $request->kind, $request->key, $request->values);
        $codes = ['sent' => Response::STATUS_OK, 'duplicate' => Response::STATUS_OK, 'not_found' => Response::STATUS_NOT_FOUND,
            'disabled' => Response::STATUS_CONFLICT, 'not_sent' => Response::STATUS_INTERNAL_SERVER_ERROR];
        return ['status' => $codes[$result['status']] ?? 500, 'data' => $result];
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
        return ['index' => 'view_orders', 'create' => 'edit_order', 'update' => 'edit_order', 'delete' => 'edit_order'];
    }
}
