<?php

use PHPUnit\Framework\TestCase;
use SmileBridge\InvalidPromotion;
use SmileBridge\PromotionAmounts;
use SmileBridge\PromotionBuilder;
use SmileBridge\PromotionFingerprint;
use SmileBridge\PromotionService;
use SmileBridge\PromotionStore;
use SmileBridge\WeekdayCondition;

/** In-memory PromotionStore: cscart_promotions rows as fn_update_promotion() leaves them (serialized trees). */
final class MemoryPromotionStore implements PromotionStore
{
    /** @var array<int, array<string, mixed>> */
    public $rows = [];
    /** @var array<string, array{promotion_id:int, fingerprint:string}> */
    public $links = [];
    /** @var bool */
    public $points = false;
    /** @var int */
    public $writes = 0;
    /** @var bool */
    public $locked = false;
    /** @var bool another request holds the lock */
    public $busy = false;
    /** @var list<string> */
    public $calls = [];

    public function lock(): bool
    {
        $this->calls[] = 'lock';
        if ($this->busy) {
            return false;
        }
        $this->locked = true;
        return true;
    }

    public function unlock(): void
    {
        $this->calls[] = 'unlock';
        $this->locked = false;
    }

    public function managed(): array
    {
        $this->calls[] = 'managed' . ($this->locked ? '' : ' (unlocked)');
        return $this->links;
    }

    public function promotion(int $promotionId)
    {
        return isset($this->rows[$promotionId]) ? $this->rows[$promotionId] : null;
    }

    public function write(array $data, int $promotionId): int
    {
        $this->writes++;
        $this->calls[] = 'write' . ($this->locked ? '' : ' (unlocked)');
        if (!$promotionId) {
            $promotionId = $this->rows ? max(array_keys($this->rows)) + 1 : 1;
            $this->rows[$promotionId] = ['promotion_id' => $promotionId, 'number_of_usages' => 0];
        }
        foreach ($data as $key => $value) {
            $this->rows[$promotionId][$key] = is_array($value) ? serialize($value) : $value;
        }
        return $promotionId;
    }

    public function remember(string $campaignId, int $promotionId, string $fingerprint): void
    {
        $this->calls[] = 'remember' . ($this->locked ? '' : ' (unlocked)');
        $this->links[$campaignId] = ['promotion_id' => $promotionId, 'fingerprint' => $fingerprint];
    }

    public function rewardPoints(): bool
    {
        return $this->points;
    }
}

final class PromotionsTest extends TestCase
{
    /** @return array<string, mixed> what bridge/sync/campaigns/mapper.py sends */
    private function body(array $overrides = []): array
    {
        return $overrides + [
            'name' => '春のまとめ買い', 'status' => 'A', 'from_date' => '2027-03-01', 'to_date' => '2027-03-31',
            'priority' => 10, 'stop_other_rules' => 'N', 'zone' => 'cart',
            'conditions' => ['set' => 'all', 'set_value' => 1, 'conditions' => [
                ['condition' => 'categories', 'operator' => 'in', 'value' => '12,13'],
                ['condition' => 'subtotal', 'operator' => 'gte', 'value' => '30000'],
                ['set' => 'any', 'set_value' => 1, 'conditions' => [
                    ['condition' => 'products', 'operator' => 'in', 'value' => [['product_id' => 101, 'amount' => 1]]],
                    ['condition' => 'usergroup', 'operator' => 'eq', 'value' => '3'],
                ]],
                ['condition' => 'smile_bridge_weekdays', 'operator' => 'in', 'value' => 'sat,sun'],
            ]],
            'bonuses' => [
                ['bonus' => 'discount_on_categories', 'value' => '12,13', 'discount_bonus' => 'by_percentage', 'discount_value' => '5'],
                ['bonus' => 'free_shipping', 'value' => '1'],
                ['bonus' => 'free_products', 'value' => [['product_id' => 900, 'amount' => 2]]],
            ],
        ];
    }

    public function testBuildRenumbersFromOneAndTurnsJstDaysIntoTimestamps(): void
    {
        $data = PromotionBuilder::build($this->body(), true, false);
        $this->assertSame(1803826800, $data['from_date']);  // 2027-03-01 00:00:00 JST = 2027-02-28 15:00 UTC
        $this->assertSame(1806505199, $data['to_date']);    // 2027-03-31 23:59:59 JST
        $this->assertSame([1, 2, 3, 4], array_keys($data['conditions']['conditions']));
        $this->assertSame([1, 2], array_keys($data['conditions']['conditions'][3]['conditions']));
        $this->assertSame([1, 2, 3], array_keys($data['bonuses']));
        $this->assertSame(['bonus' => 'free_shipping', 'value' => '1'], $data['bonuses'][2]);
        $this->assertSame(['operator' => 'gte', 'condition' => 'subtotal', 'value' => '30000'], $data['conditions']['conditions'][2]);
        $this->assertSame(['A', 'cart', 10, 'N'], [$data['status'], $data['zone'], $data['priority'], $data['stop_other_rules']]);
    }

    /** @return array<string, array{0: array<string, mixed>, 1: string}> */
    public function refusals(): array
    {
        return [
            'unknown condition' => [['conditions' => ['set' => 'all', 'conditions' => [['condition' => 'zodiac', 'operator' => 'eq', 'value' => 'x']]]], "conditions.conditions[0]: unknown condition 'zodiac'"],
            'bad operator' => [['conditions' => ['set' => 'all', 'conditions' => [['condition' => 'users', 'operator' => 'gte', 'value' => '3']]]], 'condition users takes operator in|nin'],
            'bad weekday' => [['conditions' => ['set' => 'all', 'conditions' => [['condition' => 'smile_bridge_weekdays', 'operator' => 'in', 'value' => 'sat,holiday']]]], "'holiday' is not one of"],
            'percent over 100' => [['bonuses' => [['bonus' => 'order_discount', 'discount_bonus' => 'by_percentage', 'discount_value' => '150']]], 'bonuses[0].discount_value'],
            'no bonus' => [['bonuses' => []], 'bonuses must be a non-empty list'],
            'bad date' => [['to_date' => '2027-02-30'], "to_date': 2027-02-30 is not a calendar date"],
            'reversed dates' => [['from_date' => '2027-04-01'], 'to_date is before from_date'],
            'catalog zone' => [['zone' => 'catalog'], "field 'zone' must be cart"],
            'points without the add-on' => [['bonuses' => [['bonus' => 'give_points', 'value' => '200']]], 'Reward points add-on'],
            'unknown field' => [['colour' => 'red'], "unknown field 'colour'"],
        ];
    }

    /** @dataProvider refusals */
    public function testRefusalsNameTheField(array $override, string $words): void
    {
        $this->expectException(InvalidPromotion::class);
        $this->expectExceptionMessage($words);
        PromotionBuilder::build($this->body($override), true, false);
    }

    public function testPointsPassWhenTheRewardPointsAddOnIsActive(): void
    {
        $data = PromotionBuilder::build($this->body(['bonuses' => [['bonus' => 'give_points', 'value' => 200]]]), true, true);
        $this->assertSame([1 => ['bonus' => 'give_points', 'value' => '200']], $data['bonuses']);
    }

    public function testStatusAloneSwitchesAnExistingPromotionOffButCannotCreateOne(): void
    {
        $this->assertSame(['status' => 'D'], PromotionBuilder::build(['status' => 'D'], false, false));
        $this->expectException(InvalidPromotion::class);
        PromotionBuilder::build(['status' => 'D'], true, false);
    }

    public function testServiceCreatesUpdatesByCampaignIdDetectsHandEditsAndDryRunWritesNothing(): void
    {
        $store = new MemoryPromotionStore();
        $service = new PromotionService($store);
        $dry = $service->put('spring-bulk', $this->body() + ['dry_run' => true]);
        $this->assertSame([200, true, true, 0], [$dry['status'], $dry['data']['dry_run'], $dry['data']['created'], $store->writes]);
        $this->assertSame('春のまとめ買い', $dry['data']['promotion']['name']);

        $created = $service->put('spring-bulk', $this->body());
        $this->assertSame([201, 1, true], [$created['status'], $created['data']['promotion_id'], $created['data']['created']]);
        $again = $service->put('spring-bulk', $this->body(['status' => 'D']));
        $this->assertSame([200, 1, false], [$again['status'], $again['data']['promotion_id'], $again['data']['created']]);
        $this->assertCount(1, $store->rows);  // found by campaign id: never a second promotion

        $listing = $service->listing();
        $this->assertSame(['reward_points' => false], $listing['capabilities']);
        $this->assertSame(['spring-bulk', 1, 'D', false], [$listing['promotions'][0]['campaign_id'],
            $listing['promotions'][0]['promotion_id'], $listing['promotions'][0]['status'], $listing['promotions'][0]['edited']]);

        $store->rows[1]['bonuses'] = serialize([1 => ['bonus' => 'order_discount', 'discount_bonus' => 'by_percentage', 'discount_value' => '50']]);
        $this->assertTrue($service->one('spring-bulk')['edited']);  // changed in the admin
        $service->put('spring-bulk', $this->body());
        $this->assertFalse($service->one('spring-bulk')['edited']);  // written again

        $off = $service->put('spring-bulk', ['status' => 'D']);
        $this->assertSame(200, $off['status']);
        $this->assertSame('D', $store->rows[1]['status']);
        $this->assertNotSame('', $store->rows[1]['bonuses']);  // only the status changed

        unset($store->rows[1]);  // deleted in the admin
        $this->assertSame([], $service->listing()['promotions']);
        $this->assertSame(201, $service->put('spring-bulk', $this->body())['status']);
    }

    public function testServiceWritesOneAtATimeUnderTheLockAndRefusesWithA503WhenItIsHeld(): void
    {
        // two creates at once made CS-Cart's storefront links fail after the promotion row existed: the retry then
        // created a second promotion no campaign id reached (left active on the store)
        $store = new MemoryPromotionStore();
        $service = new PromotionService($store);
        $this->assertSame(201, $service->put('spring', $this->body())['status']);
        $this->assertSame(['lock', 'managed', 'write', 'remember', 'unlock'], $store->calls);
        $store->calls = [];
        $this->assertSame(400, $service->put('spring', $this->body(['zone' => 'catalog']))['status']);
        $this->assertSame(['lock', 'managed', 'unlock'], $store->calls);  // released on a refusal too
        $store->calls = [];
        $store->busy = true;
        $busy = $service->put('summer', $this->body());
        $this->assertSame(503, $busy['status']);  // the bridge retries a 5xx; nothing was written
        $this->assertStringContainsString('another promotion write', $busy['data']['message']);
        $this->assertSame(['lock'], $store->calls);
        $this->assertSame(1, $store->writes);
        $this->assertArrayNotHasKey('summer', $store->links);
    }

    public function testServiceRefusesABadCampaignIdAndABadBody(): void
    {
        $service = new PromotionService(new MemoryPromotionStore());
        $this->assertSame(400, $service->put('Spring Bulk!', $this->body())['status']);
        $bad = $service->put('x', $this->body(['from_date' => 'March']));
        $this->assertSame(400, $bad['status']);
        $this->assertStringContainsString("campaign x: field 'from_date' must be a date", $bad['data']['message']);
    }

    public function testFingerprintChangesWithAnyManagedColumnOnly(): void
    {
        $row = ['name' => 'a', 'status' => 'A', 'from_date' => 1, 'to_date' => 2, 'priority' => 0, 'stop_other_rules' => 'N',
            'zone' => 'cart', 'conditions' => 'a:0:{}', 'bonuses' => 'a:0:{}', 'number_of_usages' => 3];
        $print = PromotionFingerprint::of($row);
        $this->assertSame($print, PromotionFingerprint::of(['number_of_usages' => 9] + $row));
        foreach (PromotionFingerprint::COLUMNS as $column) {
            $this->assertNotSame($print, PromotionFingerprint::of([$column => 'changed'] + $row), $column);
        }
    }

    public function testWeekdayIsTodayInJapan(): void
    {
        $this->assertSame('sat', WeekdayCondition::today(strtotime('2027-03-06 00:00:00 +09:00')));
        $this->assertSame('fri', WeekdayCondition::today(strtotime('2027-03-05 23:59:59 +09:00')));
        $this->assertSame('sat', WeekdayCondition::today(strtotime('2027-03-05 15:00:00 UTC')));  // 00:00 Saturday JST
    }

    public function testAmountsPerPromotionFromTheOrder(): void
    {
        // shaped like a real 4.20.1 order: total_discount of a product discount is per unit (3), the order's 6
        $order = [
            'subtotal_discount' => 300,
            'promotions' => [
                7 => ['bonuses' => [['bonus' => 'discount_on_categories'], ['bonus' => 'free_shipping', 'value' => '1']], 'total_discount' => 120],
                8 => ['bonuses' => [['bonus' => 'order_discount']], 'total_discount' => 300],
                9 => ['bonuses' => [['bonus' => 'free_products'], ['bonus' => 'give_points', 'value' => '200']]],
            ],
            'products' => [
                '111' => ['product_id' => 5, 'product_code' => 'A-1', 'amount' => 3,
                    'extra' => ['promotions' => [7 => ['bonuses' => [['discount_bonus' => 'by_percentage', 'discount_value' => 10, 'discount' => 120]]]]]],
                '112' => ['product_id' => 6, 'product_code' => 'B-2', 'amount' => 1, 'extra' => []],
                '222' => ['product_id' => 900, 'product_code' => 'GIFT', 'amount' => 2,
                    'extra' => ['exclude_from_calculate' => true, 'saved_options_key' => '9_900']],
            ],
        ];
        $this->assertSame([
            ['promotion_id' => 7, 'campaign_id' => 'spring-bulk', 'discount' => '360.00', 'free_shipping' => true, 'bonus_items' => [], 'points' => 0],
            ['promotion_id' => 8, 'campaign_id' => 'tokyo', 'discount' => '300.00', 'free_shipping' => false, 'bonus_items' => [], 'points' => 0],
            ['promotion_id' => 9, 'campaign_id' => '', 'discount' => '0.00', 'free_shipping' => false,
                'bonus_items' => [['product_id' => 900, 'product_code' => 'GIFT', 'amount' => 2]], 'points' => 200],
        ], PromotionAmounts::of($order, [7 => 'spring-bulk', 8 => 'tokyo']));
        $this->assertSame([], PromotionAmounts::of(['promotions' => []], []));
    }

    public function testTwoPromotionsOnOneProductEachGetTheirOwnShare(): void
    {
        // a real 4.20.1 order (live contract test): ¥3 off (promotion 65) then 10 % (67) on a ¥15 product × 2, then
        // 10 % off the order (66). Each bonus row holds the product's discount so far: 3, then 4.5.
        $order = [
            'subtotal_discount' => 2.1,
            'promotions' => [
                66 => ['bonuses' => [['bonus' => 'order_discount']], 'total_discount' => 2.1],
                65 => ['bonuses' => [['bonus' => 'discount_on_categories']], 'total_discount' => 3],
                67 => ['bonuses' => [['bonus' => 'discount_on_categories']], 'total_discount' => 1.5],
            ],
            'products' => [
                '1' => ['product_id' => 12, 'product_code' => 'P', 'amount' => 2, 'extra' => ['promotions' => [
                    65 => ['bonuses' => [['discount_bonus' => 'by_fixed', 'discount_value' => 3, 'discount' => 3]]],
                    67 => ['bonuses' => [['discount_bonus' => 'by_percentage', 'discount_value' => 10, 'discount' => 4.5]]],
                ]]],
            ],
        ];
        $got = PromotionAmounts::of($order, [65 => 'b', 66 => 'c', 67 => 'a']);
        $this->assertSame(['2.10', '6.00', '3.00'], array_column($got, 'discount'));
        $this->assertSame(['c', 'b', 'a'], array_column($got, 'campaign_id'));
    }

    public function testOrderDiscountsComeFromTheSubtotalDiscountNotTheOverwrittenTotal(): void
    {
        // a real 4.20.1 order (live contract test, products_and_order): one promotion, 10 % on a ¥15 product × 2
        // and ¥5 off the order; CS-Cart left total_discount at 5
        $one = [
            'subtotal_discount' => 5,
            'promotions' => [103 => ['bonuses' => [['bonus' => 'discount_on_categories'],
                ['bonus' => 'order_discount', 'discount_bonus' => 'by_fixed', 'discount_value' => 5]], 'total_discount' => 5]],
            'products' => ['1' => ['product_id' => 12, 'amount' => 2, 'price' => 13.5, 'discount' => 1.5, 'extra' => ['promotions' => [
                103 => ['bonuses' => [['discount_bonus' => 'by_percentage', 'discount_value' => 10, 'discount' => 1.5]]]]]]],
        ];
        $this->assertSame(['8.00'], array_column(PromotionAmounts::of($one, []), 'discount'));
        // two order discounts share subtotal_discount as CS-Cart computed them: ¥5, then 10 % of the subtotal after
        // the product discounts (¥27; an order discount does not lower the subtotal the next one is taken from)
        $two = [
            'subtotal_discount' => 7.7,
            'promotions' => [
                1 => ['bonuses' => [['bonus' => 'discount_on_categories']]],
                2 => ['bonuses' => [['bonus' => 'order_discount', 'discount_bonus' => 'by_fixed', 'discount_value' => 5]]],
                3 => ['bonuses' => [['bonus' => 'order_discount', 'discount_bonus' => 'by_percentage', 'discount_value' => 10]]],
            ],
            'products' => ['1' => ['product_id' => 12, 'amount' => 2, 'base_price' => 15, 'price' => 13.5, 'discount' => 1.5,
                'extra' => ['promotions' => [1 => ['bonuses' => [['discount' => 1.5]]]]]]],
        ];
        $got = PromotionAmounts::of($two, []);
        $this->assertSame(['3.00', '5.00', '2.70'], array_column($got, 'discount'));
    }
}
