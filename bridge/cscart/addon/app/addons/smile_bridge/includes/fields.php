<?php
/**
 * The add-on's columns in REST list rows. Core writes any existing column through POST/PUT users and products,
 * but list reads need these hooks (cscart.md §4.1, §5.2). Orders are written through the batch kind
 * order_fields, because an order PUT with extra keys recalculates the whole order (§5.4).
 */

if (!defined('BOOTSTRAP')) {
    die('Access denied');
}

function fn_smile_bridge_get_users($params, &$fields, &$sortings, &$condition, &$join, $auth, &$group_by)
{
    foreach (array_keys(fn_smile_bridge_columns()['users']) as $column) {
        $fields[] = '?:users.' . $column;
    }
    if (isset($params['smile_customer_code']) && $params['smile_customer_code'] !== '') {
        $filter = db_quote(' AND ?:users.smile_customer_code = ?s', (string) $params['smile_customer_code']);
        if (is_array($condition)) {
            $condition['smile_customer_code'] = $filter;
        } else {
            $condition .= $filter;
        }
    }
}

function fn_smile_bridge_get_orders($params, &$fields, &$sortings, &$condition, &$join, &$group)
{
    foreach (array_keys(fn_smile_bridge_columns()['orders']) as $column) {
        $fields[] = '?:orders.' . $column;
    }
    fn_smile_bridge_delivery_list_fields($fields);
    if (isset($params['smile_direct_ship']) && in_array($params['smile_direct_ship'], ['Y', 'N'], true)) {
        $filter = db_quote(' AND ?:orders.smile_direct_ship = ?s', $params['smile_direct_ship']);
        if (is_array($condition)) {
            $condition['smile_direct_ship'] = $filter;
        } else {
            $condition .= $filter;
        }
    }
}

/** Copy the checkout's direct-ship choice onto the placed order. */
function fn_smile_bridge_store_order_fields(int $order_id, array $cart): void
{
    fn_smile_bridge_store_delivery_fields($order_id, $cart);
    if ($order_id <= 0 || empty($cart['smile_direct_ship']) || $cart['smile_direct_ship'] !== 'Y') {
        return;
    }
    db_query('UPDATE ?:orders SET ?u WHERE order_id = ?i', [
        'smile_direct_ship' => 'Y',
        'smile_direct_ship_recipient' => isset($cart['smile_direct_ship_recipient']) ? (string) $cart['smile_direct_ship_recipient'] : '',
        'smile_direct_ship_surcharge' => isset($cart['smile_direct_ship_surcharge']) ? (string) $cart['smile_direct_ship_surcharge'] : '0',
    ], $order_id);
}
