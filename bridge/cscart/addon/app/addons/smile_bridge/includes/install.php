<?php
/**
 * Install and uninstall: the add-on's columns on core tables and its four order statuses.
 */

use SmileBridge\StatusLetterPicker;

if (!defined('BOOTSTRAP')) {
    die('Access denied');
}

/** Columns the add-on adds to core tables: table => column => definition. */
function fn_smile_bridge_columns(): array
{
    return [
        'users' => [
            'smile_customer_code' => "varchar(32) NOT NULL DEFAULT ''",
            'smile_price_rate' => 'decimal(7,3) NULL DEFAULT NULL',
            'smile_price_rounding' => "varchar(8) NOT NULL DEFAULT 'down'",
            'smile_price_unit' => "decimal(12,4) NOT NULL DEFAULT '1.0000'",
            'smile_price_rate_base' => "varchar(16) NOT NULL DEFAULT 'price'",
            'smile_credit_limit' => 'decimal(14,2) NULL DEFAULT NULL',
            'smile_credit_exposure' => "decimal(14,2) NOT NULL DEFAULT '0.00'",
        ],
        'products' => [
            'smile_direct_ship_allowed' => "char(1) NOT NULL DEFAULT 'N'",
        ],
        'orders' => [
            'smile_direct_ship' => "char(1) NOT NULL DEFAULT 'N'",
            'smile_direct_ship_recipient' => "varchar(255) NOT NULL DEFAULT ''",
            'smile_direct_ship_surcharge' => "decimal(12,2) NOT NULL DEFAULT '0.00'",
            'smile_ship_to_code' => "varchar(32) NOT NULL DEFAULT ''",
            // お届け希望日 (YYYY-MM-DD) and 時間帯 (the label) chosen at checkout (includes/delivery.php).
            'smile_delivery_date' => "varchar(10) NOT NULL DEFAULT ''",
            'smile_delivery_slot' => "varchar(32) NOT NULL DEFAULT ''",
        ],
    ];
}

/**
 * The add-on's order statuses. Letters are chosen at install (free ones only) and kept in the params table;
 * the daemon reads them from GET /statuses by description, never by letter. All keep inventory "D" so moving
 * between O/P and these never moves stock; only 出荷通知済 mails the customer (the shipping notification).
 */
function fn_smile_bridge_status_definitions(): array
{
    // what differs between the four: the colour, whether a return is allowed, whether the customer is mailed
    $params = function (string $color, string $allowReturn, string $notify = 'N'): array {
        return ['inventory' => 'D', 'notify' => $notify, 'notify_department' => 'N', 'payment_received' => 'N',
            'repay' => 'N', 'allow_return' => $allowReturn, 'color' => $color];
    };
    return [
        'hold' => [
            'preferred' => 'H', 'ja' => '保留', 'en' => 'On hold (保留)', 'params' => $params('#f0ad4e', 'N'),
        ],
        'shipping_instructed' => [
            'preferred' => 'J', 'ja' => '出荷指示', 'en' => 'Shipping instructed (出荷指示)',
            'params' => $params('#5bc0de', 'N'),
        ],
        'shipped' => [
            'preferred' => 'S', 'ja' => '出荷済', 'en' => 'Shipped (出荷済)', 'params' => $params('#337ab7', 'Y'),
        ],
        'notified' => [
            'preferred' => 'W', 'ja' => '出荷通知済', 'en' => 'Shipping notified (出荷通知済)',
            'params' => $params('#2e8b57', 'Y', 'Y'),
        ],
    ];
}

function fn_smile_bridge_install(): void
{
    foreach (fn_smile_bridge_columns() as $table => $columns) {
        foreach ($columns as $column => $definition) {
            // Re-installing after a partial uninstall must not fail on an existing column.
            if (!db_get_row('SHOW COLUMNS FROM ?:' . $table . ' LIKE ?s', $column)) {
                db_query('ALTER TABLE ?:' . $table . ' ADD ' . $column . ' ' . $definition);
            }
        }
    }
    fn_smile_bridge_install_statuses();
}

function fn_smile_bridge_install_statuses(): void
{
    $definitions = fn_smile_bridge_status_definitions();
    $missing = [];
    foreach ($definitions as $key => $definition) {
        $letter = fn_smile_bridge_get_param('status.' . $key);
        if ($letter !== '' && preg_match('/^[A-Z]$/', $letter) && fn_get_status_id($letter, STATUSES_ORDER)) {
            fn_smile_bridge_name_status($letter, $definition);
            continue;
        }
        // A reinstall finds the statuses the last uninstall kept (orders still used them) by their names: the
        // letter those orders carry is reused, never a second 出荷指示 with another letter.
        $kept = fn_smile_bridge_find_status($definition);
        if ($kept !== '') {
            fn_smile_bridge_set_param('status.' . $key, $kept);
            fn_smile_bridge_name_status($kept, $definition);
            continue;
        }
        $missing[] = $key;
    }
    if (!$missing) {
        return;
    }
    $taken = db_get_fields('SELECT status FROM ?:statuses WHERE type = ?s', STATUSES_ORDER);
    $preferred = array_map(static function ($definition) {
        return $definition['preferred'];
    }, $definitions);
    $letters = StatusLetterPicker::pick($taken, $missing, $preferred);
    foreach ($letters as $key => $letter) {
        $definition = $definitions[$key];
        fn_update_status('', [
            'status' => $letter,
            'description' => $definition['en'],
            'params' => $definition['params'],
        ], STATUSES_ORDER);
        fn_smile_bridge_name_status($letter, $definition);
        fn_smile_bridge_set_param('status.' . $key, $letter);
    }
}

/** The letter of an order status named as one of the add-on's (in any language), '' when there is none. */
function fn_smile_bridge_find_status(array $definition): string
{
    $letter = db_get_field(
        'SELECT s.status FROM ?:statuses AS s INNER JOIN ?:status_descriptions AS d ON d.status_id = s.status_id'
        . ' WHERE s.type = ?s AND d.description IN (?a) ORDER BY s.status_id ASC LIMIT 1',
        STATUSES_ORDER,
        [$definition['ja'], $definition['en']]
    );
    return is_string($letter) && preg_match('/^[A-Z]$/', $letter) ? $letter : '';
}

/**
 * fn_update_status writes one name into every language's row; the Japanese rows get the Japanese name, every other
 * language the English one (which carries the Japanese in brackets).
 */
function fn_smile_bridge_name_status(string $letter, array $definition): void
{
    $status_id = fn_get_status_id($letter, STATUSES_ORDER);
    if (!$status_id) {
        return;
    }
    foreach (db_get_fields('SELECT lang_code FROM ?:languages') as $lang_code) {
        db_query(
            'UPDATE ?:status_descriptions SET description = ?s WHERE status_id = ?i AND lang_code = ?s',
            $lang_code === 'ja' ? $definition['ja'] : $definition['en'],
            $status_id,
            $lang_code
        );
    }
}

/**
 * Statuses still used by orders are kept (with their descriptions) so those orders stay readable and can be
 * moved to a core status later; unused ones are deleted. Columns and the params table go last.
 */
function fn_smile_bridge_uninstall(): void
{
    foreach (array_keys(fn_smile_bridge_status_definitions()) as $key) {
        $letter = fn_smile_bridge_get_param('status.' . $key);
        if ($letter === '') {
            continue;
        }
        $in_use = (int) db_get_field('SELECT COUNT(*) FROM ?:orders WHERE status = ?s', $letter);
        if ($in_use === 0 && function_exists('fn_delete_status')) {
            fn_delete_status($letter, STATUSES_ORDER);
        }
    }
    foreach (fn_smile_bridge_columns() as $table => $columns) {
        foreach (array_keys($columns) as $column) {
            if (db_get_row('SHOW COLUMNS FROM ?:' . $table . ' LIKE ?s', $column)) {
                db_query('ALTER TABLE ?:' . $table . ' DROP ' . $column);
            }
        }
    }
    db_query('DROP TABLE IF EXISTS ?:smile_bridge_params');
}
