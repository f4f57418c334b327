<?php

namespace SmileBridge;

/**
 * Validates and normalises POST /api/smile_bridge_batch bodies before anything touches the database.
 *
 * Body: {"items": [item, …]} with 1–500 items. Each item has "kind" and an optional client "id" (echoed).
 * Kinds:
 *   stock           {"product_id", "amount"}
 *   prices          {"product_id", "price", "prices": [base row first, then tiers]}   full tier set
 *   customer_price  {"user_id", "product_id", "rows": [{"min_quantity","price","valid_from","valid_to"}]}  full set for the pair; [] deletes
 *   user_fields     {"user_id", "fields": {column: value}}     only the add-on's smile_* user columns
 *   product_fields  {"product_id", "fields": {column: value}}  only the add-on's smile_* product columns
 *   order_fields    {"order_id", "fields": {column: value}}    only the add-on's smile_* order columns; unlike
 *                   PUT /orders/:id this never recalculates the order
 *   order_status    {"order_id", "status": one letter, "notify_user"?, "notify_department"?, "notify_vendor"?}
 *                   what the REST status-only PUT does (fn_change_order_status with the same notification rules),
 *                   for many orders in one request; the result says whether CS-Cart applied the letter
 *   settings        {"values": {"direct_ship_rate"|"direct_ship_rounding"|"direct_ship_unit"|"delivery_methods"|
 *                   "delivery_source"|"mail_carriers"|"mail_statuses": value}}
 */
final class BatchValidator
{
    const MAX_ITEMS = 500;

    const KIND_STOCK = 'stock';
    const KIND_PRICES = 'prices';
    const KIND_CUSTOMER_PRICE = 'customer_price';
    const KIND_USER_FIELDS = 'user_fields';
    const KIND_PRODUCT_FIELDS = 'product_fields';
    const KIND_ORDER_FIELDS = 'order_fields';
    const KIND_SETTINGS = 'settings';
    const KIND_ORDER_STATUS = 'order_status';

    const KINDS = [
        self::KIND_STOCK, self::KIND_PRICES, self::KIND_CUSTOMER_PRICE, self::KIND_USER_FIELDS,
        self::KIND_PRODUCT_FIELDS, self::KIND_ORDER_FIELDS, self::KIND_SETTINGS, self::KIND_ORDER_STATUS,
    ];

    /** The CS-Cart privilege each kind needs: a batch needs the privilege of every entity it touches. */
    const PRIVILEGES = [
        self::KIND_STOCK => 'manage_catalog',
        self::KIND_PRICES => 'manage_catalog',
        self::KIND_PRODUCT_FIELDS => 'manage_catalog',
        self::KIND_CUSTOMER_PRICE => 'manage_users',
        self::KIND_USER_FIELDS => 'manage_users',
        self::KIND_ORDER_FIELDS => 'edit_order',
        self::KIND_SETTINGS => 'update_settings',
        self::KIND_ORDER_STATUS => 'change_order_status',  // what PUT /orders/:id {status} checks (orders.update_status)
    ];

    /**
     * The privileges the raw items need, sorted (items of an unknown kind need none: they fail validation).
     *
     * @param array<int, mixed> $items
     * @return string[]
     */
    public static function requiredPrivileges(array $items): array
    {
        $needed = [];
        foreach ($items as $item) {
            $kind = is_array($item) && isset($item['kind']) && is_string($item['kind']) ? $item['kind'] : '';
            if (isset(self::PRIVILEGES[$kind])) {
                $needed[self::PRIVILEGES[$kind]] = true;
            }
        }
        $names = array_keys($needed);
        sort($names);
        return $names;
    }

    /** User columns the batch (and the REST API) may write, and how each is validated. */
    const USER_FIELDS = [
        'smile_customer_code' => 'code',
        'smile_price_rate' => 'rate_or_null',
        'smile_price_rounding' => 'rounding',
        'smile_price_unit' => 'positive',
        'smile_price_rate_base' => 'rate_base',
        'smile_credit_limit' => 'money_or_null',
        'smile_credit_exposure' => 'money',
    ];

    const PRODUCT_FIELDS = [
        'smile_direct_ship_allowed' => 'flag',
    ];

    const ORDER_FIELDS = [
        'smile_direct_ship' => 'flag',
        'smile_ship_to_code' => 'code',
        'smile_direct_ship_recipient' => 'text',
    ];

    const SETTINGS = [
        'direct_ship_rate' => 'rate',
        'direct_ship_rounding' => 'rounding',
        'direct_ship_unit' => 'positive',
        // お届け希望日 / 時間帯 (DeliveryDates): per shipping_id, from rules/shipping.yaml; and whose fields to show.
        'delivery_methods' => 'delivery_methods',
        'delivery_source' => 'delivery_source',
        // The customer mails (includes/mails.php): carrier code => {name, url with {no}} from rules/shipping.yaml,
        // and status letter => mail kind ('' turns a default off) from rules/order_flow.yaml.
        'mail_carriers' => 'json_object',
        'mail_statuses' => 'json_object',
    ];

    // cscart_products.amount is a signed MEDIUMINT.
    const MAX_AMOUNT = 8388607;

    /**
     * @param mixed $body the decoded JSON request body
     * @return array<int, mixed> the raw items, in order
     * @throws BatchRejected
     */
    public static function items($body): array
    {
        if (!is_array($body) || !array_key_exists('items', $body)) {
            throw new BatchRejected('the body must be a JSON object {"items": [...]} sent with Content-Type: application/json');
        }
        $items = $body['items'];
        if (!is_array($items) || ($items !== [] && array_keys($items) !== range(0, count($items) - 1))) {
            throw new BatchRejected('"items" must be a JSON array');
        }
        if ($items === []) {
            throw new BatchRejected('"items" is empty; send 1 to ' . self::MAX_ITEMS . ' items');
        }
        if (count($items) > self::MAX_ITEMS) {
            throw new BatchRejected(
                '"items" has ' . count($items) . ' entries; the maximum is ' . self::MAX_ITEMS . ', split the batch'
            );
        }
        return $items;
    }

    /**
     * The client's id of a raw item, if it sent a usable one (to echo it even when the item is invalid).
     *
     * @param mixed $item
     * @return string|int|null
     */
    public static function clientId($item)
    {
        if (is_array($item) && isset($item['id']) && (is_int($item['id']) || (is_string($item['id']) && strlen($item['id']) <= 64))) {
            return $item['id'];
        }
        return null;
    }

    /**
     * @param mixed $item
     * @return array<string, mixed> normalised item: kind, id, and the kind's fields with typed values
     * @throws InvalidBatchItem
     */
    public static function item(int $index, $item): array
    {
        $at = 'items[' . $index . ']';
        if (!is_array($item)) {
            throw new InvalidBatchItem($at . ': must be a JSON object');
        }
        if (isset($item['id']) && self::clientId($item) === null) {
            throw new InvalidBatchItem($at . '.id: must be an integer or a string of at most 64 characters');
        }
        $kind = isset($item['kind']) ? $item['kind'] : null;
        if (!in_array($kind, self::KINDS, true)) {
            throw new InvalidBatchItem($at . '.kind: ' . var_export($kind, true) . ' is not one of ' . implode(', ', self::KINDS));
        }
        $normal = ['kind' => $kind, 'id' => self::clientId($item)];
        switch ($kind) {
            case self::KIND_STOCK:
                return $normal + self::stock($at, $item);
            case self::KIND_PRICES:
                return $normal + self::prices($at, $item);
            case self::KIND_CUSTOMER_PRICE:
                return $normal + self::customerPrice($at, $item);
            case self::KIND_USER_FIELDS:
                return $normal + self::fields($at, $item, 'user_id', self::USER_FIELDS);
            case self::KIND_PRODUCT_FIELDS:
                return $normal + self::fields($at, $item, 'product_id', self::PRODUCT_FIELDS);
            case self::KIND_ORDER_FIELDS:
                return $normal + self::fields($at, $item, 'order_id', self::ORDER_FIELDS);
            case self::KIND_ORDER_STATUS:
                return $normal + self::orderStatus($at, $item);
            default:
                return $normal + self::settings($at, $item);
        }
    }

    private static function stock(string $at, array $item): array
    {
        $amount = self::integer($at . '.amount', self::field($at, $item, 'amount'), -self::MAX_AMOUNT, self::MAX_AMOUNT);
        return ['product_id' => self::id($at . '.product_id', self::field($at, $item, 'product_id')), 'amount' => $amount];
    }

    private static function prices(string $at, array $item): array
    {
        $productId = self::id($at . '.product_id', self::field($at, $item, 'product_id'));
        $tiers = [];
        $seen = [];
        $rows = self::rows($at, $item, 'prices', 'a non-empty array, the base row (lower_limit 1, usergroup_id 0) first',
            '{lower_limit, usergroup_id, price[, type]}', false);
        foreach ($rows as $i => [$rowAt, $row]) {
            $lower = self::integer($rowAt . '.lower_limit', self::field($rowAt, $row, 'lower_limit'), 1, 16777215);
            $group = self::integer($rowAt . '.usergroup_id', self::field($rowAt, $row, 'usergroup_id'), 0, 16777215);
            $type = isset($row['type']) ? $row['type'] : 'A';
            if ($type !== 'A' && $type !== 'P') {
                throw new InvalidBatchItem($rowAt . '.type: must be "A" (absolute price) or "P" (percentage off the base price)');
            }
            $price = self::price($rowAt . '.price', self::field($rowAt, $row, 'price'));
            if ($type === 'P' && $price->compare(Decimal::of(100)) > 0) {
                throw new InvalidBatchItem($rowAt . '.price: a percentage tier must be between 0 and 100');
            }
            if ($i === 0 && ($lower !== 1 || $group !== 0 || $type !== 'A')) {
                throw new InvalidBatchItem(
                    $rowAt . ': the first row must be the base row (lower_limit 1, usergroup_id 0, type A); '
                    . 'CS-Cart replaces element 0 with the base price, so a tier sent first would be lost'
                );
            }
            $key = $group . '/' . $lower;
            if (isset($seen[$key])) {
                throw new InvalidBatchItem($rowAt . ': duplicate tier usergroup_id ' . $group . ', lower_limit ' . $lower);
            }
            $seen[$key] = true;
            $tiers[] = ['lower_limit' => $lower, 'usergroup_id' => $group, 'price' => $price->toString(), 'type' => $type];
        }
        $base = $tiers[0]['price'];
        if (array_key_exists('price', $item)) {
            $price = self::decimal($at . '.price', $item['price']);
            if ($price->compare(Decimal::of($base)) !== 0) {
                throw new InvalidBatchItem($at . '.price: ' . $price . ' differs from the base row price ' . $base . '; send the same value');
            }
        }
        return ['product_id' => $productId, 'price' => $base, 'prices' => $tiers];
    }

    /**
     * The objects of the array field $name as [$rowAt, $row], each checked as the loop reaches it.
     *
     * @return \Generator<int, array{0:string, 1:array}>
     */
    private static function rows(string $at, array $item, string $name, string $must, string $shape,
                                 bool $emptyAllowed = true): \Generator
    {
        $rows = self::field($at, $item, $name);
        if (!is_array($rows) || (!$emptyAllowed && $rows === [])) {
            throw new InvalidBatchItem($at . '.' . $name . ': must be ' . $must);
        }
        foreach (array_values($rows) as $i => $row) {
            $rowAt = $at . '.' . $name . '[' . $i . ']';
            if (!is_array($row)) {
                throw new InvalidBatchItem($rowAt . ': must be an object ' . $shape);
            }
            yield $i => [$rowAt, $row];
        }
    }

    private static function orderStatus(string $at, array $item): array
    {
        $orderId = self::id($at . '.order_id', self::field($at, $item, 'order_id'));
        $status = self::field($at, $item, 'status');
        if (!is_string($status) || !preg_match('/^[A-Z]\z/', $status)) {
            throw new InvalidBatchItem($at . '.status: must be one status letter A-Z, got ' . var_export($status, true));
        }
        $clean = ['order_id' => $orderId, 'status' => $status];
        foreach (['notify_user', 'notify_department', 'notify_vendor'] as $name) {
            $value = array_key_exists($name, $item) ? $item[$name] : false;
            if (!is_bool($value)) {
                throw new InvalidBatchItem($at . '.' . $name . ': must be true or false, got ' . var_export($value, true));
            }
            $clean[$name] = $value;
        }
        return $clean;
    }

    private static function customerPrice(string $at, array $item): array
    {
        $userId = self::id($at . '.user_id', self::field($at, $item, 'user_id'));
        $productId = self::id($at . '.product_id', self::field($at, $item, 'product_id'));
        $clean = [];
        $seen = [];
        $rows = self::rows($at, $item, 'rows', 'an array (empty to delete the customer\'s prices for this product)',
            '{min_quantity, price, valid_from, valid_to}');
        foreach ($rows as [$rowAt, $row]) {
            $min = isset($row['min_quantity']) ? self::integer($rowAt . '.min_quantity', $row['min_quantity'], 1, 16777215) : 1;
            $price = self::price($rowAt . '.price', self::field($rowAt, $row, 'price'));
            $from = self::date($rowAt . '.valid_from', isset($row['valid_from']) ? $row['valid_from'] : null);
            $to = self::date($rowAt . '.valid_to', isset($row['valid_to']) ? $row['valid_to'] : null);
            if ($from !== '' && $to !== '' && $from > $to) {
                throw new InvalidBatchItem($rowAt . ': valid_from ' . $from . ' is after valid_to ' . $to);
            }
            $key = $min . '/' . $from;
            if (isset($seen[$key])) {
                throw new InvalidBatchItem($rowAt . ': duplicate row for min_quantity ' . $min . ' and valid_from "' . $from . '"');
            }
            $seen[$key] = true;
            $clean[] = ['min_quantity' => $min, 'price' => $price->toString(), 'valid_from' => $from, 'valid_to' => $to];
        }
        return ['user_id' => $userId, 'product_id' => $productId, 'rows' => $clean];
    }

    /** @param array<string, string> $rules */
    private static function fields(string $at, array $item, string $idField, array $rules): array
    {
        $id = self::id($at . '.' . $idField, self::field($at, $item, $idField));
        $fields = self::field($at, $item, 'fields');
        if (!is_array($fields) || $fields === []) {
            throw new InvalidBatchItem($at . '.fields: must be a non-empty object of ' . implode(', ', array_keys($rules)));
        }
        return [$idField => $id, 'fields' => self::typedValues($at . '.fields', $fields, $rules)];
    }

    private static function settings(string $at, array $item): array
    {
        $values = self::field($at, $item, 'values');
        if (!is_array($values) || $values === []) {
            throw new InvalidBatchItem($at . '.values: must be a non-empty object of ' . implode(', ', array_keys(self::SETTINGS)));
        }
        return ['values' => self::typedValues($at . '.values', $values, self::SETTINGS)];
    }

    /**
     * Validate a map of name => value against a name => rule table; values come back as strings or null.
     *
     * @param array<string, mixed> $values
     * @param array<string, string> $rules
     * @return array<string, string|null>
     */
    public static function typedValues(string $at, array $values, array $rules): array
    {
        $clean = [];
        foreach ($values as $name => $value) {
            $fieldAt = $at . '.' . $name;
            if (!isset($rules[$name])) {
                throw new InvalidBatchItem($fieldAt . ': unknown field; allowed: ' . implode(', ', array_keys($rules)));
            }
            $clean[$name] = self::typed($fieldAt, $rules[$name], $value);
        }
        return $clean;
    }

    /**
     * @param mixed $value
     * @return string|null
     */
    private static function typed(string $at, string $rule, $value)
    {
        switch ($rule) {
            case 'delivery_methods':
                $text = is_string($value) ? $value : json_encode($value, JSON_UNESCAPED_UNICODE);
                $decoded = is_string($text) ? json_decode($text, true) : null;
                if (!is_array($decoded) || strlen($text) > 65535) {
                    throw new InvalidBatchItem($at . ': must be a JSON object {shipping_id: {carrier, lead_business_days, …}}');
                }
                foreach ($decoded as $id => $method) {
                    if (!ctype_digit((string) $id) || !is_array($method)) {
                        throw new InvalidBatchItem($at . '.' . $id . ': must be a shipping_id with an object of settings');
                    }
                }
                return (string) json_encode($decoded, JSON_UNESCAPED_UNICODE);
            case 'json_object':
                $text = is_string($value) ? $value : json_encode($value, JSON_UNESCAPED_UNICODE);
                $decoded = is_string($text) ? json_decode($text, true) : null;
                if (!is_array($decoded) || strlen($text) > 65535) {
                    throw new InvalidBatchItem($at . ': must be a JSON object (at most 65535 bytes)');
                }
                return (string) json_encode((object) $decoded, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
            case 'delivery_source':
                if ($value !== 'smile_bridge' && $value !== 'cscart_jp') {
                    throw new InvalidBatchItem($at . ': must be "smile_bridge" or "cscart_jp"');
                }
                return $value;
            case 'code':
                if (!is_string($value) && !is_int($value)) {
                    throw new InvalidBatchItem($at . ': must be a string');
                }
                $value = trim((string) $value);
                if (strlen($value) > 32 || !preg_match('/^[\x{20}-\x{7E}\x{3000}-\x{FFEF}]*$/u', $value)) {
                    throw new InvalidBatchItem($at . ': must be at most 32 printable characters (SMILE code), got "' . $value . '"');
                }
                return $value;
            case 'flag':
                if ($value === true || $value === 'Y') {
                    return 'Y';
                }
                if ($value === false || $value === 'N') {
                    return 'N';
                }
                throw new InvalidBatchItem($at . ': must be "Y" or "N" (or true/false)');
            case 'text':
                if (!is_string($value)) {
                    throw new InvalidBatchItem($at . ': must be a string');
                }
                $value = trim($value);
                if (mb_strlen($value, 'UTF-8') > 255 || !mb_check_encoding($value, 'UTF-8') || preg_match('/[\x{10000}-\x{10FFFF}\x00-\x1F]/u', $value)) {
                    throw new InvalidBatchItem(
                        $at . ': at most 255 characters, no control characters, no characters outside the BMP '
                        . '(CS-Cart stores 𠮷 or emoji as "?"); replace them (e.g. 𠮷 → 吉)'
                    );
                }
                return $value;
            case 'rounding':
                if (!Rounding::isValid($value)) {
                    throw new InvalidBatchItem($at . ': must be one of ' . implode(', ', Rounding::all()));
                }
                return $value;
            case 'rate_base':
                if ($value !== PriceSelector::RATE_BASE_PRICE && $value !== PriceSelector::RATE_BASE_LIST_PRICE) {
                    throw new InvalidBatchItem($at . ': must be "price" or "list_price"');
                }
                return $value;
            case 'rate_or_null':
            case 'money_or_null':
                if ($value === null) {
                    return null;
                }
                return self::typed($at, $rule === 'rate_or_null' ? 'rate' : 'money_nonnegative', $value);
            case 'rate':
                $rate = self::decimal($at, $value);
                if ($rate->sign() < 0 || $rate->compare(Decimal::of(1000)) >= 0) {
                    throw new InvalidBatchItem($at . ': a rate in percent from 0 to 999.999 (70 = 70 %)');
                }
                return $rate->toString();
            case 'positive':
                $unit = self::decimal($at, $value);
                if ($unit->sign() <= 0) {
                    throw new InvalidBatchItem($at . ': must be greater than 0 (e.g. 1, 10 or 0.01)');
                }
                return $unit->toString();
            case 'money_nonnegative':
                $money = self::decimal($at, $value);
                if ($money->sign() < 0) {
                    throw new InvalidBatchItem($at . ': must not be negative');
                }
                return $money->toString();
            default:
                return self::decimal($at, $value)->toString();
        }
    }

    /** @return mixed */
    private static function field(string $at, array $item, string $name)
    {
        if (!array_key_exists($name, $item)) {
            throw new InvalidBatchItem($at . '.' . $name . ': missing');
        }
        return $item[$name];
    }

    /** @param mixed $value */
    private static function id(string $at, $value): int
    {
        return self::integer($at, $value, 1, PHP_INT_MAX);
    }

    /** @param mixed $value */
    private static function integer(string $at, $value, int $min, int $max): int
    {
        if (is_string($value) && preg_match('/^-?\d{1,18}$/', $value)) {
            $value = (int) $value;
        }
        if (!is_int($value)) {
            throw new InvalidBatchItem($at . ': must be an integer, got ' . var_export($value, true));
        }
        if ($value < $min || $value > $max) {
            throw new InvalidBatchItem($at . ': ' . $value . ' is outside ' . $min . '..' . $max);
        }
        return $value;
    }

    /**
     * A price as CS-Cart stores it: decimal(12,2), not negative.
     *
     * @param mixed $value
     */
    private static function price(string $at, $value): Decimal
    {
        $price = self::decimal($at, $value);
        if ($price->sign() < 0) {
            throw new InvalidBatchItem($at . ': must not be negative');
        }
        if ($price->scale() > 2 || $price->compare(Decimal::of('9999999999.99')) > 0) {
            throw new InvalidBatchItem($at . ': ' . $price . ' does not fit CS-Cart prices (decimal(12,2)); round it first');
        }
        return $price;
    }

    /** @param mixed $value */
    private static function decimal(string $at, $value): Decimal
    {
        try {
            return Decimal::of($value);
        } catch (\InvalidArgumentException $exc) {
            throw new InvalidBatchItem($at . ': ' . $exc->getMessage());
        }
    }

    /**
     * @param mixed $value
     * @return string Y-m-d, or '' when open-ended
     */
    private static function date(string $at, $value): string
    {
        if ($value === null || $value === '') {
            return '';
        }
        if (!is_string($value) || !preg_match('/^(\d{4})-(\d{2})-(\d{2})$/', $value, $m)
            || !checkdate((int) $m[2], (int) $m[3], (int) $m[1])
        ) {
            throw new InvalidBatchItem($at . ': must be a date YYYY-MM-DD or null, got ' . var_export($value, true));
        }
        return $value;
    }
}
