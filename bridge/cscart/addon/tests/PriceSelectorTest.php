<?php

use PHPUnit\Framework\TestCase;
use SmileBridge\Decimal;
use SmileBridge\PriceSelector;

final class PriceSelectorTest extends TestCase
{
    private function row(int $min, string $price, string $from = '', string $to = ''): array
    {
        return ['min_quantity' => $min, 'price' => Decimal::of($price), 'valid_from' => $from, 'valid_to' => $to];
    }

    private function profile(string $rate, string $rounding = 'down', string $unit = '1', string $base = 'price'): array
    {
        return PriceSelector::rateProfile([
            'smile_price_rate' => $rate, 'smile_price_rounding' => $rounding,
            'smile_price_unit' => $unit, 'smile_price_rate_base' => $base,
        ]);
    }

    public function testGuestGetsTheNormalPriceEvenWithData(): void
    {
        $choice = PriceSelector::select(0, Decimal::of('1000'), null, 1, [$this->row(1, '500')], $this->profile('70'), '2026-04-01');
        $this->assertSame(['1000', 'base'], [$choice['price']->toString(), $choice['source']]);
    }

    public function testCustomerPriceBeatsTheRate(): void
    {
        $choice = PriceSelector::select(4, Decimal::of('1000'), null, 1, [$this->row(1, '650')], $this->profile('70'), '2026-04-01');
        $this->assertSame(['650', 'customer_price'], [$choice['price']->toString(), $choice['source']]);
    }

    public function testQuantityRowsAndValidityChooseTheRow(): void
    {
        $rows = [
            $this->row(1, '650'),
            $this->row(10, '600'),
            $this->row(10, '580', '2026-04-01'),
            $this->row(50, '500', '', '2026-03-31'),
        ];
        $this->assertSame('650', PriceSelector::bestCustomerRow($rows, 9, '2026-04-01')['price']->toString());
        $this->assertSame('580', PriceSelector::bestCustomerRow($rows, 60, '2026-04-01')['price']->toString());
        $this->assertSame('500', PriceSelector::bestCustomerRow($rows, 60, '2026-03-31')['price']->toString());
        $this->assertSame('600', PriceSelector::bestCustomerRow($rows, 10, '2026-03-01')['price']->toString());
        $this->assertNull(PriceSelector::bestCustomerRow([$this->row(1, '1', '2027-01-01')], 1, '2026-04-01'));
    }

    public function testRateWithTheCustomersRounding(): void
    {
        $price = Decimal::of('1234');
        $down = PriceSelector::select(4, $price, null, 1, [], $this->profile('72.5', 'down'), '2026-04-01');
        $half = PriceSelector::select(4, $price, null, 1, [], $this->profile('72.5', 'half_up'), '2026-04-01');
        $ten = PriceSelector::select(4, $price, null, 1, [], $this->profile('72.5', 'up', '10'), '2026-04-01');
        $cents = PriceSelector::select(4, $price, null, 1, [], $this->profile('72.5', 'down', '0.01'), '2026-04-01');
        $this->assertSame(['894', '895', '900', '894.65'], [
            $down['price']->toString(), $half['price']->toString(), $ten['price']->toString(), $cents['price']->toString(),
        ]);
        $this->assertSame('rate', $down['source']);
    }

    public function testRateOnListPriceWhenTheCustomerSaysSo(): void
    {
        $choice = PriceSelector::select(4, Decimal::of('800'), Decimal::of('1000'), 1, [], $this->profile('70', 'down', '1', 'list_price'), '2026-04-01');
        $this->assertSame('700', $choice['price']->toString());
    }

    public function testCustomerWithoutDataSeesTheNormalPrice(): void
    {
        $this->assertNull(PriceSelector::rateProfile(['smile_price_rate' => null]));
        $this->assertNull(PriceSelector::rateProfile(['smile_price_rate' => '0']));
        $this->assertNull(PriceSelector::rateProfile([]));
        $choice = PriceSelector::select(4, Decimal::of('1000'), null, 3, [], null, '2026-04-01');
        $this->assertSame(['1000', 'base'], [$choice['price']->toString(), $choice['source']]);
    }

    public function testBrokenStoredRoundingFallsBackToDown(): void
    {
        $profile = PriceSelector::rateProfile(['smile_price_rate' => '50', 'smile_price_rounding' => 'weird', 'smile_price_unit' => '0']);
        $this->assertSame(['down', '1'], [$profile['rounding'], $profile['unit']->toString()]);
    }
}
