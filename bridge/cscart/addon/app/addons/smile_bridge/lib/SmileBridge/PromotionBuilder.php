<?php

namespace SmileBridge;

/**
 * PUT /api/smile_bridge_promotions/<campaign id>: the request body → the $data fn_update_promotion() takes.
 *
 * Validates the cart-zone conditions and bonuses the bridge compiles (docs/addon.md §10), renumbers condition and
 * bonus lists from 1 as CS-Cart's admin stores them, and turns the JST days from_date / to_date into unix
 * timestamps (00:00:00 and 23:59:59 JST; fn_parse_date() passes numbers through). A body holding only "status"
 * is a partial update (switching a promotion off); every other write names the whole promotion.
 */
final class PromotionBuilder
{
    const TIMEZONE = 'Asia/Tokyo';

    /** condition => allowed operators (CS-Cart's app/schemas/promotions/schema.php, cart zone; the add-on's own). */
    const CONDITIONS = [
        'subtotal' => ['eq', 'neq', 'lte', 'gte', 'lt', 'gt'],
        'products_number' => ['eq', 'neq', 'lte', 'gte', 'lt', 'gt'],
        'categories' => ['in', 'nin'],
        'products' => ['in', 'nin'],
        'usergroup' => ['eq', 'neq'],
        'users' => ['in', 'nin'],
        'state' => ['eq', 'neq', 'in', 'nin'],
        'coupon_code' => ['eq', 'in'],
        'number_of_usages' => ['lte', 'lt'],
        'smile_bridge_weekdays' => ['in'],
    ];
    const BONUSES = ['order_discount', 'discount_on_products', 'discount_on_categories', 'free_shipping',
        'free_products', 'give_points'];
    const DISCOUNT_KINDS = ['by_percentage', 'by_fixed', 'to_percentage', 'to_fixed'];
    const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

    /**
     * @param array<string, mixed> $body the request body (without dry_run)
     * @param bool $creating no promotion exists for the campaign yet
     * @param bool $rewardPoints the Reward points add-on is active (give_points)
     * @return array<string, mixed>
     */
    public static function build(array $body, bool $creating, bool $rewardPoints): array
    {
        $keys = array_keys($body);
        if ($keys === ['status']) {
            if ($creating) {
                throw new InvalidPromotion('a campaign without a promotion needs name, from_date, to_date, conditions and bonuses, not only status');
            }
            return ['status' => self::status($body['status'])];
        }
        $known = ['name', 'status', 'from_date', 'to_date', 'priority', 'stop_other_rules', 'zone', 'conditions', 'bonuses'];
        foreach ($keys as $key) {
            if (!in_array($key, $known, true)) {
                throw new InvalidPromotion("unknown field '$key' (known: " . implode(', ', $known) . ')');
            }
        }
        foreach (['name', 'from_date', 'to_date', 'conditions', 'bonuses'] as $required) {
            if (!array_key_exists($required, $body)) {
                throw new InvalidPromotion("field '$required' is required");
            }
        }
        $name = is_string($body['name']) ? trim($body['name']) : '';
        if ($name === '') {
            throw new InvalidPromotion("field 'name' must be a non-empty text");
        }
        $from = self::day($body['from_date'], 'from_date', false);
        $to = self::day($body['to_date'], 'to_date', true);
        if ($to < $from) {
            throw new InvalidPromotion('to_date is before from_date');
        }
        $priority = isset($body['priority']) ? $body['priority'] : 0;
        if (!is_int($priority) && !(is_string($priority) && ctype_digit($priority))) {
            throw new InvalidPromotion("field 'priority' must be a whole number >= 0");
        }
        $stop = isset($body['stop_other_rules']) ? $body['stop_other_rules'] : 'N';
        if (!in_array($stop, ['Y', 'N'], true)) {
            throw new InvalidPromotion("field 'stop_other_rules' must be Y or N");
        }
        $zone = isset($body['zone']) ? $body['zone'] : 'cart';
        if ($zone !== 'cart') {
            throw new InvalidPromotion("field 'zone' must be cart (the bridge writes cart promotions only)");
        }
        return [
            'name' => $name,
            'status' => self::status(isset($body['status']) ? $body['status'] : 'D'),
            'from_date' => $from,
            'to_date' => $to,
            'priority' => (int) $priority,
            'stop_other_rules' => $stop,
            'zone' => 'cart',
            'conditions' => self::group($body['conditions'], 'conditions'),
            'bonuses' => self::bonuses($body['bonuses'], $rewardPoints),
        ];
    }

    /** @param mixed $value */
    private static function status($value): string
    {
        if (!in_array($value, ['A', 'D'], true)) {
            throw new InvalidPromotion("field 'status' must be A (active) or D (disabled)");
        }
        return $value;
    }

    /** @param mixed $value */
    private static function day($value, string $field, bool $end): int
    {
        if (!is_string($value) || !preg_match('/^\d{4}-\d{2}-\d{2}$/', $value)) {
            throw new InvalidPromotion("field '$field' must be a date YYYY-MM-DD (JST)");
        }
        $date = \DateTimeImmutable::createFromFormat('!Y-m-d', $value, new \DateTimeZone(self::TIMEZONE));
        if ($date === false || $date->format('Y-m-d') !== $value) {
            throw new InvalidPromotion("field '$field': $value is not a calendar date");
        }
        return $end ? $date->setTime(23, 59, 59)->getTimestamp() : $date->getTimestamp();
    }

    /**
     * @param mixed $group
     * @return array<string, mixed>
     */
    private static function group($group, string $where): array
    {
        if (!is_array($group) || !isset($group['set']) || !in_array($group['set'], ['all', 'any'], true)) {
            throw new InvalidPromotion("$where: a condition group needs set all or any");
        }
        $items = isset($group['conditions']) ? $group['conditions'] : [];
        if (!is_array($items)) {
            throw new InvalidPromotion("$where.conditions must be a list");
        }
        $out = [];
        $n = 0;
        foreach (array_values($items) as $index => $item) {
            $at = "$where.conditions[$index]";
            if (is_array($item) && array_key_exists('conditions', $item)) {
                $out[++$n] = self::group($item, $at);
            } else {
                $out[++$n] = self::condition($item, $at);
            }
        }
        return ['set' => $group['set'], 'set_value' => isset($group['set_value']) ? (int) $group['set_value'] : 1,
            'conditions' => $out];
    }

    /**
     * @param mixed $item
     * @return array<string, mixed>
     */
    private static function condition($item, string $at): array
    {
        if (!is_array($item) || !isset($item['condition'], $item['operator']) || !array_key_exists('value', $item)) {
            throw new InvalidPromotion("$at needs condition, operator and value");
        }
        $kind = $item['condition'];
        if (!isset(self::CONDITIONS[$kind])) {
            throw new InvalidPromotion("$at: unknown condition '$kind' (known: " . implode(', ', array_keys(self::CONDITIONS)) . ')');
        }
        if (!in_array($item['operator'], self::CONDITIONS[$kind], true)) {
            throw new InvalidPromotion("$at: condition $kind takes operator " . implode('|', self::CONDITIONS[$kind]) . ", not '{$item['operator']}'");
        }
        $value = $item['value'];
        if ($kind === 'products') {
            if (!is_array($value) || $value === []) {
                throw new InvalidPromotion("$at.value must be a list of {product_id, amount}");
            }
            $rows = [];
            foreach (array_values($value) as $i => $row) {
                if (!is_array($row) || !self::positiveInt(isset($row['product_id']) ? $row['product_id'] : null)) {
                    throw new InvalidPromotion("$at.value[$i].product_id must be a product id");
                }
                $amount = isset($row['amount']) ? $row['amount'] : 1;
                if (!self::positiveInt($amount)) {
                    throw new InvalidPromotion("$at.value[$i].amount must be a whole number >= 1");
                }
                $rows[] = ['product_id' => (int) $row['product_id'], 'amount' => (int) $amount];
            }
            $value = $rows;
        } elseif (!is_string($value) && !is_int($value)) {
            throw new InvalidPromotion("$at.value must be text");
        } else {
            $value = (string) $value;
            if (in_array($kind, ['subtotal', 'products_number', 'number_of_usages'], true) && !is_numeric($value)) {
                throw new InvalidPromotion("$at.value must be a number, not '$value'");
            }
            if (in_array($kind, ['categories', 'users', 'usergroup'], true) && !preg_match('/^\d+(,\d+)*$/', $value)) {
                throw new InvalidPromotion("$at.value must be ids separated by commas, not '$value'");
            }
            if ($kind === 'smile_bridge_weekdays') {
                foreach (explode(',', $value) as $day) {
                    if (!in_array($day, self::WEEKDAYS, true)) {
                        throw new InvalidPromotion("$at.value: '$day' is not one of " . implode(',', self::WEEKDAYS));
                    }
                }
            }
        }
        return ['operator' => $item['operator'], 'condition' => $kind, 'value' => $value];
    }

    /**
     * @param mixed $bonuses
     * @return array<int, array<string, mixed>>
     */
    private static function bonuses($bonuses, bool $rewardPoints): array
    {
        if (!is_array($bonuses) || $bonuses === []) {
            throw new InvalidPromotion('bonuses must be a non-empty list');
        }
        $out = [];
        foreach (array_values($bonuses) as $index => $bonus) {
            $at = "bonuses[$index]";
            $kind = is_array($bonus) && isset($bonus['bonus']) ? $bonus['bonus'] : null;
            if (!in_array($kind, self::BONUSES, true)) {
                throw new InvalidPromotion("$at.bonus must be one of " . implode(', ', self::BONUSES));
            }
            $row = ['bonus' => $kind];
            if (in_array($kind, ['order_discount', 'discount_on_products', 'discount_on_categories'], true)) {
                $how = isset($bonus['discount_bonus']) ? $bonus['discount_bonus'] : null;
                if (!in_array($how, self::DISCOUNT_KINDS, true)) {
                    throw new InvalidPromotion("$at.discount_bonus must be one of " . implode(', ', self::DISCOUNT_KINDS));
                }
                $amount = isset($bonus['discount_value']) ? (string) $bonus['discount_value'] : '';
                if (!is_numeric($amount) || (float) $amount < 0
                    || (in_array($how, ['by_percentage', 'to_percentage'], true) && (float) $amount > 100)) {
                    throw new InvalidPromotion("$at.discount_value must be a number (0-100 for a percentage)");
                }
                $row += ['discount_bonus' => $how, 'discount_value' => $amount];
                if ($kind !== 'order_discount') {
                    $ids = isset($bonus['value']) ? (string) $bonus['value'] : '';
                    if (!preg_match('/^\d+(,\d+)*$/', $ids)) {
                        throw new InvalidPromotion("$at.value must be the product or category ids, separated by commas");
                    }
                    $row['value'] = $ids;
                }
            } elseif ($kind === 'free_shipping') {
                $id = isset($bonus['value']) ? $bonus['value'] : null;
                if (!self::positiveInt($id)) {
                    throw new InvalidPromotion("$at.value must be a shipping id");
                }
                $row['value'] = (string) $id;
            } elseif ($kind === 'free_products') {
                $items = isset($bonus['value']) && is_array($bonus['value']) ? $bonus['value'] : [];
                if ($items === []) {
                    throw new InvalidPromotion("$at.value must list {product_id, amount}");
                }
                $row['value'] = [];
                foreach (array_values($items) as $i => $item) {
                    if (!is_array($item) || !self::positiveInt(isset($item['product_id']) ? $item['product_id'] : null)
                        || !self::positiveInt(isset($item['amount']) ? $item['amount'] : 1)) {
                        throw new InvalidPromotion("$at.value[$i] needs product_id and an amount >= 1");
                    }
                    $row['value'][] = ['product_id' => (int) $item['product_id'], 'amount' => (int) (isset($item['amount']) ? $item['amount'] : 1)];
                }
            } else { // give_points
                if (!$rewardPoints) {
                    throw new InvalidPromotion("$at: give_points needs CS-Cart's Reward points add-on, which is not active on this store");
                }
                $points = isset($bonus['value']) ? $bonus['value'] : null;
                if (!self::positiveInt($points)) {
                    throw new InvalidPromotion("$at.value must be a whole number of points >= 1");
                }
                $row['value'] = (string) $points;
            }
            $out[$index + 1] = $row;
        }
        return $out;
    }

    /** @param mixed $value */
    private static function positiveInt($value): bool
    {
        return (is_int($value) && $value >= 1) || (is_string($value) && ctype_digit($value) && (int) $value >= 1);
    }
}
