<?php

namespace SmileBridge;

/**
 * What each applied promotion gave an order, for GET /orders/:id (the add-on's smile_bridge_promotions key).
 *
 * CS-Cart keeps the applied promotions in orders.promotions (promotion id => bonuses, total_discount) and each
 * discounted product's share in products[].extra.promotions[promotion id].bonuses[].discount (per unit). On a real
 * 4.20.1 store a product discount's total_discount came back per unit (10 % of ¥30 × 2 units: total_discount 3,
 * order discount 6), so product discounts are summed from the products (discount × amount); total_discount counts
 * only for a promotion with an order_discount bonus (what it took off the subtotal), less its product part.
 * Each bonus row's discount is the product's discount so far (fn_promotion_apply_discount() records
 * $product['discount'] after adding its own): with two promotions on one product the second row holds both, so a
 * promotion's share is its row less the row before it, in the order CS-Cart applied them (found on a real 4.20.1
 * store: 10 % then ¥3 on a ¥15 product recorded 3 and 4.5 per unit).
 * Order discounts are the order's subtotal_discount: total_discount cannot tell them, since CS-Cart overwrites it
 * with each bonus it applies (a campaign with 10 % on products and ¥5 off the order kept total_discount 5 and
 * the products' 3 per unit elsewhere). One promotion with an order_discount bonus gets the whole subtotal_discount;
 * several share it as CS-Cart computed them, in the order they were applied, on the subtotal after the product
 * discounts applied before (percentages) or by their yen (fixed), the last one taking the rounding.
 * A free_products item is marked extra.exclude_from_calculate and extra.saved_options_key "<promotion id>_<product id>".
 */
final class PromotionAmounts
{
    /**
     * @param array<string, mixed> $order fn_get_order_info()'s order (promotions, products)
     * @param array<int, string> $campaigns promotion id => campaign id (the add-on's table)
     * @return array<int, array<string, mixed>>
     */
    public static function of(array $order, array $campaigns): array
    {
        $promotions = isset($order['promotions']) && is_array($order['promotions']) ? $order['promotions'] : [];
        $products = isset($order['products']) && is_array($order['products']) ? $order['products'] : [];
        $shares = self::productShares($products);
        $orderShares = self::orderShares($order, $promotions, $products, $shares);
        $out = [];
        foreach ($promotions as $promotionId => $applied) {
            $promotionId = (int) $promotionId;
            $bonuses = is_array($applied) && isset($applied['bonuses']) && is_array($applied['bonuses']) ? $applied['bonuses'] : [];
            $free = false;
            $points = 0;
            foreach ($bonuses as $bonus) {
                $kind = is_array($bonus) && isset($bonus['bonus']) ? $bonus['bonus'] : '';
                if ($kind === 'free_shipping') {
                    $free = true;
                } elseif ($kind === 'give_points') {
                    $points += (int) (isset($bonus['value']) ? $bonus['value'] : 0);
                }
            }
            $items = [];
            $onProducts = isset($shares[(int) $promotionId]) ? $shares[(int) $promotionId] : 0.0;
            foreach ($products as $product) {
                $extra = isset($product['extra']) && is_array($product['extra']) ? $product['extra'] : [];
                $key = isset($extra['saved_options_key']) ? (string) $extra['saved_options_key'] : '';
                if (!empty($extra['exclude_from_calculate']) && strpos($key, $promotionId . '_') === 0) {
                    $items[] = ['product_id' => (int) $product['product_id'],
                        'product_code' => isset($product['product_code']) ? (string) $product['product_code'] : '',
                        'amount' => (int) $product['amount']];
                }
            }
            $discount = $onProducts + (isset($orderShares[$promotionId]) ? $orderShares[$promotionId] : 0.0);
            $out[] = [
                'promotion_id' => $promotionId,
                'campaign_id' => isset($campaigns[$promotionId]) ? $campaigns[$promotionId] : '',
                'discount' => number_format(round($discount, 2), 2, '.', ''),
                'free_shipping' => $free,
                'bonus_items' => $items,
                'points' => $points,
            ];
        }
        return $out;
    }

    /**
     * promotion id => yen it took off the products (per-unit share × amount), each bonus row less the one before.
     *
     * @param array<mixed> $products
     * @return array<int, float>
     */
    private static function productShares(array $products): array
    {
        $shares = [];
        foreach ($products as $product) {
            if (!is_array($product)) {
                continue;
            }
            $extra = isset($product['extra']) && is_array($product['extra']) ? $product['extra'] : [];
            $applied = isset($extra['promotions']) && is_array($extra['promotions']) ? $extra['promotions'] : [];
            $amount = (float) (isset($product['amount']) ? $product['amount'] : 0);
            $before = 0.0;
            foreach ($applied as $promotionId => $data) {
                $rows = is_array($data) && isset($data['bonuses']) && is_array($data['bonuses']) ? $data['bonuses'] : [];
                foreach ($rows as $row) {
                    if (!is_array($row) || !isset($row['discount'])) {
                        continue;
                    }
                    $sofar = (float) $row['discount'];
                    $id = (int) $promotionId;
                    $shares[$id] = (isset($shares[$id]) ? $shares[$id] : 0.0) + max($sofar - $before, 0.0) * $amount;
                    $before = max($before, $sofar);
                }
            }
        }
        return $shares;
    }

    /**
     * promotion id => yen it took off the order's subtotal (order_discount bonuses).
     *
     * @param array<string, mixed> $order
     * @param array<mixed> $promotions
     * @param array<mixed> $products
     * @param array<int, float> $productShares
     * @return array<int, float>
     */
    private static function orderShares(array $order, array $promotions, array $products, array $productShares): array
    {
        $levels = [];
        foreach ($promotions as $promotionId => $applied) {
            $bonuses = is_array($applied) && isset($applied['bonuses']) && is_array($applied['bonuses']) ? $applied['bonuses'] : [];
            foreach ($bonuses as $bonus) {
                if (is_array($bonus) && isset($bonus['bonus']) && $bonus['bonus'] === 'order_discount') {
                    $levels[(int) $promotionId][] = $bonus;
                }
            }
        }
        if ($levels === []) {
            return [];
        }
        if (!isset($order['subtotal_discount'])) {  // an order without the figure: total_discount less the products
            $out = [];
            foreach (array_keys($levels) as $id) {
                $total = isset($promotions[$id]['total_discount']) ? (float) $promotions[$id]['total_discount'] : 0.0;
                $out[$id] = max($total - (isset($productShares[$id]) ? $productShares[$id] : 0.0), 0.0);
            }
            return $out;
        }
        $actual = (float) $order['subtotal_discount'];
        if (count($levels) === 1) {
            $ids = array_keys($levels);
            return [(int) $ids[0] => $actual];
        }
        $running = 0.0;  // the subtotal before any promotion: the products at their prices before discounts
        foreach ($products as $product) {
            $extra = is_array($product) && isset($product['extra']) && is_array($product['extra']) ? $product['extra'] : [];
            if (!is_array($product) || !empty($extra['exclude_from_calculate'])) {
                continue;
            }
            $unit = isset($product['base_price']) ? (float) $product['base_price']
                : (float) (isset($product['price']) ? $product['price'] : 0) + (float) (isset($product['discount']) ? $product['discount'] : 0);
            $running += $unit * (float) (isset($product['amount']) ? $product['amount'] : 0);
        }
        $estimates = [];
        foreach ($promotions as $promotionId => $applied) {
            $id = (int) $promotionId;
            $running -= isset($productShares[$id]) ? $productShares[$id] : 0.0;
            foreach (isset($levels[$id]) ? $levels[$id] : [] as $bonus) {
                $value = (float) (isset($bonus['discount_value']) ? $bonus['discount_value'] : 0);
                $how = isset($bonus['discount_bonus']) ? $bonus['discount_bonus'] : '';
                $off = $how === 'by_percentage' ? round($running * $value / 100, 2)
                    : ($how === 'to_percentage' ? round($running * (100 - $value) / 100, 2)
                    : ($how === 'to_fixed' ? max($running - $value, 0.0) : $value));
                $estimates[$id] = (isset($estimates[$id]) ? $estimates[$id] : 0.0) + $off;
            }
        }
        $sum = array_sum($estimates);
        $out = [];
        $given = 0.0;
        $ids = array_keys($estimates);
        foreach ($ids as $i => $id) {
            $share = $i === count($ids) - 1 ? $actual - $given
                : ($sum > 0 ? round($actual * $estimates[$id] / $sum, 2) : 0.0);
            $out[$id] = max($share, 0.0);
            $given += $out[$id];
        }
        return $out;
    }
}
