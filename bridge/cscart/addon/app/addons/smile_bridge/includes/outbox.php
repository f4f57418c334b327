<?php
/**
 * Event outbox: the hooks insert one row per event in the same request (no network on the checkout path);
 * after the response a best-effort signed POST wakes the daemon. A failing daemon never breaks the shop.
 */

use SmileBridge\EventSerializer;
use SmileBridge\HmacSigner;

if (!defined('BOOTSTRAP')) {
    die('Access denied');
}

const SMILE_BRIDGE_WAKE_UP_TIMEOUT_MS = 1000;
const SMILE_BRIDGE_WAKE_UP_CONNECT_TIMEOUT_MS = 300;
// The daemon answers 429 with Retry-After when it was woken more than its limit a minute (it is running then, and
// reads every event when it runs): no wake-up is sent until that moment. Kept in ?:smile_bridge_params.
const SMILE_BRIDGE_WAKE_UP_PAUSE_PARAM = 'wake_up.paused_until';
const SMILE_BRIDGE_WAKE_UP_MAX_PAUSE = 300;

/** @param array<string, mixed> $data */
function fn_smile_bridge_record_event(string $type, int $entity_id, array $data): void
{
    try {
        $row = EventSerializer::row($type, $entity_id, $data, defined('TIME') ? TIME : time());
        $event_id = (int) db_query('INSERT INTO ?:smile_bridge_events ?e', $row);
        fn_smile_bridge_schedule_wake_up($event_id);
    } catch (\Throwable $exc) {
        // The outbox must never break checkout or admin work; the daemon's updated_at_from poll is the safety net.
        error_log('smile_bridge: could not record ' . $type . ' event: ' . $exc->getMessage());
    }
}

/** One wake-up per request, sent after the response, carrying the newest event id. */
function fn_smile_bridge_schedule_wake_up(int $event_id): void
{
    static $pending = null;
    if ($pending === null) {
        $pending = $event_id;
        register_shutdown_function(static function () use (&$pending) {
            fn_smile_bridge_wake_up((int) $pending);
        });
    }
    $pending = max((int) $pending, $event_id);
}

function fn_smile_bridge_wake_up(int $last_event_id): void
{
    $url = trim((string) fn_smile_bridge_setting('daemon_url', ''));
    $secret = (string) fn_smile_bridge_setting('hmac_secret', '');
    if ($url === '' || $secret === '') {
        return;
    }
    try {
        if (function_exists('fastcgi_finish_request')) {
            // The customer's page is complete; the wake-up must not delay it.
            fastcgi_finish_request();
        }
        $now = time();
        if ($now < fn_smile_bridge_wake_up_paused_until()) {
            return;  // the daemon asked for a pause (429): it is busy with the events already
        }
        $body = EventSerializer::wakeUpBody($last_event_id, $now);
        $headers = [
            'Content-Type: application/json',
            HmacSigner::HEADER . ': ' . HmacSigner::sign($secret, $body, $now),
        ];
        [$status, $retry_after] = fn_smile_bridge_post(rtrim($url, '/') . '/hooks/cscart', $body, $headers);
        if ($status === 429) {
            $pause = max(1, min(SMILE_BRIDGE_WAKE_UP_MAX_PAUSE, $retry_after > 0 ? $retry_after : 60));
            fn_smile_bridge_set_param(SMILE_BRIDGE_WAKE_UP_PAUSE_PARAM, (string) ($now + $pause));
        }
    } catch (\Throwable $exc) {
        error_log('smile_bridge: daemon wake-up failed: ' . $exc->getMessage());
    }
}

/** Unix time before which no wake-up is sent (0: none); a params table that cannot be read pauses nothing. */
function fn_smile_bridge_wake_up_paused_until(): int
{
    try {
        return (int) fn_smile_bridge_get_param(SMILE_BRIDGE_WAKE_UP_PAUSE_PARAM, '0');
    } catch (\Throwable $exc) {
        return 0;
    }
}

/**
 * @param string[] $headers
 * @return array{0:int, 1:int} the HTTP status (0: no answer) and the Retry-After seconds (0: none)
 */
function fn_smile_bridge_post(string $url, string $body, array $headers): array
{
    $retry_after = 0;
    $read_header = static function (string $line) use (&$retry_after): void {
        if (stripos($line, 'Retry-After:') === 0) {
            $retry_after = (int) trim(substr($line, strlen('Retry-After:')));
        }
    };
    if (function_exists('curl_init')) {
        $curl = curl_init($url);
        curl_setopt_array($curl, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => $body,
            CURLOPT_HTTPHEADER => $headers,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_CONNECTTIMEOUT_MS => SMILE_BRIDGE_WAKE_UP_CONNECT_TIMEOUT_MS,
            CURLOPT_TIMEOUT_MS => SMILE_BRIDGE_WAKE_UP_TIMEOUT_MS,
            CURLOPT_NOSIGNAL => true,
            CURLOPT_HEADERFUNCTION => static function ($curl, string $line) use ($read_header): int {
                $read_header($line);
                return strlen($line);
            },
        ]);
        curl_exec($curl);
        $status = (int) curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        curl_close($curl);
        return [$status, $retry_after];
    }
    $context = stream_context_create(['http' => [
        'method' => 'POST',
        'header' => implode("\r\n", $headers),
        'content' => $body,
        'timeout' => SMILE_BRIDGE_WAKE_UP_TIMEOUT_MS / 1000,
        'ignore_errors' => true,
    ]]);
    $http_response_header = [];
    @file_get_contents($url, false, $context);
    $status = 0;
    foreach ($http_response_header as $line) {
        if (preg_match('#^HTTP/\S+\s+(\d{3})#', $line, $found)) {
            $status = (int) $found[1];
        }
        $read_header($line);
    }
    return [$status, $retry_after];
}

/** Delete events older than the retention setting (days, default 14). */
function fn_smile_bridge_purge_events(): int
{
    $days = (int) fn_smile_bridge_setting('event_retention_days', 14);
    if ($days < 1) {
        $days = 14;
    }
    $cutoff = (defined('TIME') ? TIME : time()) - $days * 86400;
    return (int) db_query('DELETE FROM ?:smile_bridge_events WHERE created_at < ?i', $cutoff);
}

// ---- hook handlers -------------------------------------------------------------------------------------------

function fn_smile_bridge_place_order_post($cart, $auth, $action, $issuer_id, $parent_order_id, $order_id, $order_status, $short_order_data, $notification_rules)
{
    fn_smile_bridge_store_order_fields((int) $order_id, $cart);
    fn_smile_bridge_record_event(EventSerializer::ORDER_PLACED, (int) $order_id, [
        'status' => (string) $order_status,
        'user_id' => (int) (isset($auth['user_id']) ? $auth['user_id'] : 0),
        'total' => isset($cart['total']) ? (string) $cart['total'] : '0',
    ]);
    if (empty($cart['order_id'])) {
        // CS-Cart runs the update_order hook only when an existing order is saved again; a new order (storefront
        // or REST) gets its order.updated here, as docs/addon.md promises.
        fn_smile_bridge_record_event(EventSerializer::ORDER_UPDATED, (int) $order_id, ['status' => (string) $order_status]);
    }
}

function fn_smile_bridge_change_order_status_post($order_id, $status_to, $status_from, $force_notification, $place_order, $order_info, $edp_data)
{
    fn_smile_bridge_record_event(EventSerializer::ORDER_STATUS_CHANGED, (int) $order_id, [
        'status_from' => (string) $status_from,
        'status_to' => (string) $status_to,
    ]);
}

function fn_smile_bridge_update_order(&$order, $order_id)
{
    fn_smile_bridge_record_event(EventSerializer::ORDER_UPDATED, (int) $order_id, [
        'status' => isset($order['status']) ? (string) $order['status'] : '',
    ]);
}

function fn_smile_bridge_delete_order($order_id)
{
    fn_smile_bridge_record_event(EventSerializer::ORDER_DELETED, (int) $order_id, []);
}

function fn_smile_bridge_update_profile($action, $user_data, $current_user_data)
{
    $user_id = isset($user_data['user_id']) ? (int) $user_data['user_id'] : 0;
    if ($user_id === 0 && isset($current_user_data['user_id'])) {
        $user_id = (int) $current_user_data['user_id'];
    }
    fn_smile_bridge_record_event(EventSerializer::USER_UPDATED, $user_id, [
        'action' => (string) $action,
        'user_type' => isset($user_data['user_type']) ? (string) $user_data['user_type'] : '',
    ]);
}
