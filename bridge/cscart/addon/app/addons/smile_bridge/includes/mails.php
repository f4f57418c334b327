<?php
/**
 * The Japanese customer mails (issue 15): the templates are the add-on's (resources/email_templates.xml, editable
 * in Design → Email templates), the values come from SmileBridge\MailContext, CS-Cart's mailer sends them with its
 * own SMTP settings. The daemon decides when:
 *  - a status it writes with notify_user: the status mail of 出荷指示 becomes 正式受注確認 and that of 出荷通知済
 *    becomes 出荷通知 (param mail_statuses adds more letters, e.g. the cancelled status → cancelled);
 *  - POST /api/smile_bridge_mails {order_id, kind, key, values} for the mails that are no status change
 *    (入金確認, 遅延, 返品, …): sent once per key (table smile_bridge_mails), a repeat answers "duplicate".
 */

use SmileBridge\DeliveryDates;
use SmileBridge\MailContext;

if (!defined('BOOTSTRAP')) {
    die('Access denied');
}

/** Order status letter => mail kind for the status mails the add-on's templates replace. */
function fn_smile_bridge_mail_statuses(): array
{
    $map = [];
    foreach (['shipping_instructed' => MailContext::ORDER_CONFIRMED, 'notified' => MailContext::SHIPPING_NOTICE] as $key => $kind) {
        $letter = fn_smile_bridge_get_param('status.' . $key);
        if ($letter !== '') {
            $map[$letter] = $kind;
        }
    }
    $pushed = json_decode(fn_smile_bridge_get_param('mail_statuses', '{}'), true);
    foreach (is_array($pushed) ? $pushed : [] as $letter => $kind) {
        if (!preg_match('/^[A-Z]$/', (string) $letter)) {
            continue;
        }
        if ($kind === '' || $kind === null) {
            unset($map[$letter]);  // the pushed map turns a default off
        } elseif (MailContext::isKind((string) $kind)) {
            $map[$letter] = (string) $kind;
        }
    }
    return $map;
}

/** The carriers for tracking links: the daemon's push (param mail_carriers), else MailContext's defaults. */
function fn_smile_bridge_mail_carriers(): array
{
    $pushed = json_decode(fn_smile_bridge_get_param('mail_carriers', '{}'), true);
    return is_array($pushed) ? $pushed : [];
}

/** @return array<string, mixed> the {{ smile.* }} values of one mail for an order_info array */
function fn_smile_bridge_mail_context(string $kind, array $order, array $values = []): array
{
    $shipments = [];
    if (!empty($order['order_id'])) {
        // The order's shipments (what fn_get_shipments_info reads, without its LastView state).
        $shipments = db_get_array(
            'SELECT s.shipment_id, s.timestamp AS shipment_timestamp, s.comments, s.tracking_number, s.carrier'
            . ' FROM ?:shipments AS s INNER JOIN ?:shipment_items AS i ON i.shipment_id = s.shipment_id'
            . ' WHERE i.order_id = ?i GROUP BY s.shipment_id ORDER BY s.shipment_id',
            (int) $order['order_id']
        );
    }
    $ids = array_filter(array_map('intval', explode(',', (string) ($order['shipping_ids'] ?? ''))));
    $methods = DeliveryDates::parseMethods(fn_smile_bridge_get_param('delivery_methods', '{}'));
    $first = $ids ? reset($ids) : 0;
    $method = isset($methods[$first]) ? $methods[$first] : null;
    return MailContext::build($kind, $order, $shipments, fn_smile_bridge_mail_carriers(), $method, $values,
        fn_smile_bridge_delivery_now());
}

function fn_smile_bridge_mail_template_active(string $kind): bool
{
    return (bool) db_get_field(
        'SELECT template_id FROM ?:template_emails WHERE code = ?s AND area = ?s AND status = ?s',
        'smile_bridge_' . $kind,
        'C',
        'A'
    );
}

/**
 * Hook mailer_create_message_before: a customer status mail of a mapped status is sent with the add-on's template,
 * and every add-on mail gets its {{ smile.* }} values.
 */
function fn_smile_bridge_mailer_create_message_before($mailer, &$message, $area, $lang_code, $transport, $builder): void
{
    if (!is_array($message) || empty($message['template_code']) || empty($message['data']['order_info'])) {
        return;
    }
    $code = (string) $message['template_code'];
    $kind = '';
    if (strpos($code, 'order_notification.') === 0 && $area === 'C') {
        $letter = strtoupper(substr($code, strlen('order_notification.')));
        $map = fn_smile_bridge_mail_statuses();
        if (!isset($map[$letter]) || !fn_smile_bridge_mail_template_active($map[$letter])) {
            return;
        }
        $kind = $map[$letter];
        $message['template_code'] = 'smile_bridge_' . $kind;
    } elseif (strpos($code, 'smile_bridge_') === 0) {
        $kind = substr($code, strlen('smile_bridge_'));
    }
    if ($kind === '' || !MailContext::isKind($kind) || isset($message['data']['smile'])) {
        return;
    }
    $message['data']['smile'] = fn_smile_bridge_mail_context($kind, (array) $message['data']['order_info']);
}

/**
 * Send one add-on mail for an order, once per key.
 *
 * @return array{status: string, message: string} status: sent | duplicate | not_sent | not_found | disabled
 */
function fn_smile_bridge_send_mail(int $order_id, string $kind, string $key, array $values): array
{
    $sent_at = db_get_field('SELECT sent_at FROM ?:smile_bridge_mails WHERE mail_key = ?s', $key);
    if ($sent_at) {
        return ['status' => 'duplicate', 'message' => 'mail ' . $key . ' was sent at ' . date('c', (int) $sent_at)];
    }
    $order = fn_get_order_info($order_id);
    if (empty($order) || empty($order['order_id'])) {
        return ['status' => 'not_found', 'message' => 'order ' . $order_id . ' does not exist'];
    }
    if (!fn_smile_bridge_mail_template_active($kind)) {
        return ['status' => 'disabled', 'message' => 'the e-mail template smile_bridge_' . $kind . ' is missing or disabled (Design → Email templates)'];
    }
    $sent = Tygh::$app['mailer']->send([
        'to' => $order['email'],
        'from' => 'company_orders_department',
        'data' => ['order_info' => $order, 'smile' => fn_smile_bridge_mail_context($kind, $order, $values)],
        'template_code' => 'smile_bridge_' . $kind,
        'company_id' => (int) ($order['company_id'] ?? 0),
    ], 'C', !empty($order['lang_code']) ? $order['lang_code'] : CART_LANGUAGE);
    if (!$sent) {
        return ['status' => 'not_sent', 'message' => 'CS-Cart\'s mailer did not send the mail (see its SMTP settings and log)'];
    }
    db_query('REPLACE INTO ?:smile_bridge_mails ?e',
        ['mail_key' => $key, 'order_id' => $order_id, 'kind' => $kind, 'sent_at' => time()]);
    return ['status' => 'sent', 'message' => ''];
}
