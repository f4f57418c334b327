<?php
/**
 * Test double of the few CS-Cart functions the add-on's glue calls (db_*, statuses, settings, language values),
 * over in-memory tables. It answers only the queries the add-on sends, recognised by their text; any other query
 * fails the test, so a new query in the glue needs a matching answer here.
 */

namespace Tygh {
    final class Registry
    {
        /** @var array<string, mixed> */
        public static $values = [];

        /** @return mixed */
        public static function get(string $key)
        {
            return array_key_exists($key, self::$values) ? self::$values[$key] : null;
        }
    }

    final class Tygh
    {
        /** @var array<string, mixed> */
        public static $app = [];
    }
}

namespace Tygh\Api {
    abstract class AEntity
    {
        /** @var array<string, mixed> */
        protected $auth;

        /** @param array<string, mixed> $auth */
        public function __construct(array $auth = [])
        {
            $this->auth = $auth;
        }
    }

    final class Response
    {
        const STATUS_OK = 200;
        const STATUS_BAD_REQUEST = 400;
        const STATUS_FORBIDDEN = 403;
        const STATUS_NOT_FOUND = 404;
        const STATUS_METHOD_NOT_ALLOWED = 405;
    }
}

namespace {
    class_alias('Tygh\\Tygh', 'Tygh');  // CS-Cart aliases the application container the same way
    define('BOOTSTRAP', true);
    define('STATUSES_ORDER', 'O');
    define('DESCR_SL', 'en');

    final class FakeDb
    {
        /** @var array<string, array<string, string>> table => column => definition, for the core tables */
        public static $columns = [];
        /** @var array<string, bool> add-on tables that exist */
        public static $tables = [];
        /** @var array<string, array<int, array<string, mixed>>> table => id => row */
        public static $rows = [];
        /** @var array<string, array{status_id:int, description:string, params:array}> letter => status */
        public static $statuses = [];
        /** @var string[] the store's languages (?:languages) */
        public static $languages = ['en', 'ja'];
        /** @var array<string, string> */
        public static $params = [];
        /** @var array<int, array<string, mixed>> */
        public static $events = [];
        /** @var array<int, array<string, mixed>> */
        public static $customerPrices = [];
        /** @var array<int, string> */
        public static $notifications = [];
        /** @var string */
        public static $language = 'en';
        /** @var array<int, bool> product ids fn_update_product refuses */
        public static $refuse = [];
        /** @var int[] */
        public static $updatedProducts = [];
        /** @var string[] hooks run, in order */
        public static $hooks = [];
        /** @var int[] products whose back-in-stock subscribers were notified */
        public static $backInStock = [];
        /** @var array<int, array{0:string, 1:array}> fn_change_order_status calls: [letter, notification rules] */
        public static $statusChanges = [];
        /** @var array<int, string> order_id => the letter fn_change_order_status sets instead (B: no stock) */
        public static $statusInstead = [];

        /** @return string[] every language's name of a status (fn_update_status writes one name into all). */
        public static function descriptions(string $letter): array
        {
            $status = self::$statuses[$letter];
            $names = isset($status['names']) ? $status['names'] : [];
            foreach (self::$languages as $lang) {
                if (!isset($names[$lang])) {
                    $names[$lang] = $status['description'];
                }
            }
            return $names;
        }
        /** @var array<int, string[]> user_id => privileges fn_check_user_access grants */
        public static $privileges = [];

        public static function reset(): void
        {
            self::$columns = [
                'users' => ['user_id' => 'int', 'email' => 'varchar'],
                'products' => ['product_id' => 'int', 'amount' => 'int', 'price' => 'decimal', 'status' => 'char',
                    'updated_timestamp' => 'int'],
                'orders' => ['order_id' => 'int', 'status' => 'char'],
            ];
            self::$tables = [];
            self::$rows = ['users' => [], 'products' => [], 'orders' => []];
            self::$statuses = [];
            foreach (['O' => 'Open', 'P' => 'Paid', 'C' => 'Complete', 'F' => 'Failed', 'D' => 'Declined',
                'B' => 'Backordered', 'I' => 'Canceled', 'Y' => 'Awaiting call'] as $letter => $name) {
                self::$statuses[$letter] = ['status_id' => count(self::$statuses) + 1, 'description' => $name, 'params' => []];
            }
            self::$params = [];
            self::$languages = ['en', 'ja'];
            self::$events = [];
            self::$customerPrices = [];
            self::$notifications = [];
            self::$language = 'en';
            self::$refuse = [];
            self::$updatedProducts = [];
            self::$hooks = [];
            self::$backInStock = [];
            self::$statusChanges = [];
            self::$statusInstead = [];
            \Tygh\Registry::$values = [];
            \Tygh\Tygh::$app = ['session' => ['auth' => ['user_id' => 0]]];
        }

        /** Run addon.xml's install or uninstall queries (the installer does this before the functions). */
        public static function runAddonQueries(string $addonXml, string $for): void
        {
            $xml = simplexml_load_file($addonXml);
            foreach ($xml->queries->item as $item) {
                if ((string) $item['for'] !== $for) {
                    continue;
                }
                $sql = trim((string) $item);
                if (preg_match('/^CREATE TABLE IF NOT EXISTS \?:(\w+)/', $sql, $m)) {
                    self::$tables[$m[1]] = true;
                } elseif (preg_match('/^DROP TABLE IF EXISTS \?:(\w+)/', $sql, $m)) {
                    unset(self::$tables[$m[1]]);
                } else {
                    throw new \RuntimeException('unexpected addon.xml query: ' . $sql);
                }
            }
        }

        public static function requireTable(string $table): void
        {
            if (!isset(self::$tables[$table])) {
                throw new \RuntimeException("table ?:$table does not exist");
            }
        }

        /** @param array<string, mixed> $row */
        public static function checkColumns(string $table, array $row): void
        {
            foreach (array_keys($row) as $column) {
                if (!isset(self::$columns[$table][$column])) {
                    throw new \RuntimeException("unknown column $table.$column");
                }
            }
        }

        public static function unexpected(string $query): void
        {
            throw new \RuntimeException('FakeDb does not know this query: ' . $query);
        }
    }

    function fn_register_hooks(...$hooks): void
    {
    }

    function db_quote(string $pattern, ...$args): string
    {
        return vsprintf(str_replace(['?s', '?i'], ["'%s'", '%d'], $pattern), $args);
    }

    /** @return array<string, mixed>|false */
    function db_get_row(string $query, ...$args)
    {
        if (preg_match('/^SHOW COLUMNS FROM \?:(\w+) LIKE \?s$/', $query, $m)) {
            return isset(FakeDb::$columns[$m[1]][$args[0]]) ? ['Field' => $args[0]] : [];
        }
        if (preg_match('/^SELECT ([\w, ]+) FROM \?:users WHERE user_id = \?i$/', $query, $m)) {
            $row = isset(FakeDb::$rows['users'][$args[0]]) ? FakeDb::$rows['users'][$args[0]] : null;
            if ($row === null) {
                return [];
            }
            $out = [];
            foreach (array_map('trim', explode(',', $m[1])) as $column) {
                if (!array_key_exists($column, $row)) {
                    throw new \RuntimeException("unknown column users.$column");
                }
                $out[$column] = $row[$column] === null ? null : (string) $row[$column];
            }
            return $out;
        }
        if ($query === 'SELECT company_id, shipping_params, qty_step, status, amount FROM ?:products WHERE product_id = ?i') {
            if (!isset(FakeDb::$rows['products'][$args[0]])) {
                return [];
            }
            $row = FakeDb::$rows['products'][$args[0]] + ['status' => 'A', 'company_id' => 1];
            return ['company_id' => (string) $row['company_id'], 'shipping_params' => '', 'qty_step' => '0',
                'status' => $row['status'], 'amount' => (string) $row['amount']];
        }
        if ($query === 'SELECT * FROM ?:smile_bridge_events WHERE event_id = ?i') {
            return isset(FakeDb::$events[$args[0]]) ? FakeDb::$events[$args[0]] : [];
        }
        FakeDb::unexpected($query);
        return false;
    }

    /** @return mixed */
    function db_get_field(string $query, ...$args)
    {
        if ($query === 'SELECT value FROM ?:smile_bridge_params WHERE name = ?s') {
            FakeDb::requireTable('smile_bridge_params');
            return isset(FakeDb::$params[$args[0]]) ? FakeDb::$params[$args[0]] : null;
        }
        if ($query === 'SELECT list_price FROM ?:products WHERE product_id = ?i') {
            $row = isset(FakeDb::$rows['products'][$args[0]]) ? FakeDb::$rows['products'][$args[0]] : null;
            return $row === null ? false : (string) (isset($row['list_price']) ? $row['list_price'] : '0.00');
        }
        if ($query === 'SELECT COUNT(*) FROM ?:orders WHERE status = ?s') {
            return (string) count(array_filter(FakeDb::$rows['orders'], static function ($order) use ($args) {
                return $order['status'] === $args[0];
            }));
        }
        if (strpos($query, 'SELECT s.status FROM ?:statuses AS s INNER JOIN ?:status_descriptions AS d') === 0) {
            foreach (FakeDb::$statuses as $letter => $status) {
                if (array_intersect(FakeDb::descriptions($letter), $args[1])) {
                    return $letter;
                }
            }
            return null;
        }
        if ($query === 'SELECT status FROM ?:statuses WHERE type = ?s AND status = ?s') {
            return isset(FakeDb::$statuses[$args[1]]) ? $args[1] : null;
        }
        if ($query === 'SELECT status FROM ?:orders WHERE order_id = ?i') {
            return isset(FakeDb::$rows['orders'][$args[0]]) ? FakeDb::$rows['orders'][$args[0]]['status'] : null;
        }
        if ($query === 'SELECT MAX(event_id) FROM ?:smile_bridge_events') {
            return FakeDb::$events ? (string) max(array_keys(FakeDb::$events)) : null;
        }
        FakeDb::unexpected($query);
        return null;
    }

    /** @return array<int, mixed> */
    function db_get_fields(string $query, ...$args): array
    {
        if ($query === 'SELECT status FROM ?:statuses WHERE type = ?s') {
            return array_keys(FakeDb::$statuses);
        }
        if ($query === 'SELECT lang_code FROM ?:languages') {
            return FakeDb::$languages;
        }
        if (preg_match('/^SELECT (\w+) FROM \?:(\w+) WHERE \1 IN \(\?n\)$/', $query, $m)) {
            return array_values(array_filter($args[0], static function ($id) use ($m) {
                return isset(FakeDb::$rows[$m[2]][(int) $id]);
            }));
        }
        FakeDb::unexpected($query);
        return [];
    }

    /** @return array<int, array<string, mixed>> */
    function db_get_array(string $query, ...$args): array
    {
        if (strpos($query, 'FROM ?:smile_bridge_customer_prices WHERE user_id = ?i AND product_id = ?i') !== false) {
            FakeDb::requireTable('smile_bridge_customer_prices');
            return array_values(array_filter(FakeDb::$customerPrices, static function ($row) use ($args) {
                return $row['user_id'] === $args[0] && $row['product_id'] === $args[1];
            }));
        }
        if ($query === 'SELECT * FROM ?:smile_bridge_events WHERE event_id > ?i ORDER BY event_id ASC LIMIT ?i') {
            $rows = array_filter(FakeDb::$events, static function ($row) use ($args) {
                return (int) $row['event_id'] > $args[0];
            });
            ksort($rows);
            return array_slice(array_values($rows), 0, $args[1]);
        }
        FakeDb::unexpected($query);
        return [];
    }

    /** @return array<int, string> */
    function db_get_hash_single_array(string $query, array $keys, ...$args): array
    {
        if ($query === 'SELECT product_id, smile_direct_ship_allowed FROM ?:products WHERE product_id IN (?n)') {
            $out = [];
            foreach ($args[0] as $id) {
                if (isset(FakeDb::$rows['products'][$id])) {
                    $out[$id] = (string) FakeDb::$rows['products'][$id]['smile_direct_ship_allowed'];
                }
            }
            return $out;
        }
        FakeDb::unexpected($query);
        return [];
    }

    /** @return int|bool */
    function db_query(string $query, ...$args)
    {
        if (preg_match('/^ALTER TABLE \?:(\w+) ADD (\w+) (.+)$/', $query, $m)) {
            if (isset(FakeDb::$columns[$m[1]][$m[2]])) {
                throw new \RuntimeException("Duplicate column name '{$m[2]}'");
            }
            FakeDb::$columns[$m[1]][$m[2]] = $m[3];
            preg_match("/DEFAULT (NULL|'([^']*)')/", $m[3], $default);
            foreach (FakeDb::$rows[$m[1]] as $id => $row) {
                FakeDb::$rows[$m[1]][$id][$m[2]] = $default[1] === 'NULL' ? null : $default[2];
            }
            return true;
        }
        if (preg_match('/^ALTER TABLE \?:(\w+) DROP (\w+)$/', $query, $m)) {
            unset(FakeDb::$columns[$m[1]][$m[2]]);
            foreach (FakeDb::$rows[$m[1]] as $id => $row) {
                unset(FakeDb::$rows[$m[1]][$id][$m[2]]);
            }
            return true;
        }
        if ($query === 'UPDATE ?:status_descriptions SET description = ?s WHERE status_id = ?i AND lang_code = ?s') {
            foreach (FakeDb::$statuses as $letter => $status) {
                if ($status['status_id'] === $args[1]) {
                    FakeDb::$statuses[$letter]['names'][$args[2]] = $args[0];
                    if ($args[2] === DESCR_SL) {
                        FakeDb::$statuses[$letter]['description'] = $args[0];
                    }
                }
            }
            return true;
        }
        if ($query === 'REPLACE INTO ?:smile_bridge_params ?e') {
            FakeDb::requireTable('smile_bridge_params');
            FakeDb::$params[$args[0]['name']] = (string) $args[0]['value'];
            return true;
        }
        if ($query === 'DROP TABLE IF EXISTS ?:smile_bridge_params') {
            unset(FakeDb::$tables['smile_bridge_params']);
            FakeDb::$params = [];
            return true;
        }
        if ($query === 'INSERT INTO ?:smile_bridge_events ?e') {
            FakeDb::requireTable('smile_bridge_events');
            $id = FakeDb::$events ? max(array_keys(FakeDb::$events)) + 1 : 1;
            FakeDb::$events[$id] = ['event_id' => (string) $id] + array_map('strval', $args[0]);
            return $id;
        }
        if ($query === 'DELETE FROM ?:smile_bridge_events WHERE created_at < ?i') {
            $before = count(FakeDb::$events);
            FakeDb::$events = array_filter(FakeDb::$events, static function ($row) use ($args) {
                return (int) $row['created_at'] >= $args[0];
            });
            return $before - count(FakeDb::$events);
        }
        if (preg_match('/^UPDATE \?:(\w+) SET \?u WHERE (\w+) = \?i$/', $query, $m)) {
            FakeDb::checkColumns($m[1], $args[0]);
            FakeDb::$rows[$m[1]][$args[1]] = $args[0] + FakeDb::$rows[$m[1]][$args[1]];
            return true;
        }
        if ($query === 'DELETE FROM ?:smile_bridge_customer_prices WHERE user_id = ?i AND product_id = ?i') {
            FakeDb::requireTable('smile_bridge_customer_prices');
            FakeDb::$customerPrices = array_values(array_filter(FakeDb::$customerPrices, static function ($row) use ($args) {
                return !($row['user_id'] === $args[0] && $row['product_id'] === $args[1]);
            }));
            return true;
        }
        if ($query === 'INSERT INTO ?:smile_bridge_customer_prices ?e') {
            FakeDb::$customerPrices[] = $args[0];
            return true;
        }
        FakeDb::unexpected($query);
        return false;
    }

    /** @return int|string */
    function fn_get_status_id(string $letter, string $type)
    {
        return isset(FakeDb::$statuses[$letter]) ? FakeDb::$statuses[$letter]['status_id'] : '';
    }

    /** fn_update_status('', data, type): a new status with the letter the add-on chose. */
    function fn_update_status(string $status, array $data, string $type)
    {
        $letter = $data['status'];
        if (isset(FakeDb::$statuses[$letter])) {
            throw new \RuntimeException("status $letter exists already");
        }
        $ids = array_map(static function ($status) {
            return $status['status_id'];
        }, FakeDb::$statuses);
        FakeDb::$statuses[$letter] = ['status_id' => max(100, max($ids) + 1), 'description' => $data['description'],
            'params' => $data['params']];
        return $letter;
    }

    function fn_delete_status(string $letter, string $type): bool
    {
        unset(FakeDb::$statuses[$letter]);
        return true;
    }

    /** CS-Cart's hook runner: records the call; the update_product_pre handler of a refusing add-on says no. */
    function fn_set_hook(string $name, &...$args): void
    {
        FakeDb::$hooks[] = $name;
        if ($name === 'update_product_pre' && isset(FakeDb::$refuse[$args[1]])) {
            $args[3] = false;
        }
    }

    /** fn_change_order_status: records the call; an order in $statusInstead gets that letter (B: no stock). */
    function fn_change_order_status($order_id, $status_to, $status_from = '', $force_notification = [], $place_order = false)
    {
        FakeDb::$statusChanges[(int) $order_id] = [$status_to, $force_notification];
        $from = FakeDb::$rows['orders'][$order_id]['status'];
        if ($from === $status_to) {
            return false;
        }
        FakeDb::$rows['orders'][$order_id]['status'] = isset(FakeDb::$statusInstead[$order_id]) ? FakeDb::$statusInstead[$order_id] : $status_to;
        return true;
    }

    /** fn_get_notification_rules as CS-Cart 4.20.1 has it, in the admin area (C customer, A department, V vendor). */
    function fn_get_notification_rules($params, $disable_notification = false)
    {
        return ['C' => !empty($params['notify_user']), 'A' => !empty($params['notify_department']),
            'V' => !empty($params['notify_vendor'])];
    }

    function fn_define($name, $value)
    {
        if (!defined($name)) {
            define($name, $value);
        }
    }

    function fn_send_product_notifications(int $product_id): void
    {
        FakeDb::$backInStock[] = $product_id;
    }

    function fn_check_user_access(int $user_id, string $privilege): bool
    {
        return in_array($privilege, isset(FakeDb::$privileges[$user_id]) ? FakeDb::$privileges[$user_id] : [], true);
    }

    function fn_update_product(array $data, int $product_id, string $lang_code)
    {
        if (isset(FakeDb::$refuse[$product_id])) {
            return false;
        }
        FakeDb::$rows['products'][$product_id] = $data + FakeDb::$rows['products'][$product_id];
        FakeDb::$updatedProducts[] = $product_id;
        return $product_id;
    }

    function fn_set_notification(string $type, string $title, string $message): void
    {
        FakeDb::$notifications[] = $type . ': ' . $message;
    }

    /** CS-Cart's language values, read from the add-on's own .po file for the customer's language. */
    function __(string $name, array $replacements = []): string
    {
        static $texts = [];
        $language = FakeDb::$language;
        if (!isset($texts[$language])) {
            $texts[$language] = [];
            $po = file_get_contents(__DIR__ . '/../../var/langs/' . $language . '/addons/smile_bridge.po');
            preg_match_all('/msgctxt "Languages::([^"]+)"\nmsgid "(?:[^"\\\\]|\\\\.)*"\nmsgstr "((?:[^"\\\\]|\\\\.)*)"/', $po, $all, PREG_SET_ORDER);
            foreach ($all as $match) {
                $texts[$language][$match[1]] = stripcslashes($match[2]);
            }
        }
        $text = isset($texts[$language][$name]) ? $texts[$language][$name] : '_' . $name;
        return strtr($text, $replacements);
    }
}
