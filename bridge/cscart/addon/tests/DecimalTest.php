<?php

use PHPUnit\Framework\TestCase;
use SmileBridge\Decimal;

final class DecimalTest extends TestCase
{
    public function testParsesAndPrintsExactly(): void
    {
        $this->assertSame('1234.5', Decimal::of('1234.50')->add(Decimal::of('0.00'))->toString());
        $this->assertSame('0.3', Decimal::of(0.1)->mul(Decimal::of(3))->toString());
        $this->assertSame('-7', Decimal::of(-7)->toString());
        $this->assertSame('0.725', Decimal::of('72.5')->percent()->toString());
    }

    /** @dataProvider roundingCases */
    public function testRoundsToUnitLikeTheDaemon(string $amount, string $unit, string $mode, string $expected): void
    {
        $this->assertSame($expected, Decimal::of($amount)->roundTo(Decimal::of($unit), $mode)->toString());
    }

    public function roundingCases(): array
    {
        return [
            ['894.65', '1', 'down', '894'],
            ['894.65', '1', 'half_up', '895'],
            ['894.5', '1', 'half_up', '895'],
            ['894.49', '1', 'half_up', '894'],
            ['894.01', '1', 'up', '895'],
            ['894', '1', 'up', '894'],
            ['1234', '10', 'down', '1230'],
            ['1235', '10', 'half_up', '1240'],
            ['1231', '10', 'up', '1240'],
            ['12.345', '0.01', 'half_up', '12.35'],
            ['12.344', '0.01', 'up', '12.35'],
            ['12.3', '0.01', 'down', '12.30'],
            ['-2.5', '1', 'half_up', '-3'],
            ['-2.5', '1', 'down', '-2'],
            ['-2.1', '1', 'up', '-3'],
        ];
    }

    /** @dataProvider badNumbers */
    public function testRejectsWhatIsNotAPlainDecimal($value): void
    {
        $this->expectException(InvalidArgumentException::class);
        Decimal::of($value);
    }

    public function badNumbers(): array
    {
        return [['1e5'], ['1,000'], [''], ['abc'], [true], [null], ['1.1234567'], [INF], ['9999999999999999999']];
    }

    public function testRejectsUnknownRoundingAndBadUnit(): void
    {
        $this->expectException(InvalidArgumentException::class);
        Decimal::of('1')->roundTo(Decimal::of('0'), 'down');
    }

    public function testRejectsUnknownMode(): void
    {
        $this->expectException(InvalidArgumentException::class);
        Decimal::of('1')->roundTo(Decimal::of('1'), 'bankers');
    }

    public function testOverflowIsAnErrorNotAFloat(): void
    {
        $this->expectException(OverflowException::class);
        Decimal::of('999999999999.999999')->mul(Decimal::of('999999999999.999999'));
    }
}
