<?php
/**
 * POST /api/smile_bridge_batch: validated by SmileBridge\BatchValidator, applied item by item through CS-Cart's
 * own functions (fn_update_product for stock and price tiers, so core hooks and caches run as for a REST PUT)
 * or, for the add-on's own columns and tables, with plain updates. One bad item never stops the others.
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
            return fn_smile_bridge_batch_update_product($item['product_id'], ['amount' => $item['amount']]);
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
        case BatchValidator::KIND_SETTINGS:
            foreach ($item['values'] as $name => $value) {
                fn_smile_bridge_set_param($name, (string) $value);
            }
            return '';
    }
    return 'unknown kind ' . $item['kind'];
}

function fn_smile_bridge_batch_update_product(int $product_id, array $data): string
{
    $updated = fn_update_product($data, $product_id, DESCR_SL);
    return $updated ? '' : 'fn_update_product refused product ' . $product_id . ' (see the store log)';
}
