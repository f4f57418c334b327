<?php

namespace SmileBridge;

/** The add-on's promotion condition smile_bridge_weekdays: today's weekday in Japan (mon … sun). */
final class WeekdayCondition
{
    const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

    public static function today(int $now, string $timezone = 'Asia/Tokyo'): string
    {
        $date = (new \DateTimeImmutable('@' . $now))->setTimezone(new \DateTimeZone($timezone));
        return self::DAYS[(int) $date->format('N') - 1];
    }
}
