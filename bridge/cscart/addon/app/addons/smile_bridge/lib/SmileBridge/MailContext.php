<?php

namespace SmileBridge;

/**
 * The values the add-on's Japanese customer mails print (pure: no CS-Cart dependency). The mail templates
 * (resources/email_templates.xml, editable in Design → Email templates) read them as {{ smile.* }}; the simulator
 * builds the same array (bridge/cscart/sim/mail.py) and a test compares the two.
 *
 * Inputs are plain arrays: the order (CS-Cart's order_info: order_id, timestamp, firstname, lastname, company,
 * email, total, products, smile_delivery_date, smile_delivery_slot), its shipments (shipment_id, carrier,
 * tracking_number, shipment_timestamp, comments), the carriers (code => {name, url} with {no} in the URL), the
 * order's shipping method settings (DeliveryDates; null when none) and the daemon's values for this mail
 * (ship_date, reason, new_date, return).
 */
final class MailContext
{
    const ORDER_CONFIRMED = 'order_confirmed';
    const PAYMENT_RECEIVED = 'payment_received';
    const SHIPPING_NOTICE = 'shipping_notice';
    const DELAY = 'delay';
    const CANCELLED = 'cancelled';
    const RETURNED = 'returned';

    /** Kind => the mail's Japanese title (also the template's name in the admin). */
    const KINDS = [
        self::ORDER_CONFIRMED => '正式受注確認',
        self::PAYMENT_RECEIVED => '入金確認',
        self::SHIPPING_NOTICE => '出荷通知',
        self::DELAY => '遅延のお知らせ',
        self::CANCELLED => 'キャンセルのお知らせ',
        self::RETURNED => '返品受付のお知らせ',
    ];

    /** Carriers known without the daemon's push (rules/shipping.yaml tracking_urls replaces them). */
    const DEFAULT_CARRIERS = [
        'yamato' => ['name' => 'ヤマト運輸',
            'url' => 'https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id={no}'],
        'sagawa' => ['name' => '佐川急便',
            'url' => 'https://k2k.sagawa-exp.co.jp/p/web/okurijosearch.do?okurijoNo={no}'],
        'japanpost' => ['name' => '日本郵便',
            'url' => 'https://trackings.post.japanpost.jp/services/srv/search/direct?reqCodeNo1={no}&searchKind=S002&locale=ja'],
    ];

    const VALUE_KEYS = ['ship_date', 'reason', 'new_date', 'return'];

    public static function isKind(string $kind): bool
    {
        return isset(self::KINDS[$kind]);
    }

    /**
     * @param array<int, array<string, mixed>> $shipments
     * @param array<string, array<string, string>> $carriers
     * @param array<string, mixed>|null $method
     * @param array<string, mixed> $values
     * @return array<string, mixed>
     */
    public static function build(string $kind, array $order, array $shipments, array $carriers, ?array $method,
                                 array $values, \DateTimeImmutable $now): array
    {
        if (!self::isKind($kind)) {
            throw new \InvalidArgumentException('unknown mail kind ' . $kind . '; known: ' . implode(', ', array_keys(self::KINDS)));
        }
        $tz = new \DateTimeZone('Asia/Tokyo');
        $now = $now->setTimezone($tz);
        $carriers = $carriers + self::DEFAULT_CARRIERS;
        $out_shipments = [];
        usort($shipments, static function ($a, $b) {
            return (int) ($a['shipment_id'] ?? 0) <=> (int) ($b['shipment_id'] ?? 0);
        });
        $last_shipped = '';
        foreach ($shipments as $shipment) {
            $code = (string) ($shipment['carrier'] ?? '');
            $number = trim((string) ($shipment['tracking_number'] ?? ''));
            $carrier = isset($carriers[$code]) && is_array($carriers[$code]) ? $carriers[$code] : [];
            $url = isset($carrier['url']) ? (string) $carrier['url'] : '';
            $shipped_on = self::day($shipment['shipment_timestamp'] ?? 0, $tz);
            if ($shipped_on > $last_shipped) {
                $last_shipped = $shipped_on;
            }
            $out_shipments[] = [
                'carrier' => $code,
                'carrier_name' => isset($carrier['name']) && $carrier['name'] !== '' ? (string) $carrier['name'] : $code,
                'tracking_number' => $number,
                'tracking_url' => ($url !== '' && $number !== '')
                    ? str_replace('{no}', rawurlencode(str_replace('-', '', $number)), $url) : '',
                'shipped_on' => $shipped_on,
                'memo' => trim(str_replace("\r\n", "\n", (string) ($shipment['comments'] ?? ''))),
            ];
        }
        $delivery_date = self::isoDay((string) ($order['smile_delivery_date'] ?? ''));
        $ship_date = self::isoDay(self::text($values, 'ship_date'));
        if ($ship_date === '' && $method !== null) {
            $ship_date = DeliveryDates::shipDate($method, $now)->format('Y-m-d');
        }
        $arrival = $delivery_date;
        if ($arrival === '' && $last_shipped !== '' && $method !== null) {
            $transit = max(0, (int) ($method['transit_days'] ?? 1));
            $arrival = (new \DateTimeImmutable($last_shipped, $tz))->modify('+' . $transit . ' day')->format('Y-m-d');
        }
        $items = [];
        $products = isset($order['products']) && is_array($order['products']) ? $order['products'] : [];
        ksort($products);
        foreach ($products as $product) {
            if (!is_array($product)) {
                continue;
            }
            $quantity = (int) ($product['amount'] ?? 0);
            $price = (string) ($product['price'] ?? '0');
            $items[] = [
                'code' => (string) ($product['product_code'] ?? ''),
                'name' => (string) ($product['product'] ?? ''),
                'quantity' => $quantity,
                'price' => self::yen($price),
                'subtotal' => self::yen((string) ((float) $price * $quantity)),
            ];
        }
        $name = trim(trim((string) ($order['lastname'] ?? '')) . ' ' . trim((string) ($order['firstname'] ?? '')));
        return [
            'kind' => $kind,
            'title' => self::KINDS[$kind],
            'order_id' => (int) ($order['order_id'] ?? 0),
            'order_date' => self::day($order['timestamp'] ?? 0, $tz),
            'customer_name' => $name,
            'company' => trim((string) ($order['company'] ?? '')),
            'email' => (string) ($order['email'] ?? ''),
            'total' => self::yen((string) ($order['total'] ?? '0')),
            'items' => $items,
            'ship_date' => $ship_date,
            'delivery_date' => $delivery_date,
            'delivery_slot' => trim((string) ($order['smile_delivery_slot'] ?? '')),
            'arrival_date' => $arrival,
            'shipments' => $out_shipments,
            'reason' => self::text($values, 'reason'),
            'new_date' => self::isoDay(self::text($values, 'new_date')),
            'return' => self::returned($values['return'] ?? null),
        ];
    }

    /** Yen with thousands separators, rounded half up to whole yen: "2118.00" → "2,118". */
    public static function yen(string $amount): string
    {
        $value = is_numeric(trim($amount)) ? (float) trim($amount) : 0.0;
        return number_format(round($value, 0, PHP_ROUND_HALF_UP), 0, '.', ',');
    }

    /** @param mixed $timestamp */
    private static function day($timestamp, \DateTimeZone $tz): string
    {
        $seconds = is_numeric($timestamp) ? (int) $timestamp : 0;
        if ($seconds <= 0) {
            return '';
        }
        return (new \DateTimeImmutable('@' . $seconds))->setTimezone($tz)->format('Y-m-d');
    }

    private static function isoDay(string $value): string
    {
        $value = trim($value);
        return preg_match('/^\d{4}-\d{2}-\d{2}$/', $value) ? $value : '';
    }

    private static function text(array $values, string $key): string
    {
        return isset($values[$key]) && is_scalar($values[$key]) ? trim((string) $values[$key]) : '';
    }

    /**
     * The return (返品) the daemon names: {return_id, items: [{code, name, quantity}], amount}.
     *
     * @param mixed $value
     * @return array<string, mixed>
     */
    private static function returned($value): array
    {
        if (!is_array($value)) {
            return [];
        }
        $items = [];
        foreach ((isset($value['items']) && is_array($value['items'])) ? $value['items'] : [] as $item) {
            if (is_array($item)) {
                $items[] = ['code' => (string) ($item['code'] ?? ''), 'name' => (string) ($item['name'] ?? ''),
                    'quantity' => (int) ($item['quantity'] ?? 0)];
            }
        }
        return ['return_id' => (int) ($value['return_id'] ?? 0), 'items' => $items,
            'amount' => self::yen((string) ($value['amount'] ?? '0'))];
    }
}
