<?php

namespace SmileBridge;

/**
 * Chooses the unit price a logged-in customer pays at checkout.
 *
 * Order of precedence: a customer-specific price row (得意先別単価 / 数量別単価, filled by the daemon), else
 * base × 掛率 rounded as the daemon says (単価処理区分 + 単価処理単位), else the price CS-Cart computed.
 * Guests and customers without data always get CS-Cart's price.
 */
final class PriceSelector
{
    const SOURCE_BASE = 'base';
    const SOURCE_CUSTOMER_PRICE = 'customer_price';
    const SOURCE_RATE = 'rate';

    const RATE_BASE_PRICE = 'price';
    const RATE_BASE_LIST_PRICE = 'list_price';

    /**
     * @param int $userId 0 for a guest
     * @param Decimal $price the price CS-Cart computed for this line (base, usergroup or quantity tier)
     * @param Decimal|null $listPrice the product's list price (上代), used when the customer's 掛率 base is list_price
     * @param int $quantity the line quantity
     * @param array<int, array{min_quantity:int, price:Decimal, valid_from:?string, valid_to:?string}> $customerRows
     * @param array{rate:?Decimal, rounding:string, unit:Decimal, base:string}|null $rateProfile
     * @param string $today business date, Y-m-d (JST)
     * @return array{price:Decimal, source:string}
     */
    public static function select(
        int $userId,
        Decimal $price,
        $listPrice,
        int $quantity,
        array $customerRows,
        $rateProfile,
        string $today
    ): array {
        if ($userId <= 0) {
            return ['price' => $price, 'source' => self::SOURCE_BASE];
        }
        $row = self::bestCustomerRow($customerRows, $quantity, $today);
        if ($row !== null) {
            return ['price' => $row['price'], 'source' => self::SOURCE_CUSTOMER_PRICE];
        }
        if ($rateProfile !== null && $rateProfile['rate'] !== null && $rateProfile['rate']->sign() > 0) {
            $base = $price;
            if ($rateProfile['base'] === self::RATE_BASE_LIST_PRICE && $listPrice !== null && $listPrice->sign() > 0) {
                $base = $listPrice;
            }
            $rated = $base->mul($rateProfile['rate']->percent())->roundTo($rateProfile['unit'], $rateProfile['rounding']);
            return ['price' => $rated, 'source' => self::SOURCE_RATE];
        }
        return ['price' => $price, 'source' => self::SOURCE_BASE];
    }

    /**
     * The row with the highest min_quantity not above $quantity that is valid on $today; on a tie the one whose
     * validity started last (a newer price replaces an open-ended older one).
     *
     * @param array<int, array{min_quantity:int, price:Decimal, valid_from:?string, valid_to:?string}> $rows
     * @return array{min_quantity:int, price:Decimal, valid_from:?string, valid_to:?string}|null
     */
    public static function bestCustomerRow(array $rows, int $quantity, string $today)
    {
        $best = null;
        foreach ($rows as $row) {
            if ($row['min_quantity'] > $quantity) {
                continue;
            }
            if (!empty($row['valid_from']) && $today < $row['valid_from']) {
                continue;
            }
            if (!empty($row['valid_to']) && $today > $row['valid_to']) {
                continue;
            }
            if ($best === null
                || $row['min_quantity'] > $best['min_quantity']
                || ($row['min_quantity'] === $best['min_quantity']
                    && (string) $row['valid_from'] > (string) $best['valid_from'])
            ) {
                $best = $row;
            }
        }
        return $best;
    }

    /**
     * Build a rate profile from the user's stored columns; null when the customer has no usable 掛率.
     *
     * @param array<string, mixed> $user row with smile_price_rate, smile_price_rounding, smile_price_unit, smile_price_rate_base
     * @return array{rate:?Decimal, rounding:string, unit:Decimal, base:string}|null
     */
    public static function rateProfile(array $user)
    {
        $rate = isset($user['smile_price_rate']) && $user['smile_price_rate'] !== '' ? Decimal::of($user['smile_price_rate']) : null;
        if ($rate === null || $rate->sign() <= 0) {
            return null;
        }
        $rounding = isset($user['smile_price_rounding']) && Rounding::isValid($user['smile_price_rounding'])
            ? $user['smile_price_rounding'] : Rounding::DOWN;
        $unit = isset($user['smile_price_unit']) && $user['smile_price_unit'] !== '' ? Decimal::of($user['smile_price_unit']) : Decimal::of(1);
        if ($unit->sign() <= 0) {
            $unit = Decimal::of(1);
        }
        $base = isset($user['smile_price_rate_base']) && $user['smile_price_rate_base'] === self::RATE_BASE_LIST_PRICE
            ? self::RATE_BASE_LIST_PRICE : self::RATE_BASE_PRICE;
        return ['rate' => $rate, 'rounding' => $rounding, 'unit' => $unit, 'base' => $base];
    }
}
