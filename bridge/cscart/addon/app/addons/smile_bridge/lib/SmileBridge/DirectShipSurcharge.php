<?php

namespace SmileBridge;

/**
 * 直送 (direct shipping to the buyer's customer): who may use it and what it costs.
 *
 * The surcharge is a percentage of the products subtotal (default 10 %, the daemon pushes the rate from
 * rules/), rounded to a unit. It is only offered when every product allows direct shipping and the payment
 * method is one of those allowed for it.
 */
final class DirectShipSurcharge
{
    const PROBLEM_PRODUCTS_NOT_ALLOWED = 'products_not_allowed';
    const PROBLEM_PAYMENT_NOT_ALLOWED = 'payment_not_allowed';
    const PROBLEM_RECIPIENT_MISSING = 'recipient_missing';

    public static function amount(Decimal $subtotal, Decimal $ratePercent, string $rounding, Decimal $unit): Decimal
    {
        if ($subtotal->sign() <= 0 || $ratePercent->sign() <= 0) {
            return Decimal::zero();
        }
        return $subtotal->mul($ratePercent->percent())->roundTo($unit, $rounding);
    }

    /**
     * Reasons the order cannot be shipped direct; an empty list means it can.
     *
     * @param array<int, array{product_id:int, product:string, allowed:bool}> $lines
     * @param int[] $allowedPaymentIds empty = every payment method is allowed
     * @return array<int, array{code:string, items:string[]}>
     */
    public static function problems(array $lines, int $paymentId, array $allowedPaymentIds, string $recipient): array
    {
        $problems = [];
        $refused = [];
        foreach ($lines as $line) {
            if (!$line['allowed']) {
                $refused[] = $line['product'];
            }
        }
        if ($refused) {
            $problems[] = ['code' => self::PROBLEM_PRODUCTS_NOT_ALLOWED, 'items' => array_values(array_unique($refused))];
        }
        if ($allowedPaymentIds && !in_array($paymentId, $allowedPaymentIds, true)) {
            $problems[] = ['code' => self::PROBLEM_PAYMENT_NOT_ALLOWED, 'items' => []];
        }
        if (trim($recipient) === '') {
            $problems[] = ['code' => self::PROBLEM_RECIPIENT_MISSING, 'items' => []];
        }
        return $problems;
    }
}
