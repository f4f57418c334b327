<?php
/**
 * お届け希望日 and 時間帯 at checkout (issue 15): the choices per shipping method come from the daemon (param
 * delivery_methods: rules/shipping.yaml's lead time, cut-off, holidays and the carrier's slot labels), the customer's
 * choice is checked before the order is placed and stored on it (orders.smile_delivery_date / smile_delivery_slot),
 * and REST shows it on every order. A store with CS-Cart.jp's own delivery fields (jp_order_delivery_info) sets the
 * param delivery_source to cscart_jp (the daemon's orders.delivery_fields): those values are shown under the same
 * names, and the add-on offers no fields of its own.
 */

use SmileBridge\DeliveryDates;

if (!defined('BOOTSTRAP')) {
    die('Access denied');
}

function fn_smile_bridge_delivery_source(): string
{
    return fn_smile_bridge_get_param('delivery_source', 'smile_bridge') === 'cscart_jp' ? 'cscart_jp' : 'smile_bridge';
}

/** The pushed settings for one shipping method, or null (no date or slot is offered for it). */
function fn_smile_bridge_delivery_method(int $shipping_id): ?array
{
    if (fn_smile_bridge_delivery_source() !== 'smile_bridge') {
        return null;
    }
    $methods = DeliveryDates::parseMethods(fn_smile_bridge_get_param('delivery_methods', '{}'));
    return isset($methods[$shipping_id]) ? $methods[$shipping_id] : null;
}

function fn_smile_bridge_delivery_now(): \DateTimeImmutable
{
    return (new \DateTimeImmutable('@' . (defined('TIME') ? TIME : time())))->setTimezone(new \DateTimeZone('Asia/Tokyo'));
}

/** The cart's (first) chosen shipping method. */
function fn_smile_bridge_cart_shipping_id(array $cart): int
{
    if (!empty($cart['chosen_shipping']) && is_array($cart['chosen_shipping'])) {
        return (int) reset($cart['chosen_shipping']);
    }
    return isset($cart['shipping_id']) ? (int) $cart['shipping_id'] : 0;
}

/** Dates and slots the checkout template offers for the cart ([] = none). */
function fn_smile_bridge_delivery_options(array $cart): array
{
    $method = fn_smile_bridge_delivery_method(fn_smile_bridge_cart_shipping_id($cart));
    if ($method === null) {
        return [];
    }
    return ['dates' => DeliveryDates::dates($method, fn_smile_bridge_delivery_now()), 'slots' => DeliveryDates::slots($method)];
}

/** The checkout request's choice into the cart (controllers/frontend/checkout.pre.php). */
function fn_smile_bridge_delivery_from_request(array &$cart, array $request): void
{
    if (!isset($request['smile_delivery_date']) && !isset($request['smile_delivery_slot'])) {
        return;
    }
    $cart['smile_delivery_date'] = substr(trim((string) ($request['smile_delivery_date'] ?? '')), 0, 10);
    $cart['smile_delivery_slot'] = mb_substr(trim((string) ($request['smile_delivery_slot'] ?? '')), 0, 32, 'UTF-8');
}

/**
 * The cart's choice that applies to its shipping method, as [method, date, slot]: [null, '', ''] when the method
 * offers no date or time (DeliveryDates::applicable: what the checkout does not offer is neither refused nor kept).
 */
function fn_smile_bridge_delivery_choice(array $cart): array
{
    $method = fn_smile_bridge_delivery_method(fn_smile_bridge_cart_shipping_id($cart));
    [$date, $slot] = DeliveryDates::applicable(
        $method,
        isset($cart['smile_delivery_date']) ? (string) $cart['smile_delivery_date'] : '',
        isset($cart['smile_delivery_slot']) ? (string) $cart['smile_delivery_slot'] : ''
    );
    return [$method, $date, $slot];
}

/** Why the cart's choice cannot be placed ('' = fine); checked again in pre_place_order. */
function fn_smile_bridge_delivery_message(array $cart): string
{
    [$method, $date, $slot] = fn_smile_bridge_delivery_choice($cart);
    if ($method === null || ($date === '' && $slot === '')) {
        return '';
    }
    $problem = DeliveryDates::check($method, fn_smile_bridge_delivery_now(), $date, $slot);
    $texts = [
        DeliveryDates::BAD_DATE => 'smile_bridge.delivery_date_format',
        DeliveryDates::TOO_EARLY => 'smile_bridge.delivery_date_too_early',
        DeliveryDates::TOO_LATE => 'smile_bridge.delivery_date_too_late',
        DeliveryDates::UNKNOWN_SLOT => 'smile_bridge.delivery_slot_unknown',
    ];
    return $problem === DeliveryDates::OK ? '' : __($texts[$problem]);
}

/** Copy the checked choice onto the placed order (called from fn_smile_bridge_store_order_fields). */
function fn_smile_bridge_store_delivery_fields(int $order_id, array $cart): void
{
    if ($order_id <= 0 || fn_smile_bridge_delivery_source() !== 'smile_bridge') {
        return;
    }
    [, $date, $slot] = fn_smile_bridge_delivery_choice($cart);
    if ($date === '' && $slot === '') {
        return;
    }
    db_query('UPDATE ?:orders SET ?u WHERE order_id = ?i',
        ['smile_delivery_date' => $date, 'smile_delivery_slot' => $slot], $order_id);
}

/** REST list rows: with CS-Cart.jp's fields, its values under the add-on's names (fields.php get_orders hook). */
function fn_smile_bridge_delivery_list_fields(array &$fields): void
{
    if (fn_smile_bridge_delivery_source() !== 'cscart_jp') {
        return;
    }
    foreach ($fields as $index => $field) {
        if ($field === '?:orders.smile_delivery_date') {
            $fields[$index] = '(SELECT j.delivery_date FROM ?:jp_order_delivery_info AS j WHERE j.order_id = ?:orders.order_id '
                . 'ORDER BY j.group_key LIMIT 1) AS smile_delivery_date';
        } elseif ($field === '?:orders.smile_delivery_slot') {
            $fields[$index] = '(SELECT j.delivery_timing FROM ?:jp_order_delivery_info AS j WHERE j.order_id = ?:orders.order_id '
                . 'ORDER BY j.group_key LIMIT 1) AS smile_delivery_slot';
        }
    }
}

/**
 * GET /orders/:id (and get_orders_data=1 rows): CS-Cart.jp's values under the add-on's names. Called from the
 * get_order_info hook handler (includes/promotions.php), which the add-on registers once.
 */
function fn_smile_bridge_delivery_order_info(array &$order): void
{
    if (empty($order['order_id']) || fn_smile_bridge_delivery_source() !== 'cscart_jp') {
        return;
    }
    $row = db_get_row('SELECT delivery_date, delivery_timing FROM ?:jp_order_delivery_info WHERE order_id = ?i ORDER BY group_key LIMIT 1',
        (int) $order['order_id']);
    $order['smile_delivery_date'] = $row ? (string) $row['delivery_date'] : '';
    $order['smile_delivery_slot'] = $row ? (string) $row['delivery_timing'] : '';
}
