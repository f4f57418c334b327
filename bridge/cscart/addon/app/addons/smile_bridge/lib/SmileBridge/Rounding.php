<?php

namespace SmileBridge;

/**
 * SMILE's 単価処理区分 / 金額処理区分, with the daemon's spelling (bridge.domain.money.Rounding):
 * down = 切捨て (toward zero), half_up = 四捨五入 (half away from zero), up = 切上げ (away from zero).
 */
final class Rounding
{
    const DOWN = 'down';
    const HALF_UP = 'half_up';
    const UP = 'up';

    /** @return string[] */
    public static function all(): array
    {
        return [self::DOWN, self::HALF_UP, self::UP];
    }

    public static function isValid($mode): bool
    {
        return is_string($mode) && in_array($mode, self::all(), true);
    }

    public static function assertValid($mode): void
    {
        if (!self::isValid($mode)) {
            throw new \InvalidArgumentException(
                'unknown rounding mode ' . var_export($mode, true) . '; use one of ' . implode(', ', self::all())
            );
        }
    }
}
