<?php

namespace SmileBridge;

/**
 * お届け希望日 and 時間帯 at checkout, per shipping method (pure: no CS-Cart dependency).
 *
 * The daemon pushes one entry per shipping_id (rules/shipping.yaml: carrier, lead time, cut-off, holidays, the
 * carrier's slot labels), e.g.
 *   {"carrier":"yamato","lead_business_days":1,"transit_days":1,"cutoff":"12:00","range_days":14,
 *    "closed_weekdays":[6,7],"holidays":["2026-12-30"],"slots":["指定なし","午前中","14時～16時"]}
 *
 * The earliest date: the first business day from today (tomorrow once the cut-off has passed) is the first
 * possible ship day; lead_business_days more business days, then transit_days calendar days to the door.
 *
 * Offer and check agree: a choice is checked only against a method that offers one (the checkout shows the fields
 * for it); for a method without settings nothing is offered, so nothing is refused and nothing is kept (applicable()).
 */
final class DeliveryDates
{
    const OK = '';
    const BAD_DATE = 'date_format';
    const TOO_EARLY = 'date_too_early';
    const TOO_LATE = 'date_too_late';
    const UNKNOWN_SLOT = 'slot_unknown';

    /** The first ship day the rules allow for an order placed at $now (business days only). */
    public static function shipDate(array $method, \DateTimeImmutable $now): \DateTimeImmutable
    {
        $day = $now->setTime(0, 0);
        $cutoff = isset($method['cutoff']) ? (string) $method['cutoff'] : '';
        if (preg_match('/^(\d{1,2}):(\d{2})$/', $cutoff, $m) && $now >= $now->setTime((int) $m[1], (int) $m[2])) {
            $day = $day->modify('+1 day');
        }
        while (!self::isBusinessDay($method, $day)) {
            $day = $day->modify('+1 day');
        }
        for ($left = max(0, (int) ($method['lead_business_days'] ?? 0)); $left > 0; $left--) {
            do {
                $day = $day->modify('+1 day');
            } while (!self::isBusinessDay($method, $day));
        }
        return $day;
    }

    public static function earliest(array $method, \DateTimeImmutable $now): \DateTimeImmutable
    {
        $transit = max(0, (int) ($method['transit_days'] ?? 1));
        return self::shipDate($method, $now)->modify('+' . $transit . ' day');
    }

    /**
     * The dates the customer may choose, as YYYY-MM-DD (every calendar day from the earliest: carriers deliver on
     * weekends and holidays, only shipping waits for business days).
     *
     * @return string[]
     */
    public static function dates(array $method, \DateTimeImmutable $now): array
    {
        $first = self::earliest($method, $now);
        $range = max(1, (int) ($method['range_days'] ?? 14));
        $out = [];
        for ($i = 0; $i < $range; $i++) {
            $out[] = $first->modify('+' . $i . ' day')->format('Y-m-d');
        }
        return $out;
    }

    /** @return string[] the carrier's slot labels for this method ("指定なし" first when offered) */
    public static function slots(array $method): array
    {
        return array_values(array_map('strval', isset($method['slots']) && is_array($method['slots']) ? $method['slots'] : []));
    }

    /**
     * The choice that applies to an order shipped by $method, as [date, slot]: none when the method offers no date
     * or time. The checkout shows no fields for such a method, so a choice still in the cart was made for another
     * method (the customer switched) or for a cart whose shipping was recalculated away: the customer can neither see
     * nor change it, so it is dropped, neither refused nor stored on the order.
     *
     * @return array{0: string, 1: string}
     */
    public static function applicable(?array $method, string $date, string $slot): array
    {
        return $method === null ? ['', ''] : [trim($date), trim($slot)];
    }

    /**
     * Check the customer's choice; '' (OK) when the date is empty (no wish) or one of dates(), and the slot is empty
     * or one of slots().
     */
    public static function check(array $method, \DateTimeImmutable $now, string $date, string $slot): string
    {
        $date = trim($date);
        $slot = trim($slot);
        if ($date !== '') {
            $parsed = \DateTimeImmutable::createFromFormat('!Y-m-d', $date, $now->getTimezone());
            if ($parsed === false || $parsed->format('Y-m-d') !== $date) {
                return self::BAD_DATE;
            }
            $choices = self::dates($method, $now);
            if ($date < $choices[0]) {
                return self::TOO_EARLY;
            }
            if ($date > $choices[count($choices) - 1]) {
                return self::TOO_LATE;
            }
        }
        if ($slot !== '' && !in_array($slot, self::slots($method), true)) {
            return self::UNKNOWN_SLOT;
        }
        return self::OK;
    }

    public static function isBusinessDay(array $method, \DateTimeImmutable $day): bool
    {
        $closed = isset($method['closed_weekdays']) && is_array($method['closed_weekdays'])
            ? array_map('intval', $method['closed_weekdays']) : [6, 7];
        if (in_array((int) $day->format('N'), $closed, true)) {
            return false;
        }
        $holidays = isset($method['holidays']) && is_array($method['holidays']) ? $method['holidays'] : [];
        return !in_array($day->format('Y-m-d'), $holidays, true);
    }

    /**
     * The pushed settings (JSON: shipping_id => method) into an array; bad JSON gives [] (no choice offered).
     *
     * @return array<int, array<string, mixed>>
     */
    public static function parseMethods(string $json): array
    {
        $data = json_decode($json, true);
        if (!is_array($data)) {
            return [];
        }
        $out = [];
        foreach ($data as $id => $method) {
            if (is_array($method) && ctype_digit((string) $id)) {
                $out[(int) $id] = $method;
            }
        }
        return $out;
    }
}
