<?php
/**
 * POST /api/smile_bridge_batch: validated by SmileBridge\BatchValidator, applied item by item: price tiers through
 * fn_update_product, stock through the lean path below (the same hooks and back-in-stock notifications as
 * fn_update_product, without its unrelated work), the add-on's own columns and tables with plain updates. One bad
 * item never stops the others.
 */

use SmileBridge\BatchResult;
use SmileBridge\BatchValidator;
use SmileBridge\InvalidBatchItem;

if (!defined('BOOTSTRAP')) {
    die('Access denied');
}

/**
 * @param array<int, mixed> $raw_items the request's items (already checked: 1..500)
 * @return array<int, array{index:int, id:mixed, code:string, message:string}>
 */
function fn_smile_bridge_batch_apply(array $raw_items): array
{
    $results = [];
    $items = [];
    foreach ($raw_items as $index => $raw) {
        try {
            $items[$index] = BatchValidator::item($index, $raw);
        } catch (InvalidBatchItem $exc) {
            $results[$index] = BatchResult::make($index, BatchValidator::clientId($raw), BatchResult::INVALID, $exc->getMessage());
        }
    }
    $existing = fn_smile_bridge_batch_existing_ids($items);
    foreach ($items as $index => $item) {
        $missing = fn_smile_bridge_batch_missing_reference($item, $existing);
        if ($missing !== '') {
            $results[$index] = BatchResult::make($index, $item['id'], BatchResult::NOT_FOUND, $missing);
            continue;
        }
        try {
            $error = fn_smile_bridge_batch_apply_item($item);
            $results[$index] = $error === ''
                ? BatchResult::make($index, $item['id'], BatchResult::OK)
                : BatchResult::make($index, $item['id'], BatchResult::FAILED, 'items[' . $index . ']: ' . $error);
        } catch (InvalidBatchItem $exc) {  // CS-Cart refused it for good (an unknown letter, a status not applied)
            $results[$index] = BatchResult::make($index, $item['id'], BatchResult::INVALID, 'items[' . $index . ']: ' . $exc->getMessage());
        } catch (\Throwable $exc) {
            $results[$index] = BatchResult::make($index, $item['id'], BatchResult::FAILED, 'items[' . $index . ']: ' . $exc->getMessage());
        }
    }
    ksort($results);
    return $results;
}

/**
 * One query per referenced table instead of one per item.
 *
 * @return array<string, array<int, bool>> entity => id => true
 */
function fn_smile_bridge_batch_existing_ids(array $items): array
{
    $wanted = ['product_id' => [], 'user_id' => [], 'order_id' => []];
    foreach ($items as $item) {
        foreach (array_keys($wanted) as $key) {
            if (isset($item[$key])) {
                $wanted[$key][] = $item[$key];
            }
        }
    }
    $tables = ['product_id' => 'products', 'user_id' => 'users', 'order_id' => 'orders'];
    $existing = [];
    foreach ($wanted as $key => $ids) {
        $existing[$key] = [];
        if ($ids) {
            $found = db_get_fields('SELECT ' . $key . ' FROM ?:' . $tables[$key] . ' WHERE ' . $key . ' IN (?n)', array_unique($ids));
            foreach ($found as $id) {
                $existing[$key][(int) $id] = true;
            }
        }
    }
    return $existing;
}

function fn_smile_bridge_batch_missing_reference(array $item, array $existing): string
{
    foreach (['product_id' => 'product', 'user_id' => 'user', 'order_id' => 'order'] as $key => $name) {
        if (isset($item[$key]) && !isset($existing[$key][$item[$key]])) {
            return $name . ' ' . $item[$key] . ' does not exist on this store';
        }
    }
    return '';
}

/** @return string '' when applied, else CS-Cart's reason */
function fn_smile_bridge_batch_apply_item(array $item): string
{
    switch ($item['kind']) {
        case BatchValidator::KIND_STOCK:
            return fn_smile_bridge_batch_set_stock($item['product_id'], $item['amount']);
        case BatchValidator::KIND_PRICES:
            // The base row goes first: CS-Cart replaces element 0 with the base price (cscart.md §3.4).
            return fn_smile_bridge_batch_update_product($item['product_id'], ['price' => $item['price'], 'prices' => $item['prices']]);
        case BatchValidator::KIND_CUSTOMER_PRICE:
            db_query('DELETE FROM ?:smile_bridge_customer_prices WHERE user_id = ?i AND product_id = ?i', $item['user_id'], $item['product_id']);
            foreach ($item['rows'] as $row) {
                db_query('INSERT INTO ?:smile_bridge_customer_prices ?e', $row + ['user_id' => $item['user_id'], 'product_id' => $item['product_id']]);
            }
            return '';
        case BatchValidator::KIND_USER_FIELDS:
            db_query('UPDATE ?:users SET ?u WHERE user_id = ?i', $item['fields'], $item['user_id']);
            return '';
        case BatchValidator::KIND_PRODUCT_FIELDS:
            db_query('UPDATE ?:products SET ?u WHERE product_id = ?i', $item['fields'], $item['product_id']);
            return '';
        case BatchValidator::KIND_ORDER_FIELDS:
            db_query('UPDATE ?:orders SET ?u WHERE order_id = ?i', $item['fields'], $item['order_id']);
            return '';
        case BatchValidator::KIND_ORDER_STATUS:
            return fn_smile_bridge_batch_order_status($item);
        case BatchValidator::KIND_SETTINGS:
            foreach ($item['values'] as $name => $value) {
                fn_smile_bridge_set_param($name, (string) $value);
            }
            return '';
    }
    return 'unknown kind ' . $item['kind'];
}

/**
 * A stock write with what fn_update_product() does for an amount-only change, and nothing else: its hooks
 * (update_product_pre, update_product_before_update, update_product_post — inventory add-ons such as warehouses,
 * bestsellers, seo and search indexes see the write as before), the back-in-stock notifications when an active
 * product goes from ≤ 0 to > 0, and updated_timestamp. Left out, because an amount changes none of them: the
 * category rebuild, features, prices, images, the Ultimate sharing check and the log line. Profiled on 4.20.1
 * (bench/addon_item_profile.php): ~21 ms per item through fn_update_product, ~2 ms this way.
 *
 * @return string '' when applied, else the reason
 */
function fn_smile_bridge_batch_set_stock(int $product_id, int $amount): string
{
    $lang_code = defined('DESCR_SL') ? DESCR_SL : 'en';
    $product_data = ['amount' => $amount];
    $can_update = true;
    fn_set_hook('update_product_pre', $product_data, $product_id, $lang_code, $can_update);
    if ($can_update === false) {
        return 'an add-on refused the stock write for product ' . $product_id . ' (update_product_pre)';
    }
    $product_info = db_get_row('SELECT company_id, shipping_params, qty_step, status, amount FROM ?:products WHERE product_id = ?i', $product_id);
    if (!$product_info) {
        return 'product ' . $product_id . ' does not exist on this store';
    }
    $amount = isset($product_data['amount']) ? (int) $product_data['amount'] : $amount;  // a hook may change it
    $data = ['amount' => $amount, 'updated_timestamp' => time()];
    fn_set_hook('update_product_before_update', $data, $product_info, $product_id, $lang_code);
    db_query('UPDATE ?:products SET ?u WHERE product_id = ?i', $data, $product_id);
    if ((int) $product_info['amount'] <= 0 && $amount > 0 && $product_info['status'] === 'A'
        && function_exists('fn_send_product_notifications')) {
        fn_send_product_notifications($product_id);  // back in stock: the customers who asked get their mail
    }
    $create = false;
    fn_set_hook('update_product_post', $product_data, $product_id, $lang_code, $create);
    return '';
}

function fn_smile_bridge_batch_update_product(int $product_id, array $data): string
{
    $updated = fn_update_product($data, $product_id, DESCR_SL);
    return $updated ? '' : 'fn_update_product refused product ' . $product_id . ' (see the store log)';
}

/**
 * What PUT /api/orders/:id with only a status does in CS-Cart 4.20.1 (Tygh\Api\Entities\Orders::update's fast
 * path): ORDER_MANAGEMENT defined, then fn_change_order_status with fn_get_notification_rules of the same flags.
 * Unlike that PUT, an unknown letter is refused instead of stored, and the status CS-Cart kept is read back: a
 * letter CS-Cart did not apply (Backordered for want of stock, or a hook that refused it) is an invalid item whose
 * message names both letters. Applying a letter the order already has changes nothing and is ok (a retry).
 *
 * @throws InvalidBatchItem
 */
function fn_smile_bridge_batch_order_status(array $item): string
{
    $order_id = $item['order_id'];
    $status = $item['status'];
    $known = db_get_field('SELECT status FROM ?:statuses WHERE type = ?s AND status = ?s', STATUSES_ORDER, $status);
    if ((string) $known !== $status) {
        throw new InvalidBatchItem('order ' . $order_id . ': status ' . $status . ' does not exist in CS-Cart; fix the letter in rules/order_flow.yaml or create the status');
    }
    fn_define('ORDER_MANAGEMENT', true);
    $rules = fn_get_notification_rules([
        'notify_user' => $item['notify_user'],
        'notify_department' => $item['notify_department'],
        'notify_vendor' => $item['notify_vendor'],
    ], false);
    fn_change_order_status($order_id, $status, '', $rules);
    $actual = (string) db_get_field('SELECT status FROM ?:orders WHERE order_id = ?i', $order_id);
    if ($actual === $status) {
        return '';
    }
    if ($actual === 'B') {
        throw new InvalidBatchItem('order ' . $order_id . ': CS-Cart set Backordered (B) instead of ' . $status . ': not enough stock');
    }
    throw new InvalidBatchItem('order ' . $order_id . ': CS-Cart kept status ' . $actual . ' instead of ' . $status . ' (a hook refused the change)');
}
