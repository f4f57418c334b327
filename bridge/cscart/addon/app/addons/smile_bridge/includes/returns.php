<?php
/**
 * Returns (返品) through CS-Cart's rma add-on: a status change of a return request writes the event
 * return.status_changed (hook rma_update_details_post), and GET /api/smile_bridge_returns shows the requests with
 * their products, so the daemon can write the SMILE 返品 slip of an approved one.
 */

use SmileBridge\EventSerializer;
use SmileBridge\ReturnSerializer;

if (!defined('BOOTSTRAP')) {
    die('Access denied');
}

/** Hook rma_update_details_post (rma's fn_rma_update_details): the request's status changed. */
function fn_smile_bridge_rma_update_details_post($data, $show_confirmation_page, $show_confirmation, $is_refund, $_data, $confirmed): void
{
    $change = isset($data['change_return_status']) && is_array($data['change_return_status']) ? $data['change_return_status'] : [];
    if (empty($change['return_id']) || !isset($_data['status'])) {
        return;  // the confirmation page was shown: nothing changed yet
    }
    $from = (string) ($change['status_from'] ?? '');
    $to = (string) $_data['status'];
    if ($from === $to) {
        return;
    }
    fn_smile_bridge_record_event(EventSerializer::RETURN_STATUS_CHANGED, (int) $change['return_id'], [
        'order_id' => (int) ($change['order_id'] ?? 0),
        'status_from' => $from,
        'status_to' => $to,
    ]);
}

function fn_smile_bridge_rma_available(): bool
{
    return (bool) db_has_table('rma_returns');
}

/** @return array<string, mixed>|null */
function fn_smile_bridge_return_json(int $return_id, string $lang_code = CART_LANGUAGE): ?array
{
    $row = db_get_row('SELECT * FROM ?:rma_returns WHERE return_id = ?i', $return_id);
    if (!$row) {
        return null;
    }
    $products = db_get_array('SELECT * FROM ?:rma_return_products WHERE return_id = ?i', $return_id);
    $codes = db_get_hash_single_array(
        'SELECT item_id, product_code FROM ?:order_details WHERE order_id = ?i',
        ['item_id', 'product_code'],
        (int) $row['order_id']
    );
    $reasons = db_get_hash_single_array(
        'SELECT property_id, property FROM ?:rma_property_descriptions WHERE lang_code = ?s',
        ['property_id', 'property'],
        $lang_code
    );
    return ReturnSerializer::toJson($row, $products, $codes, $reasons);
}
