<?php

namespace SmileBridge;

/**
 * An exact decimal number held as an integer count of 10^-scale units.
 *
 * Money and rates must not pass through floats (1.1 * 3 is not 3.3), and bcmath is not guaranteed on every host,
 * so the few operations pricing needs are done on 64-bit integers with an overflow check.
 */
final class Decimal
{
    const MAX_SCALE = 6;

    /** @var int */
    private $units;
    /** @var int */
    private $scale;

    private function __construct(int $units, int $scale)
    {
        $this->units = $units;
        $this->scale = $scale;
    }

    /**
     * Parse an int, a float or a plain decimal string ("1234", "-3.50", "0.7"); no exponents, no separators.
     *
     * @param mixed $value
     * @throws \InvalidArgumentException naming the value
     */
    public static function of($value): self
    {
        if ($value instanceof self) {
            return $value;
        }
        if (is_int($value)) {
            return new self($value, 0);
        }
        if (is_float($value)) {
            if (!is_finite($value)) {
                throw new \InvalidArgumentException('not a finite number');
            }
            // PHP >= 7.1 prints the shortest string that round-trips, so 0.1 becomes "0.1", not 0.1000000000000000055.
            $value = var_export($value, true);
        }
        if (!is_string($value)) {
            throw new \InvalidArgumentException('not a number: ' . gettype($value));
        }
        $text = trim($value);
        if (!preg_match('/^([+-]?)(\d+)(?:\.(\d*))?$/', $text, $m)) {
            throw new \InvalidArgumentException('not a decimal number: "' . $value . '"');
        }
        $fraction = isset($m[3]) ? rtrim($m[3], '0') : '';
        if (strlen($fraction) > self::MAX_SCALE) {
            throw new \InvalidArgumentException('more than ' . self::MAX_SCALE . ' decimal places: "' . $value . '"');
        }
        $digits = ltrim($m[2] . $fraction, '0');
        if (strlen($digits) > 18) {
            throw new \InvalidArgumentException('number too large: "' . $value . '"');
        }
        $units = (int) ($digits === '' ? '0' : $digits);
        return new self($m[1] === '-' ? -$units : $units, strlen($fraction));
    }

    public static function zero(): self
    {
        return new self(0, 0);
    }

    public function sign(): int
    {
        return $this->units <=> 0;
    }

    public function scale(): int
    {
        return $this->scale;
    }

    public function add(self $other): self
    {
        $scale = max($this->scale, $other->scale);
        return new self(self::checked(self::rescale($this, $scale) + self::rescale($other, $scale)), $scale);
    }

    public function sub(self $other): self
    {
        return $this->add(new self(-$other->units, $other->scale));
    }

    public function mul(self $other): self
    {
        $scale = $this->scale + $other->scale;
        $units = self::checked($this->units * $other->units);
        return self::normalised($units, $scale);
    }

    /** This value divided by 100, exactly (a percentage as a factor). */
    public function percent(): self
    {
        return self::normalised($this->units, $this->scale + 2);
    }

    public function compare(self $other): int
    {
        $scale = max($this->scale, $other->scale);
        return self::rescale($this, $scale) <=> self::rescale($other, $scale);
    }

    /**
     * Round to a multiple of $unit (単価処理単位: 1, 10, 0.01 …) with a Rounding mode.
     * The result keeps the unit's decimal places when the unit is below 1, and none otherwise.
     */
    public function roundTo(self $unit, string $mode): self
    {
        if ($unit->sign() <= 0) {
            throw new \InvalidArgumentException('rounding unit must be positive, got ' . $unit->toString());
        }
        Rounding::assertValid($mode);
        $scale = max($this->scale, $unit->scale);
        $amount = self::rescale($this, $scale);
        $step = self::rescale($unit, $scale);
        $quotient = intdiv($amount, $step);
        $remainder = $amount % $step;
        if ($remainder !== 0) {
            $away = $mode === Rounding::UP
                || ($mode === Rounding::HALF_UP && 2 * abs($remainder) >= $step);
            if ($away) {
                $quotient += $amount < 0 ? -1 : 1;
            }
        }
        $result = new self(self::checked($quotient * $step), $scale);
        $keep = $unit->compare(new self(1, 0)) < 0 ? $unit->scale : 0;
        return $result->withScale($keep);
    }

    /** Plain decimal text with exactly scale() places, e.g. "1234", "-0.50". */
    public function toString(): string
    {
        $digits = (string) abs($this->units);
        if ($this->scale > 0) {
            $digits = str_pad($digits, $this->scale + 1, '0', STR_PAD_LEFT);
            $digits = substr($digits, 0, -$this->scale) . '.' . substr($digits, -$this->scale);
        }
        return ($this->units < 0 ? '-' : '') . $digits;
    }

    public function __toString(): string
    {
        return $this->toString();
    }

    private function withScale(int $scale): self
    {
        if ($scale >= $this->scale) {
            return new self(self::rescale($this, $scale), $scale);
        }
        // Only called after rounding to a unit, so the dropped digits are zeros.
        return new self(intdiv($this->units, 10 ** ($this->scale - $scale)), $scale);
    }

    private static function normalised(int $units, int $scale): self
    {
        while ($scale > 0 && $units % 10 === 0) {
            $units = intdiv($units, 10);
            $scale--;
        }
        if ($scale > 2 * self::MAX_SCALE + 2) {
            throw new \InvalidArgumentException('too many decimal places');
        }
        return new self($units, $scale);
    }

    private static function rescale(self $value, int $scale): int
    {
        return self::checked($value->units * (10 ** ($scale - $value->scale)));
    }

    /** @param int|float $value */
    private static function checked($value): int
    {
        if (!is_int($value)) {
            throw new \OverflowException('decimal arithmetic overflow');
        }
        return $value;
    }
}
