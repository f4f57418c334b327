<?php

use PHPUnit\Framework\TestCase;
use SmileBridge\DeliveryDates;

final class DeliveryDatesTest extends TestCase
{
    private function method(array $extra = []): array
    {
        return $extra + [
            'carrier' => 'yamato', 'lead_business_days' => 1, 'transit_days' => 1, 'cutoff' => '12:00',
            'range_days' => 7, 'closed_weekdays' => [6, 7], 'holidays' => ['2026-12-07'],
            'slots' => ['指定なし', '午前中', '14時～16時', '16時～18時'],
        ];
    }

    private function tokyo(string $when): \DateTimeImmutable
    {
        return new \DateTimeImmutable($when, new \DateTimeZone('Asia/Tokyo'));
    }

    public function testBeforeTheCutOffTodayCountsAsTheFirstBusinessDay(): void
    {
        // Thu 2026-12-03 10:00: ship day Thu + 1 business day = Fri 12-04; +1 day transit → Sat 12-05
        $this->assertSame('2026-12-05', DeliveryDates::earliest($this->method(), $this->tokyo('2026-12-03 10:00'))->format('Y-m-d'));
    }

    public function testAfterTheCutOffTheWeekendAndAHolidayPushTheDateBack(): void
    {
        // Fri 2026-12-04 13:00: after 12:00 → from Sat; Sat/Sun closed → Mon 12-07 is a holiday → Tue 12-08;
        // one more business day → Wed 12-09; +1 → Thu 12-10
        $this->assertSame('2026-12-10', DeliveryDates::earliest($this->method(), $this->tokyo('2026-12-04 13:00'))->format('Y-m-d'));
    }

    public function testTheChoicesAreConsecutiveCalendarDaysFromTheEarliest(): void
    {
        $dates = DeliveryDates::dates($this->method(), $this->tokyo('2026-12-03 10:00'));
        $this->assertSame(['2026-12-05', '2026-12-06', '2026-12-07', '2026-12-08', '2026-12-09', '2026-12-10', '2026-12-11'], $dates);
    }

    public function testACheckNamesWhatIsWrong(): void
    {
        $now = $this->tokyo('2026-12-03 10:00');
        $m = $this->method();
        $this->assertSame(DeliveryDates::OK, DeliveryDates::check($m, $now, '', ''));
        $this->assertSame(DeliveryDates::OK, DeliveryDates::check($m, $now, '2026-12-05', '14時～16時'));
        $this->assertSame(DeliveryDates::TOO_EARLY, DeliveryDates::check($m, $now, '2026-12-04', ''));
        $this->assertSame(DeliveryDates::TOO_LATE, DeliveryDates::check($m, $now, '2026-12-12', ''));
        $this->assertSame(DeliveryDates::BAD_DATE, DeliveryDates::check($m, $now, '2026-02-30', ''));
        $this->assertSame(DeliveryDates::BAD_DATE, DeliveryDates::check($m, $now, '12/05', ''));
        $this->assertSame(DeliveryDates::UNKNOWN_SLOT, DeliveryDates::check($m, $now, '', '12時～14時'));
    }

    public function testPushedMethodsParseAndBadJsonOffersNothing(): void
    {
        $this->assertSame([1 => ['carrier' => 'sagawa']], DeliveryDates::parseMethods('{"1":{"carrier":"sagawa"},"x":{}}'));
        $this->assertSame([], DeliveryDates::parseMethods('not json'));
        $this->assertSame(['指定なし', '午前中'], DeliveryDates::slots(['slots' => ['指定なし', '午前中']]));
    }

    public function testEveryOfferedChoicePassesAndAMethodOfferingNothingKeepsNoChoice(): void
    {
        $now = $this->tokyo('2026-12-03 10:00');
        $method = $this->method();
        foreach (array_merge([''], DeliveryDates::dates($method, $now)) as $date) {
            foreach (DeliveryDates::slots($method) as $slot) {
                [$kept_date, $kept_slot] = DeliveryDates::applicable($method, $date, $slot);
                $this->assertSame([$date, $slot], [$kept_date, $kept_slot]);
                $this->assertSame(DeliveryDates::OK, DeliveryDates::check($method, $now, $kept_date, $kept_slot), "$date $slot");
            }
        }
        // nothing offered (no settings for the cart's method): whatever the cart still holds is dropped, not refused
        foreach ([['2026-12-05', '午前中'], ['', '指定なし'], ['2000-01-01', 'x']] as [$date, $slot]) {
            $this->assertSame(['', ''], DeliveryDates::applicable(null, $date, $slot));
        }
        $this->assertSame(['2026-12-05', '午前中'], DeliveryDates::applicable($method, ' 2026-12-05 ', '午前中 '));
    }
}
