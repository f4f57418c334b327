<?php

use PHPUnit\Framework\TestCase;
use SmileBridge\CreditCheck;
use SmileBridge\Decimal;
use SmileBridge\DirectShipSurcharge;

final class CheckoutRulesTest extends TestCase
{
    public function testSurchargeIsTheRateOfTheSubtotalRounded(): void
    {
        $this->assertSame('1234', DirectShipSurcharge::amount(Decimal::of('12345'), Decimal::of('10'), 'down', Decimal::of(1))->toString());
        $this->assertSame('1235', DirectShipSurcharge::amount(Decimal::of('12345'), Decimal::of('10'), 'half_up', Decimal::of(1))->toString());
        $this->assertSame('1300', DirectShipSurcharge::amount(Decimal::of('12345'), Decimal::of('10'), 'up', Decimal::of(100))->toString());
        $this->assertSame('0', DirectShipSurcharge::amount(Decimal::of('12345'), Decimal::of('0'), 'up', Decimal::of(1))->toString());
        $this->assertSame('0', DirectShipSurcharge::amount(Decimal::of('0'), Decimal::of('10'), 'up', Decimal::of(1))->toString());
    }

    public function testDirectShipProblemsNameTheProductsAndPayment(): void
    {
        $lines = [
            ['product_id' => 1, 'product' => 'ボルト M6', 'allowed' => true],
            ['product_id' => 2, 'product' => '大型棚', 'allowed' => false],
        ];
        $problems = DirectShipSurcharge::problems($lines, 9, [3, 4], ' ');
        $this->assertSame([
            ['code' => 'products_not_allowed', 'items' => ['大型棚']],
            ['code' => 'payment_not_allowed', 'items' => []],
            ['code' => 'recipient_missing', 'items' => []],
        ], $problems);
        $this->assertSame([], DirectShipSurcharge::problems([$lines[0]], 3, [3, 4], '山田商店 様'));
        $this->assertSame([], DirectShipSurcharge::problems([$lines[0]], 9, [], '山田商店 様'));
    }

    public function testCreditCheckRefusesOnlyOnAccountOrdersOverTheLimit(): void
    {
        $limit = Decimal::of('500000');
        $exposure = Decimal::of('450000');
        $over = CreditCheck::evaluate(true, 3, [3], $limit, $exposure, Decimal::of('50001'));
        $this->assertFalse($over['allowed']);
        $this->assertSame(['over_limit', '50000'], [$over['reason'], $over['available']->toString()]);

        $exact = CreditCheck::evaluate(true, 3, [3], $limit, $exposure, Decimal::of('50000'));
        $this->assertSame([true, 'within_limit'], [$exact['allowed'], $exact['reason']]);

        $card = CreditCheck::evaluate(true, 5, [3], $limit, $exposure, Decimal::of('999999'));
        $this->assertSame([true, 'not_on_account'], [$card['allowed'], $card['reason']]);

        $off = CreditCheck::evaluate(false, 3, [3], $limit, $exposure, Decimal::of('999999'));
        $this->assertSame([true, 'disabled'], [$off['allowed'], $off['reason']]);

        $none = CreditCheck::evaluate(true, 3, [3], null, $exposure, Decimal::of('999999'));
        $this->assertSame([true, 'no_limit'], [$none['allowed'], $none['reason']]);

        $zero = CreditCheck::evaluate(true, 3, [3], Decimal::of(0), Decimal::of(0), Decimal::of('1'));
        $this->assertFalse($zero['allowed']);
    }

    public function testPaymentIdListParsing(): void
    {
        $this->assertSame([3, 7, 12], CreditCheck::parseIds(' 3, 7,,x, 12 3'));
        $this->assertSame([], CreditCheck::parseIds(''));
    }
}
