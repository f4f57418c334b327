<?php

namespace SmileBridge;

/**
 * 与信 check for 掛売 (on-account) orders: exposure + this order's total must not exceed the credit limit.
 *
 * A customer without a limit (null) is not checked: SMILE's 与信限度額 is optional and the daemon sends null
 * when it is empty. A limit of 0 means no credit at all.
 */
final class CreditCheck
{
    const DISABLED = 'disabled';
    const NOT_ON_ACCOUNT = 'not_on_account';
    const NO_LIMIT = 'no_limit';
    const WITHIN_LIMIT = 'within_limit';
    const OVER_LIMIT = 'over_limit';

    /**
     * @param int[] $onAccountPaymentIds payment methods counted as 掛売
     * @return array{allowed:bool, reason:string, available:?Decimal}
     */
    public static function evaluate(
        bool $enabled,
        int $paymentId,
        array $onAccountPaymentIds,
        $limit,
        Decimal $exposure,
        Decimal $orderTotal
    ): array {
        if (!$enabled) {
            return ['allowed' => true, 'reason' => self::DISABLED, 'available' => null];
        }
        if (!in_array($paymentId, $onAccountPaymentIds, true)) {
            return ['allowed' => true, 'reason' => self::NOT_ON_ACCOUNT, 'available' => null];
        }
        if ($limit === null) {
            return ['allowed' => true, 'reason' => self::NO_LIMIT, 'available' => null];
        }
        $available = $limit->sub($exposure);
        if ($exposure->add($orderTotal)->compare($limit) > 0) {
            return ['allowed' => false, 'reason' => self::OVER_LIMIT, 'available' => $available];
        }
        return ['allowed' => true, 'reason' => self::WITHIN_LIMIT, 'available' => $available];
    }

    /**
     * Parse a comma-separated list of payment ids from a setting ("3, 7") into ints; junk entries are ignored.
     *
     * @return int[]
     */
    public static function parseIds(string $setting): array
    {
        $ids = [];
        foreach (preg_split('/[\s,]+/', $setting, -1, PREG_SPLIT_NO_EMPTY) as $part) {
            if (ctype_digit($part) && (int) $part > 0) {
                $ids[] = (int) $part;
            }
        }
        return array_values(array_unique($ids));
    }
}
