<?php

namespace SmileBridge;

/**
 * A return request of CS-Cart's rma add-on as GET /api/smile_bridge_returns shows it (pure): the request row
 * (?:rma_returns), its products (?:rma_return_products, type A = accepted, D = declined) with the order line's
 * product code (?:order_details) and the reason's name (?:rma_property_descriptions).
 */
final class ReturnSerializer
{
    const MAX_LIMIT = 200;

    /**
     * @param array<string, mixed> $row
     * @param array<int, array<string, mixed>> $products
     * @param array<int|string, string> $codes item_id => product_code
     * @param array<int|string, string> $reasons property_id => name
     * @return array<string, mixed>
     */
    public static function toJson(array $row, array $products, array $codes, array $reasons): array
    {
        $items = [];
        foreach ($products as $product) {
            $item_id = (string) ($product['item_id'] ?? '');
            $reason = (string) ($product['reason'] ?? '');
            $items[] = [
                'item_id' => $item_id,
                'product_id' => (int) ($product['product_id'] ?? 0),
                'product_code' => isset($codes[$item_id]) ? (string) $codes[$item_id] : '',
                'product' => (string) ($product['product'] ?? ''),
                'amount' => (int) ($product['amount'] ?? 0),
                'price' => number_format((float) ($product['price'] ?? 0), 2, '.', ''),
                'type' => (string) ($product['type'] ?? 'A'),
                'reason' => isset($reasons[$reason]) ? (string) $reasons[$reason] : '',
            ];
        }
        usort($items, static function ($a, $b) {
            return [$a['type'], $a['item_id']] <=> [$b['type'], $b['item_id']];
        });
        return [
            'return_id' => (int) ($row['return_id'] ?? 0),
            'order_id' => (int) ($row['order_id'] ?? 0),
            'user_id' => (int) ($row['user_id'] ?? 0),
            'status' => (string) ($row['status'] ?? ''),
            'timestamp' => (int) ($row['timestamp'] ?? 0),
            'action' => (int) ($row['action'] ?? 0),
            'comment' => (string) ($row['comment'] ?? ''),
            'items' => $items,
        ];
    }

    /**
     * The list query: statuses (letters, comma-separated), since (unix time of the request), limit (1-200).
     *
     * @param array<string, mixed> $params
     * @return array{statuses: string[], since: int, limit: int}
     * @throws \InvalidArgumentException naming the parameter
     */
    public static function listParams(array $params): array
    {
        $statuses = [];
        $raw = isset($params['statuses']) ? (string) $params['statuses'] : '';
        foreach (array_filter(explode(',', $raw), 'strlen') as $letter) {
            if (!preg_match('/^[A-Z]$/', $letter)) {
                throw new \InvalidArgumentException('statuses must be return status letters separated by commas, e.g. A,C');
            }
            $statuses[] = $letter;
        }
        $since = isset($params['since']) && $params['since'] !== '' ? (string) $params['since'] : '0';
        if (!ctype_digit($since)) {
            throw new \InvalidArgumentException('since must be a unix time (seconds)');
        }
        $limit = isset($params['limit']) && $params['limit'] !== '' ? (string) $params['limit'] : (string) self::MAX_LIMIT;
        if (!ctype_digit($limit) || (int) $limit < 1) {
            throw new \InvalidArgumentException('limit must be an integer from 1 to ' . self::MAX_LIMIT);
        }
        return ['statuses' => $statuses, 'since' => (int) $since, 'limit' => min((int) $limit, self::MAX_LIMIT)];
    }
}
