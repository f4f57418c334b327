<?php

use PHPUnit\Framework\TestCase;
use SmileBridge\BatchRejected;
use SmileBridge\BatchResult;
use SmileBridge\BatchValidator;
use SmileBridge\InvalidBatchItem;

final class BatchValidatorTest extends TestCase
{
    private function invalid(array $item): string
    {
        try {
            BatchValidator::item(3, $item);
        } catch (InvalidBatchItem $exc) {
            return $exc->getMessage();
        }
        $this->fail('item accepted: ' . json_encode($item));
    }

    public function testEnvelopeLimits(): void
    {
        $this->assertCount(500, BatchValidator::items(['items' => array_fill(0, 500, [])]));
        foreach ([null, [], ['items' => []], ['items' => 'x'], ['items' => ['a' => 1]], ['items' => array_fill(0, 501, [])]] as $body) {
            try {
                BatchValidator::items($body);
                $this->fail('accepted ' . json_encode($body));
            } catch (BatchRejected $exc) {
                $this->assertNotSame('', $exc->getMessage());
            }
        }
    }

    public function testStockItem(): void
    {
        $this->assertSame(
            ['kind' => 'stock', 'id' => 'sku-1', 'product_id' => 12, 'amount' => 5],
            BatchValidator::item(0, ['kind' => 'stock', 'id' => 'sku-1', 'product_id' => '12', 'amount' => 5])
        );
        $this->assertStringContainsString('items[3].amount', $this->invalid(['kind' => 'stock', 'product_id' => 1, 'amount' => 1.5]));
        $this->assertStringContainsString('items[3].product_id: missing', $this->invalid(['kind' => 'stock', 'amount' => 1]));
        $this->assertStringContainsString('outside', $this->invalid(['kind' => 'stock', 'product_id' => 1, 'amount' => 9999999]));
        $this->assertStringContainsString('items[3].kind', $this->invalid(['kind' => 'stocks']));
    }

    public function testPricesNeedTheBaseRowFirstAndUniqueTiers(): void
    {
        $item = ['kind' => 'prices', 'product_id' => 12, 'price' => '1000', 'prices' => [
            ['lower_limit' => 1, 'usergroup_id' => 0, 'price' => 1000],
            ['lower_limit' => 10, 'usergroup_id' => 0, 'price' => '900.50'],
            ['lower_limit' => 1, 'usergroup_id' => 3, 'price' => 5, 'type' => 'P'],
        ]];
        $normal = BatchValidator::item(0, $item);
        $this->assertSame('1000', $normal['price']);
        $this->assertSame(['1000', '900.5', '5'], array_column($normal['prices'], 'price'));
        $this->assertSame(['A', 'A', 'P'], array_column($normal['prices'], 'type'));

        $swapped = $item;
        $swapped['prices'] = [$item['prices'][1], $item['prices'][0]];
        $this->assertStringContainsString('items[3].prices[0]: the first row must be the base row', $this->invalid($swapped));

        $dup = $item;
        $dup['prices'][] = ['lower_limit' => 10, 'usergroup_id' => 0, 'price' => 1];
        $this->assertStringContainsString('items[3].prices[3]: duplicate tier', $this->invalid($dup));

        $mismatch = $item;
        $mismatch['price'] = 999;
        $this->assertStringContainsString('items[3].price: 999 differs', $this->invalid($mismatch));

        $percent = $item;
        $percent['prices'][2]['price'] = 120;
        $this->assertStringContainsString('between 0 and 100', $this->invalid($percent));

        $negative = $item;
        $negative['prices'][1]['price'] = -1;
        $this->assertStringContainsString('items[3].prices[1].price: must not be negative', $this->invalid($negative));
    }

    public function testPricesMustFitCsCartsDecimalColumn(): void
    {
        $this->assertStringContainsString('items[3].rows[0].price: 650.125 does not fit', $this->invalid(['kind' => 'customer_price',
            'user_id' => 4, 'product_id' => 1, 'rows' => [['price' => '650.125']]]));
        $this->assertStringContainsString('items[3].prices[0].price: 10000000000 does not fit', $this->invalid(['kind' => 'prices',
            'product_id' => 1, 'prices' => [['lower_limit' => 1, 'usergroup_id' => 0, 'price' => '10000000000']]]));
    }

    public function testCustomerPriceRows(): void
    {
        $normal = BatchValidator::item(0, ['kind' => 'customer_price', 'user_id' => 4, 'product_id' => 12, 'rows' => [
            ['price' => 650],
            ['min_quantity' => 10, 'price' => '600', 'valid_from' => '2026-04-01', 'valid_to' => null],
        ]]);
        $this->assertSame([
            ['min_quantity' => 1, 'price' => '650', 'valid_from' => '', 'valid_to' => ''],
            ['min_quantity' => 10, 'price' => '600', 'valid_from' => '2026-04-01', 'valid_to' => ''],
        ], $normal['rows']);
        $this->assertSame([], BatchValidator::item(0, ['kind' => 'customer_price', 'user_id' => 4, 'product_id' => 12, 'rows' => []])['rows']);
        $this->assertStringContainsString('valid_from', $this->invalid(['kind' => 'customer_price', 'user_id' => 4, 'product_id' => 1,
            'rows' => [['price' => 1, 'valid_from' => '2026-02-30']]]));
        $this->assertStringContainsString('is after valid_to', $this->invalid(['kind' => 'customer_price', 'user_id' => 4, 'product_id' => 1,
            'rows' => [['price' => 1, 'valid_from' => '2026-05-01', 'valid_to' => '2026-04-01']]]));
        $this->assertStringContainsString('duplicate row', $this->invalid(['kind' => 'customer_price', 'user_id' => 4, 'product_id' => 1,
            'rows' => [['price' => 1], ['price' => 2, 'min_quantity' => 1]]]));
    }

    public function testUserFieldsOnlyTheAddonColumns(): void
    {
        $normal = BatchValidator::item(0, ['kind' => 'user_fields', 'user_id' => 4, 'fields' => [
            'smile_customer_code' => '000123', 'smile_price_rate' => 72.5, 'smile_price_rounding' => 'half_up',
            'smile_price_unit' => '0.01', 'smile_credit_limit' => null, 'smile_credit_exposure' => '120000',
            'smile_price_rate_base' => 'list_price',
        ]]);
        $this->assertSame([
            'smile_customer_code' => '000123', 'smile_price_rate' => '72.5', 'smile_price_rounding' => 'half_up',
            'smile_price_unit' => '0.01', 'smile_credit_limit' => null, 'smile_credit_exposure' => '120000',
            'smile_price_rate_base' => 'list_price',
        ], $normal['fields']);
        $this->assertStringContainsString('items[3].fields.email: unknown field', $this->invalid(['kind' => 'user_fields', 'user_id' => 4, 'fields' => ['email' => 'x']]));
        $this->assertStringContainsString('items[3].fields.smile_price_rounding', $this->invalid(['kind' => 'user_fields', 'user_id' => 4, 'fields' => ['smile_price_rounding' => 'floor']]));
        $this->assertStringContainsString('items[3].fields.smile_price_unit', $this->invalid(['kind' => 'user_fields', 'user_id' => 4, 'fields' => ['smile_price_unit' => 0]]));
        $this->assertStringContainsString('items[3].fields.smile_customer_code', $this->invalid(['kind' => 'user_fields', 'user_id' => 4, 'fields' => ['smile_customer_code' => "𠮷"]]));
        $this->assertStringContainsString('items[3].fields.smile_credit_limit', $this->invalid(['kind' => 'user_fields', 'user_id' => 4, 'fields' => ['smile_credit_limit' => -5]]));
        $this->assertStringContainsString('items[3].fields: must be a non-empty', $this->invalid(['kind' => 'user_fields', 'user_id' => 4, 'fields' => []]));
    }

    public function testProductAndOrderFieldsWriteOnlyTheAddonColumns(): void
    {
        $this->assertSame(['kind' => 'product_fields', 'id' => null, 'product_id' => 12, 'fields' => ['smile_direct_ship_allowed' => 'Y']],
            BatchValidator::item(0, ['kind' => 'product_fields', 'product_id' => 12, 'fields' => ['smile_direct_ship_allowed' => true]]));
        $order = BatchValidator::item(0, ['kind' => 'order_fields', 'order_id' => 96, 'fields' => [
            'smile_ship_to_code' => '0012', 'smile_direct_ship' => 'N', 'smile_direct_ship_recipient' => ' 山田商店 様 ']]);
        $this->assertSame(['smile_ship_to_code' => '0012', 'smile_direct_ship' => 'N', 'smile_direct_ship_recipient' => '山田商店 様'], $order['fields']);
        $this->assertStringContainsString('items[3].fields.smile_direct_ship_allowed', $this->invalid(['kind' => 'product_fields', 'product_id' => 1, 'fields' => ['smile_direct_ship_allowed' => 'yes']]));
        $this->assertStringContainsString('outside the BMP', $this->invalid(['kind' => 'order_fields', 'order_id' => 1, 'fields' => ['smile_direct_ship_recipient' => '𠮷田']]));
        $this->assertStringContainsString('items[3].fields.status: unknown field', $this->invalid(['kind' => 'order_fields', 'order_id' => 1, 'fields' => ['status' => 'C']]));
        $this->assertStringContainsString('items[3].order_id: missing', $this->invalid(['kind' => 'order_fields', 'fields' => ['smile_direct_ship' => 'Y']]));
    }

    public function testSettingsItem(): void
    {
        $this->assertSame(['direct_ship_rate' => '12.5', 'direct_ship_rounding' => 'up'],
            BatchValidator::item(0, ['kind' => 'settings', 'values' => ['direct_ship_rate' => '12.5', 'direct_ship_rounding' => 'up']])['values']);
        $this->assertStringContainsString('items[3].values.hmac_secret: unknown field', $this->invalid(['kind' => 'settings', 'values' => ['hmac_secret' => 'x']]));
    }

    public function testClientIdIsEchoedOnlyWhenUsable(): void
    {
        $this->assertSame(7, BatchValidator::clientId(['id' => 7]));
        $this->assertNull(BatchValidator::clientId(['id' => str_repeat('x', 65)]));
        $this->assertStringContainsString('items[3].id', $this->invalid(['kind' => 'stock', 'id' => ['x'], 'product_id' => 1, 'amount' => 1]));
    }

    public function testResponseCountsEveryCode(): void
    {
        $response = BatchResult::response([
            BatchResult::make(0, 'a', BatchResult::OK),
            BatchResult::make(1, null, BatchResult::INVALID, 'items[1].kind: …'),
            BatchResult::make(2, 'c', BatchResult::NOT_FOUND, 'product 9 not found'),
        ]);
        $this->assertSame(['ok' => 1, 'invalid' => 1, 'not_found' => 1, 'failed' => 0], $response['counts']);
        $this->assertSame([0, 1, 2], array_column($response['results'], 'index'));
    }
}
