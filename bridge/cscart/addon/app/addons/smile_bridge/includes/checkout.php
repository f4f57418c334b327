<?php
/**
 * Checkout: customer-specific prices, the direct-ship surcharge line, and the refusals (credit limit,
 * direct shipping not allowed) with a message in the customer's language.
 */

use SmileBridge\CreditCheck;
use SmileBridge\Decimal;
use SmileBridge\DirectShipSurcharge;
use SmileBridge\PriceSelector;

if (!defined('BOOTSTRAP')) {
    die('Access denied');
}

/**
 * Cart amounts arrive as floats or strings; print them with at most 6 decimals so Decimal accepts them.
 *
 * @param mixed $value
 */
function fn_smile_bridge_amount_text($value): string
{
    if (is_float($value) || is_int($value)) {
        return rtrim(rtrim(number_format((float) $value, 6, '.', ''), '0'), '.');
    }
    return trim((string) $value);
}

/** The user's smile_* columns, read once per request. */
function fn_smile_bridge_user_row(int $user_id): array
{
    static $cache = [];
    if (!isset($cache[$user_id])) {
        $columns = implode(', ', array_keys(fn_smile_bridge_columns()['users']));
        $row = $user_id > 0 ? db_get_row('SELECT ' . $columns . ' FROM ?:users WHERE user_id = ?i', $user_id) : [];
        $cache[$user_id] = is_array($row) ? $row : [];
    }
    return $cache[$user_id];
}

/** @return array<int, array{min_quantity:int, price:Decimal, valid_from:string, valid_to:string}> */
function fn_smile_bridge_customer_rows(int $user_id, int $product_id): array
{
    $rows = db_get_array(
        'SELECT min_quantity, price, valid_from, valid_to FROM ?:smile_bridge_customer_prices WHERE user_id = ?i AND product_id = ?i',
        $user_id,
        $product_id
    );
    $typed = [];
    foreach ((array) $rows as $row) {
        $typed[] = [
            'min_quantity' => (int) $row['min_quantity'],
            'price' => Decimal::of((string) $row['price']),
            'valid_from' => (string) $row['valid_from'],
            'valid_to' => (string) $row['valid_to'],
        ];
    }
    return $typed;
}

function fn_smile_bridge_get_cart_product_data($product_id, &$_pdata, $product, $auth, $cart, $hash)
{
    $user_id = isset($auth['user_id']) ? (int) $auth['user_id'] : 0;
    if ($user_id <= 0 || !isset($_pdata['price'])) {
        return;
    }
    try {
        $user = fn_smile_bridge_user_row($user_id);
        // CS-Cart 4.20.1 does not select list_price into the cart's product data: read it for a list_price 掛率
        $list_value = isset($_pdata['list_price']) && $_pdata['list_price'] !== '' ? $_pdata['list_price'] : null;
        if ($list_value === null && isset($user['smile_price_rate_base'])
            && $user['smile_price_rate_base'] === PriceSelector::RATE_BASE_LIST_PRICE) {
            $list_value = db_get_field('SELECT list_price FROM ?:products WHERE product_id = ?i', (int) $product_id);
        }
        $list_price = $list_value !== null && $list_value !== false && $list_value !== ''
            ? Decimal::of(fn_smile_bridge_amount_text($list_value)) : null;
        $choice = PriceSelector::select(
            $user_id,
            Decimal::of(fn_smile_bridge_amount_text($_pdata['price'])),
            $list_price,
            max(1, (int) (isset($product['amount']) ? $product['amount'] : 1)),
            fn_smile_bridge_customer_rows($user_id, (int) $product_id),
            PriceSelector::rateProfile($user),
            date('Y-m-d', defined('TIME') ? TIME : time())
        );
        if ($choice['source'] !== PriceSelector::SOURCE_BASE) {
            $_pdata['price'] = $choice['price']->toString();
            $_pdata['smile_price_source'] = $choice['source'];
        }
    } catch (\Throwable $exc) {
        // Bad stored data must not block a sale: fall back to CS-Cart's own price and leave a trace.
        error_log('smile_bridge: customer price for product ' . (int) $product_id . ' not applied: ' . $exc->getMessage());
    }
}

/** The checkout request's 直送 choice and end recipient into the cart (controllers/frontend/checkout.pre.php). */
function fn_smile_bridge_direct_ship_from_request(array &$cart, array $request): void
{
    if (!isset($request['smile_direct_ship'])) {
        return;
    }
    $cart['smile_direct_ship'] = $request['smile_direct_ship'] === 'Y' ? 'Y' : 'N';
    $recipient = isset($request['smile_direct_ship_recipient']) ? (string) $request['smile_direct_ship_recipient'] : '';
    // CS-Cart's utf8 tables store characters outside the BMP as "?" (cscart.md §4.1): drop them here, visibly.
    $recipient = (string) preg_replace('/[\x{10000}-\x{10FFFF}\x00-\x1F]/u', '', $recipient);
    $cart['smile_direct_ship_recipient'] = mb_substr(trim($recipient), 0, 255, 'UTF-8');
}

function fn_smile_bridge_calculate_cart_post(&$cart, $auth, $calculate_shipping, $calculate_taxes, $options_style, $apply_cart_promotions, &$cart_products, &$product_groups)
{
    $cart['smile_direct_ship_surcharge'] = '0';
    if (empty($cart['smile_direct_ship']) || $cart['smile_direct_ship'] !== 'Y' || empty($cart['products'])) {
        return;
    }
    try {
        $params = fn_smile_bridge_direct_ship_params();
        $subtotal = Decimal::of(fn_smile_bridge_amount_text(isset($cart['subtotal']) ? $cart['subtotal'] : 0));
        $amount = DirectShipSurcharge::amount($subtotal, $params['rate'], $params['rounding'], $params['unit']);
        $total = Decimal::of(fn_smile_bridge_amount_text(isset($cart['total']) ? $cart['total'] : 0))->add($amount);
        $cart['smile_direct_ship_surcharge'] = $amount->toString();
        $cart['smile_direct_ship_rate'] = $params['rate']->toString();
        $cart['total'] = $total->toString();
    } catch (\Throwable $exc) {
        // pre_place_order refuses the order when the surcharge is unknown, so no order ships direct without it.
        $cart['smile_direct_ship_surcharge'] = '';
        error_log('smile_bridge: direct-ship surcharge not computed: ' . $exc->getMessage());
    }
}

/**
 * Direct-ship problems for the cart, as messages in the customer's language; empty when it may ship direct.
 *
 * @return string[]
 */
function fn_smile_bridge_direct_ship_messages(array $cart): array
{
    $product_ids = [];
    foreach ($cart['products'] as $item) {
        $product_ids[] = (int) $item['product_id'];
    }
    $allowed = db_get_hash_single_array(
        'SELECT product_id, smile_direct_ship_allowed FROM ?:products WHERE product_id IN (?n)',
        ['product_id', 'smile_direct_ship_allowed'],
        $product_ids ?: [0]
    );
    $lines = [];
    foreach ($cart['products'] as $item) {
        $id = (int) $item['product_id'];
        $lines[] = [
            'product_id' => $id,
            'product' => !empty($item['product']) ? (string) $item['product'] : ('#' . $id),
            'allowed' => isset($allowed[$id]) && $allowed[$id] === 'Y',
        ];
    }
    $params = fn_smile_bridge_direct_ship_params();
    $problems = DirectShipSurcharge::problems(
        $lines,
        (int) (isset($cart['payment_id']) ? $cart['payment_id'] : 0),
        $params['payment_ids'],
        isset($cart['smile_direct_ship_recipient']) ? (string) $cart['smile_direct_ship_recipient'] : ''
    );
    $texts = [
        DirectShipSurcharge::PROBLEM_PRODUCTS_NOT_ALLOWED => 'smile_bridge.direct_ship_products_not_allowed',
        DirectShipSurcharge::PROBLEM_PAYMENT_NOT_ALLOWED => 'smile_bridge.direct_ship_payment_not_allowed',
        DirectShipSurcharge::PROBLEM_RECIPIENT_MISSING => 'smile_bridge.direct_ship_recipient_missing',
    ];
    $messages = [];
    foreach ($problems as $problem) {
        $messages[] = __($texts[$problem['code']], ['[products]' => implode(', ', $problem['items'])]);
    }
    return $messages;
}

/** Credit-limit message for the cart, or '' when the order may be placed on account. */
function fn_smile_bridge_credit_message(array $cart, int $user_id): string
{
    if ($user_id <= 0) {
        return '';
    }
    $user = fn_smile_bridge_user_row($user_id);
    $limit = isset($user['smile_credit_limit']) && $user['smile_credit_limit'] !== null && $user['smile_credit_limit'] !== ''
        ? Decimal::of((string) $user['smile_credit_limit']) : null;
    $exposure = Decimal::of((string) (isset($user['smile_credit_exposure']) ? $user['smile_credit_exposure'] : '0'));
    $verdict = CreditCheck::evaluate(
        fn_smile_bridge_setting('credit_check', 'Y') === 'Y',
        (int) (isset($cart['payment_id']) ? $cart['payment_id'] : 0),
        CreditCheck::parseIds((string) fn_smile_bridge_setting('on_account_payment_ids', '')),
        $limit,
        $exposure,
        Decimal::of(fn_smile_bridge_amount_text(isset($cart['total']) ? $cart['total'] : 0))
    );
    if ($verdict['allowed']) {
        return '';
    }
    $available = $verdict['available'];
    return __('smile_bridge.credit_limit_exceeded', [
        '[total]' => number_format((float) $cart['total']),
        '[available]' => number_format(max(0.0, (float) $available->toString())),
    ]);
}

function fn_smile_bridge_pre_place_order($cart, &$allow, $product_groups)
{
    if (!$allow) {
        return;
    }
    try {
        $auth = isset(\Tygh::$app['session']['auth']) ? \Tygh::$app['session']['auth'] : [];
        $user_id = isset($auth['user_id']) ? (int) $auth['user_id'] : 0;
        $messages = [];
        if (!empty($cart['smile_direct_ship']) && $cart['smile_direct_ship'] === 'Y' && !empty($cart['products'])) {
            $messages = fn_smile_bridge_direct_ship_messages($cart);
            if (isset($cart['smile_direct_ship_surcharge']) && $cart['smile_direct_ship_surcharge'] === '') {
                $messages[] = __('smile_bridge.checkout_check_failed');
            }
        }
        $credit = fn_smile_bridge_credit_message($cart, $user_id);
        if ($credit !== '') {
            $messages[] = $credit;
        }
        $delivery = fn_smile_bridge_delivery_message($cart);
        if ($delivery !== '') {
            $messages[] = $delivery;
        }
    } catch (\Throwable $exc) {
        // A credit check that cannot run must not let an on-account order through unchecked.
        error_log('smile_bridge: checkout checks failed: ' . $exc->getMessage());
        $messages = [__('smile_bridge.checkout_check_failed')];
    }
    foreach ($messages as $message) {
        fn_set_notification('E', __('error'), $message);
    }
    if ($messages) {
        $allow = false;
    }
}
