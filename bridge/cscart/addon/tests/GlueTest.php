<?php

use PHPUnit\Framework\TestCase;
use SmileBridge\EventSerializer;
use SmileBridge\HmacSigner;
use Tygh\Api\Entities\SmileBridgeEvents;
use Tygh\Registry;

require_once __DIR__ . '/glue/FakeCsCart.php';
require_once __DIR__ . '/../app/addons/smile_bridge/init.php';
require_once __DIR__ . '/../app/addons/smile_bridge/func.php';
require_once __DIR__ . '/../app/addons/smile_bridge/Tygh/Api/Entities/SmileBridgeEvents.php';
require_once __DIR__ . '/../app/addons/smile_bridge/Tygh/Api/Entities/SmileBridgeBatch.php';

/**
 * The CS-Cart glue (install/uninstall, checkout hooks, outbox hooks, batch apply, the events entity) run by the
 * real php binary against FakeCsCart: the add-on's own code paths, with CS-Cart's functions answered in memory.
 */
final class GlueTest extends TestCase
{
    const ADDON_XML = __DIR__ . '/../app/addons/smile_bridge/addon.xml';

    /** @var string */
    private $log;

    protected function setUp(): void
    {
        $this->log = (string) tempnam(sys_get_temp_dir(), 'smile_bridge_log');
        ini_set('error_log', $this->log);
        FakeDb::reset();
        FakeDb::$rows['users'][1] = ['user_id' => 1, 'email' => 'a@example.jp'];
        FakeDb::$rows['products'][7] = ['product_id' => 7, 'amount' => 3, 'price' => '1000.00'];
        FakeDb::$rows['orders'][10] = ['order_id' => 10, 'status' => 'O'];
    }

    protected function tearDown(): void
    {
        ini_restore('error_log');
        @unlink($this->log);
    }

    private function install(): void
    {
        FakeDb::runAddonQueries(self::ADDON_XML, 'install');
        fn_smile_bridge_install();
    }

    public function testInstallAddsColumnsWithDefaultsAndStatusesWithFreeLetters(): void
    {
        FakeDb::$statuses['H'] = ['status_id' => 50, 'description' => 'Someone else', 'params' => []];
        $this->install();
        $this->assertSame(['hold' => 'A', 'shipping_instructed' => 'J', 'shipped' => 'S', 'notified' => 'W'], [
            'hold' => FakeDb::$params['status.hold'], 'shipping_instructed' => FakeDb::$params['status.shipping_instructed'],
            'shipped' => FakeDb::$params['status.shipped'], 'notified' => FakeDb::$params['status.notified'],
        ]);
        $this->assertSame('Someone else', FakeDb::$statuses['H']['description']);
        $this->assertSame('Shipped (出荷済)', FakeDb::$statuses['S']['description']);
        foreach (['A', 'J', 'S', 'W'] as $letter) {
            $this->assertSame('D', FakeDb::$statuses[$letter]['params']['inventory']);
            $this->assertSame($letter === 'W' ? 'Y' : 'N', FakeDb::$statuses[$letter]['params']['notify']);
        }
        $user = FakeDb::$rows['users'][1];
        $this->assertSame('', $user['smile_customer_code']);
        $this->assertNull($user['smile_price_rate']);
        $this->assertSame('down', $user['smile_price_rounding']);
        $this->assertSame('N', FakeDb::$rows['products'][7]['smile_direct_ship_allowed']);
        $this->assertSame('N', FakeDb::$rows['orders'][10]['smile_direct_ship']);
    }

    public function testReinstallAfterAPartialUninstallNeitherFailsNorDuplicates(): void
    {
        $this->install();
        fn_smile_bridge_install();  // everything exists: nothing to do
        unset(FakeDb::$columns['users']['smile_credit_limit'], FakeDb::$statuses['J']);
        fn_smile_bridge_install();
        $this->assertArrayHasKey('smile_credit_limit', FakeDb::$columns['users']);
        $this->assertSame('J', FakeDb::$params['status.shipping_instructed']);
        $this->assertCount(12, FakeDb::$statuses);
    }

    public function testJapaneseRowsGetTheJapaneseNamesAndOtherLanguagesTheEnglishOnes(): void
    {
        FakeDb::$languages = ['en', 'ja', 'fr'];
        $this->install();
        $this->assertSame(['en' => 'Shipping instructed (出荷指示)', 'ja' => '出荷指示', 'fr' => 'Shipping instructed (出荷指示)'],
            FakeDb::descriptions('J'));
        $this->assertSame('出荷通知済', FakeDb::descriptions('W')['ja']);
    }

    public function testReinstallReusesTheLetterAKeptStatusHas(): void
    {
        FakeDb::$statuses['H'] = ['status_id' => 50, 'description' => 'Someone else', 'params' => []];
        $this->install();
        FakeDb::$rows['orders'][11] = ['order_id' => 11, 'status' => 'J'] + FakeDb::$rows['orders'][10];
        fn_smile_bridge_uninstall();
        FakeDb::runAddonQueries(self::ADDON_XML, 'uninstall');
        $this->assertArrayHasKey('J', FakeDb::$statuses);  // kept: order 11 uses it
        $this->assertSame([], FakeDb::$params);             // the params table is gone with the letters
        $before = count(FakeDb::$statuses);
        $this->install();
        $this->assertSame('J', FakeDb::$params['status.shipping_instructed']);
        $this->assertSame('A', FakeDb::$params['status.hold']);
        $this->assertCount($before + 3, FakeDb::$statuses);  // 保留, 出荷済, 出荷通知済 again; no second 出荷指示
        $named = array_filter(array_keys(FakeDb::$statuses), static function ($letter) {
            return FakeDb::descriptions($letter)['ja'] === '出荷指示';
        });
        $this->assertSame(['J'], array_values($named));
    }

    public function testInstallRunsWithFuncPhpAloneAsCsCartsInstallerLoadsIt(): void
    {
        // CS-Cart's installer includes func.php, not init.php: the autoloader must come with func.php.
        $script = 'require ' . var_export(__DIR__ . '/glue/FakeCsCart.php', true) . ';'
            . 'require ' . var_export(__DIR__ . '/../app/addons/smile_bridge/func.php', true) . ';'
            . 'FakeDb::reset(); FakeDb::runAddonQueries(' . var_export(self::ADDON_XML, true) . ', "install");'
            . 'fn_smile_bridge_install(); echo json_encode(FakeDb::$params);';
        exec(escapeshellarg(PHP_BINARY) . ' -r ' . escapeshellarg($script) . ' 2>&1', $output, $code);
        $this->assertSame(0, $code, implode("\n", $output));
        $this->assertSame(['status.hold' => 'H', 'status.shipping_instructed' => 'J', 'status.shipped' => 'S',
            'status.notified' => 'W'], json_decode(implode('', $output), true));
    }

    public function testMalformedStatusParamsAreRepairedNotTrusted(): void
    {
        $this->install();
        FakeDb::$params['status.hold'] = 'hh';      // garbage in the params table
        FakeDb::$params['status.shipped'] = '';      // lost
        FakeDb::$params['status.notified'] = 'Q';    // a letter with no status row
        fn_smile_bridge_install();
        foreach (['hold', 'shipped', 'notified'] as $key) {
            $letter = FakeDb::$params['status.' . $key];
            $this->assertMatchesRegularExpression('/^[A-Z]$/', $letter);
            $this->assertArrayHasKey($letter, FakeDb::$statuses);
            $this->assertNotContains($letter, ['N', 'T']);
        }
        $this->assertSame('J', FakeDb::$params['status.shipping_instructed']);  // intact ones stay
        fn_smile_bridge_uninstall();  // the garbage letter 'hh' is not deleted blindly
        $this->assertArrayHasKey('O', FakeDb::$statuses);
    }

    public function testUninstallKeepsStatusesOrdersUseSoThoseOrdersStayReadable(): void
    {
        $this->install();
        FakeDb::$rows['orders'][11] = ['order_id' => 11, 'status' => 'S'] + FakeDb::$rows['orders'][10];
        fn_smile_bridge_uninstall();
        FakeDb::runAddonQueries(self::ADDON_XML, 'uninstall');
        $this->assertSame('Shipped (出荷済)', FakeDb::$statuses['S']['description']);  // order 11 still reads 出荷済
        foreach (['A', 'J', 'W'] as $unused) {
            $this->assertArrayNotHasKey($unused, FakeDb::$statuses);
        }
        $this->assertArrayHasKey('O', FakeDb::$statuses);
        $this->assertSame(['order_id' => 11, 'status' => 'S'], FakeDb::$rows['orders'][11]);
        $this->assertSame(['user_id', 'email'], array_keys(FakeDb::$columns['users']));
        // campaign id → promotion stays with the promotions (orders refer to them), so a reinstall finds them
        $this->assertSame(['smile_bridge_promotions' => true], FakeDb::$tables);
    }

    public function testCustomerPricesAtCheckout(): void
    {
        $this->install();
        FakeDb::$rows['users'][21] = ['user_id' => 21, 'smile_price_rate' => '70', 'smile_price_rounding' => 'up',
            'smile_price_unit' => '10', 'smile_price_rate_base' => 'price'] + FakeDb::$rows['users'][1];
        FakeDb::$rows['users'][22] = FakeDb::$rows['users'][1];
        FakeDb::$rows['users'][22]['user_id'] = 22;
        FakeDb::$customerPrices[] = ['user_id' => 21, 'product_id' => 8, 'min_quantity' => '1', 'price' => '650.00',
            'valid_from' => '', 'valid_to' => ''];
        $price = function (int $userId, int $productId, $base) {
            $data = ['price' => $base, 'list_price' => ''];
            fn_smile_bridge_get_cart_product_data($productId, $data, ['amount' => 1], ['user_id' => $userId], [], 'h');
            return $data['price'];
        };
        $this->assertSame('650', $price(21, 8, 1000.0));     // the customer's own row
        $this->assertSame('710', $price(21, 7, 1010.0));     // 1010 × 70 % = 707, up to a multiple of 10
        $this->assertSame(1010.0, $price(0, 7, 1010.0));     // guest: CS-Cart's price
        $this->assertSame(1010.0, $price(22, 7, 1010.0));    // no data: CS-Cart's price
        FakeDb::$customerPrices[] = ['user_id' => 21, 'product_id' => 9, 'min_quantity' => '1', 'price' => 'broken',
            'valid_from' => '', 'valid_to' => ''];
        $this->assertSame(1010.0, $price(21, 9, 1010.0));    // unreadable stored data never blocks the sale
        $this->assertStringContainsString('customer price for product 9 not applied', (string) file_get_contents($this->log));
    }

    public function testAListPriceRateReadsTheListPriceCsCartLeavesOutOfTheCart(): void
    {
        $this->install();
        // CS-Cart 4.20.1 selects no list_price into the cart's product data (seen in a real checkout)
        FakeDb::$rows['users'][23] = ['user_id' => 23, 'smile_price_rate' => '70', 'smile_price_rounding' => 'down',
            'smile_price_unit' => '1', 'smile_price_rate_base' => 'list_price'] + FakeDb::$rows['users'][1];
        FakeDb::$rows['products'][7] = ['product_id' => 7, 'amount' => 5, 'price' => '1000', 'list_price' => '1500.00'];
        FakeDb::$rows['products'][6] = ['product_id' => 6, 'amount' => 5, 'price' => '1000', 'list_price' => '0.00'];
        $data = ['price' => 1000.0];
        fn_smile_bridge_get_cart_product_data(7, $data, ['amount' => 1], ['user_id' => 23], [], 'h');
        $this->assertSame('1050', $data['price']);   // 1500 × 70 %
        $data = ['price' => 1000.0];
        fn_smile_bridge_get_cart_product_data(6, $data, ['amount' => 1], ['user_id' => 23], [], 'h');
        $this->assertSame('700', $data['price']);    // no 上代: the normal price is the base
    }

    public function testDirectShipSurchargeIsALineAndTheChecksRefuseWithReasons(): void
    {
        $this->install();
        FakeDb::$rows['products'][8] = ['product_id' => 8, 'amount' => 1, 'price' => '1', 'smile_direct_ship_allowed' => 'Y'];
        $cart = ['smile_direct_ship' => 'Y', 'subtotal' => 12345.0, 'total' => 13145.0, 'payment_id' => 2,
            'smile_direct_ship_recipient' => '山田商店',
            'products' => [['product_id' => 8, 'product' => '紙コップ'], ['product_id' => 7, 'product' => 'ゴミ袋']]];
        $none = [];
        fn_smile_bridge_calculate_cart_post($cart, [], true, true, '', true, $none, $none);
        $this->assertSame('1234', $cart['smile_direct_ship_surcharge']);  // 10 % (the default), rounded down
        $this->assertSame('14379', $cart['total']);
        fn_smile_bridge_set_param('direct_ship_rate', '12.5');  // pushed by the daemon (batch kind settings)
        fn_smile_bridge_set_param('direct_ship_rounding', 'half_up');
        fn_smile_bridge_set_param('direct_ship_unit', '10');
        $cart['total'] = 13145.0;
        fn_smile_bridge_calculate_cart_post($cart, [], true, true, '', true, $none, $none);
        $this->assertSame('1540', $cart['smile_direct_ship_surcharge']);  // 1543.125 → 1540
        FakeDb::$language = 'ja';
        Registry::$values['addons.smile_bridge.direct_ship_payment_ids'] = '1';
        $cart['smile_direct_ship_recipient'] = '';
        $allow = true;
        fn_smile_bridge_pre_place_order($cart, $allow, []);
        $this->assertFalse($allow);
        $this->assertCount(3, FakeDb::$notifications);
        $this->assertStringContainsString('ゴミ袋', FakeDb::$notifications[0]);
        $this->assertStringNotContainsString('紙コップ', FakeDb::$notifications[0]);
        $this->assertStringContainsString('直送先', FakeDb::$notifications[2]);
    }

    public function testCreditCheckRefusesOnAccountOrdersOverTheLimitInTheCustomersLanguage(): void
    {
        $this->install();
        Registry::$values['addons.smile_bridge.on_account_payment_ids'] = '1, 5';
        Registry::$values['addons.smile_bridge.credit_check'] = 'Y';
        FakeDb::$rows['users'][31] = ['user_id' => 31, 'smile_credit_limit' => '100000.00',
            'smile_credit_exposure' => '90000.00'] + FakeDb::$rows['users'][1];
        $place = function (array $cart, string $language) {
            FakeDb::$language = $language;
            FakeDb::$notifications = [];
            \Tygh\Tygh::$app['session']['auth'] = ['user_id' => 31];
            $allow = true;
            fn_smile_bridge_pre_place_order($cart + ['products' => [['product_id' => 7]]], $allow, []);
            return $allow;
        };
        $this->assertFalse($place(['payment_id' => 1, 'total' => 20000.0], 'ja'));
        $this->assertStringContainsString('与信残高（10,000円）', FakeDb::$notifications[0]);
        $this->assertFalse($place(['payment_id' => 5, 'total' => 10000.5], 'en'));
        $this->assertStringContainsString('exceeds your available credit (10,000)', FakeDb::$notifications[0]);
        $this->assertTrue($place(['payment_id' => 1, 'total' => 10000.0], 'ja'));   // exactly the limit
        $this->assertTrue($place(['payment_id' => 3, 'total' => 99999.0], 'ja'));   // not 掛売
        Registry::$values['addons.smile_bridge.credit_check'] = 'N';
        $this->assertTrue($place(['payment_id' => 1, 'total' => 99999.0], 'ja'));
    }

    public function testABrokenCreditCheckRefusesInsteadOfLettingTheOrderThrough(): void
    {
        $this->install();
        Registry::$values['addons.smile_bridge.on_account_payment_ids'] = '1';
        FakeDb::$rows['users'][32] = ['user_id' => 32, 'smile_credit_limit' => 'lots',
            'smile_credit_exposure' => '0'] + FakeDb::$rows['users'][1];
        \Tygh\Tygh::$app['session']['auth'] = ['user_id' => 32];
        FakeDb::$language = 'ja';
        $allow = true;
        fn_smile_bridge_pre_place_order(['payment_id' => 1, 'total' => 1.0], $allow, []);
        $this->assertFalse($allow);
        $this->assertStringContainsString('ただいまご注文内容を確認できませんでした', FakeDb::$notifications[0]);
    }

    public function testHooksWriteEventsTheEntityServesAndAcknowledges(): void
    {
        $this->install();
        fn_smile_bridge_place_order_post(['total' => 1200.5], ['user_id' => 4], 'save', 0, 0, 10, 'O', [], []);
        fn_smile_bridge_change_order_status_post(10, 'J', 'O', [], false, [], []);
        fn_smile_bridge_delete_order(10);
        fn_smile_bridge_update_profile('update', ['user_id' => 4, 'user_type' => 'C'], []);
        $entity = new SmileBridgeEvents();
        $feed = $entity->index('', ['after_id' => '0', 'limit' => '3']);
        $this->assertSame(200, $feed['status']);
        $json = json_decode(EventSerializer::json($feed['data']), true);
        // a new order (no order_id in the cart) gets order.updated from place_order_post: CS-Cart's update_order
        // hook runs only when an existing order is saved again
        $this->assertSame(['order.placed', 'order.updated', 'order.status_changed'], array_column($json['events'], 'type'));
        $this->assertSame(['status' => 'O'], $json['events'][1]['data']);
        $this->assertSame(['status' => 'O', 'user_id' => 4, 'total' => '1200.5'], $json['events'][0]['data']);
        $this->assertTrue($json['params']['has_more']);
        $this->assertSame('J', $json['params']['statuses']['shipping_instructed']);
        $this->assertSame(400, $entity->index('', ['limit' => '0'])['status']);
        $this->assertSame(404, $entity->index('99')['status']);
        $this->assertSame(['acknowledged_id' => 3, 'purged' => 0], $entity->update('3', [])['data']);
        $this->assertSame(3, $entity->update('2', [])['data']['acknowledged_id']);  // never back
        $rest = json_decode(EventSerializer::json($entity->index('', [])['data']), true);
        $this->assertSame(['order.deleted', 'user.updated'], array_column($rest['events'], 'type'));  // after the ack
        FakeDb::$events[1]['created_at'] = (string) (time() - 15 * 86400);
        $this->assertSame(1, $entity->update('4', [])['data']['purged']);
        fn_smile_bridge_place_order_post(['total' => 5, 'order_id' => 10], ['user_id' => 4], 'save', 0, 0, 10, 'O', [], []);
        $this->assertSame('order.placed', end(FakeDb::$events)['event_type']);  // an edit: update_order wrote it
    }

    public function testAFailingOutboxOrWakeUpNeverBreaksTheRequest(): void
    {
        fn_smile_bridge_change_order_status_post(10, 'P', 'O', [], false, [], []);  // no table yet: logged only
        $this->assertSame([], FakeDb::$events);
        $this->assertStringContainsString('could not record order.status_changed event', (string) file_get_contents($this->log));
        Registry::$values['addons.smile_bridge.daemon_url'] = 'http://127.0.0.1:9';  // nothing listens
        Registry::$values['addons.smile_bridge.hmac_secret'] = 's3cret';
        $started = microtime(true);
        fn_smile_bridge_wake_up(5);
        $this->assertLessThan(5.0, microtime(true) - $started);
        $this->assertTrue(HmacSigner::verify('s3cret', HmacSigner::sign('s3cret', '{}', time()), '{}', time()));
    }

    public function testBatchApplyRunsEachItemThroughCsCart(): void
    {
        $this->install();
        FakeDb::$rows['products'][8] = ['product_id' => 8, 'amount' => 1, 'price' => '1', 'smile_direct_ship_allowed' => 'N'];
        FakeDb::$refuse[8] = true;
        $results = fn_smile_bridge_batch_apply([
            ['kind' => 'stock', 'id' => 'a', 'product_id' => 7, 'amount' => 40],
            ['kind' => 'stock', 'id' => 'b', 'product_id' => 8, 'amount' => 1],
            ['kind' => 'stock', 'id' => 'c', 'product_id' => 99, 'amount' => 1],
            ['kind' => 'customer_price', 'user_id' => 1, 'product_id' => 7, 'rows' => [['price' => '650']]],
            ['kind' => 'user_fields', 'user_id' => 1, 'fields' => ['smile_price_rate' => '70']],
            ['kind' => 'order_fields', 'order_id' => 10, 'fields' => ['smile_ship_to_code' => '0001']],
            ['kind' => 'stock', 'product_id' => 7],
        ]);
        $this->assertSame(['ok', 'failed', 'not_found', 'ok', 'ok', 'ok', 'invalid'], array_column($results, 'code'));
        $this->assertSame(40, FakeDb::$rows['products'][7]['amount']);
        $this->assertSame('items[1]: an add-on refused the stock write for product 8 (update_product_pre)', $results[1]['message']);
        // the lean stock path runs fn_update_product's hooks for an amount change, in its order, not the function
        $this->assertSame(['update_product_pre', 'update_product_before_update', 'update_product_post', 'update_product_pre'],
            FakeDb::$hooks);
        $this->assertSame([], FakeDb::$updatedProducts);
        $this->assertSame('product 99 does not exist on this store', $results[2]['message']);
        $this->assertSame('650', FakeDb::$customerPrices[0]['price']);
        $this->assertSame('70', FakeDb::$rows['users'][1]['smile_price_rate']);
        $this->assertSame('0001', FakeDb::$rows['orders'][10]['smile_ship_to_code']);
        $this->assertSame([], FakeDb::$events);  // plain updates: no hooks, no events
    }

    public function testBatchOrderStatusDoesWhatTheStatusOnlyPutDoesAndReadsTheResultBack(): void
    {
        $this->install();
        FakeDb::$rows['orders'][11] = ['order_id' => 11, 'status' => 'O'];
        FakeDb::$rows['orders'][12] = ['order_id' => 12, 'status' => 'O'];
        FakeDb::$rows['orders'][13] = ['order_id' => 13, 'status' => 'P'];
        FakeDb::$statusInstead[12] = 'B';  // not enough stock
        $results = fn_smile_bridge_batch_apply([
            ['kind' => 'order_status', 'id' => 1, 'order_id' => 11, 'status' => 'P', 'notify_user' => true],
            ['kind' => 'order_status', 'id' => 2, 'order_id' => 12, 'status' => 'C'],
            ['kind' => 'order_status', 'id' => 3, 'order_id' => 13, 'status' => 'P'],  // already: a retry
            ['kind' => 'order_status', 'id' => 4, 'order_id' => 13, 'status' => 'Q'],  // no such status
            ['kind' => 'order_status', 'id' => 5, 'order_id' => 99, 'status' => 'P'],
            ['kind' => 'order_status', 'id' => 6, 'order_id' => 11, 'status' => 'pp'],
        ]);
        $this->assertSame(['ok', 'invalid', 'ok', 'invalid', 'not_found', 'invalid'], array_column($results, 'code'));
        $this->assertSame('P', FakeDb::$rows['orders'][11]['status']);
        $this->assertSame(['P', ['C' => true, 'A' => false, 'V' => false]], FakeDb::$statusChanges[11]);
        $this->assertSame('items[1]: order 12: CS-Cart set Backordered (B) instead of C: not enough stock', $results[1]['message']);
        $this->assertStringContainsString('status Q does not exist in CS-Cart', $results[3]['message']);
        $this->assertSame('order 99 does not exist on this store', $results[4]['message']);
        $this->assertSame("items[5].status: must be one status letter A-Z, got 'pp'", $results[5]['message']);
        $this->assertTrue(defined('ORDER_MANAGEMENT'));  // as the REST fast path: no low-stock mail to the admin
        $this->assertSame(['change_order_status'], \SmileBridge\BatchValidator::requiredPrivileges([['kind' => 'order_status']]));
    }

    public function testAStockWriteBackInStockNotifiesSubscribersOfActiveProductsOnly(): void
    {
        $this->install();
        FakeDb::$rows['products'][7]['amount'] = 0;
        FakeDb::$rows['products'][8] = ['product_id' => 8, 'amount' => -2, 'price' => '1', 'status' => 'D'];
        FakeDb::$rows['products'][9] = ['product_id' => 9, 'amount' => 4, 'price' => '1'];
        $results = fn_smile_bridge_batch_apply([
            ['kind' => 'stock', 'product_id' => 7, 'amount' => 5],   // 0 → 5, active: back in stock
            ['kind' => 'stock', 'product_id' => 8, 'amount' => 5],   // disabled: no mail
            ['kind' => 'stock', 'product_id' => 9, 'amount' => 6],   // was in stock: no mail
            ['kind' => 'stock', 'product_id' => 7, 'amount' => 0],
        ]);
        $this->assertSame(['ok', 'ok', 'ok', 'ok'], array_column($results, 'code'));
        $this->assertSame([7], FakeDb::$backInStock);
        $this->assertSame([0, 5, 6], [FakeDb::$rows['products'][7]['amount'], FakeDb::$rows['products'][8]['amount'],
            FakeDb::$rows['products'][9]['amount']]);
        $this->assertGreaterThan(time() - 60, FakeDb::$rows['products'][9]['updated_timestamp']);
    }

    public function testTheBatchNeedsThePrivilegeOfEveryEntityItTouches(): void
    {
        $this->install();
        FakeDb::$privileges[5] = ['manage_catalog'];  // a catalog-only API user
        $entity = new \Tygh\Api\Entities\SmileBridgeBatch(['user_id' => 5]);
        $refused = $entity->create(['items' => [
            ['kind' => 'stock', 'product_id' => 7, 'amount' => 40],
            ['kind' => 'user_fields', 'user_id' => 1, 'fields' => ['smile_credit_limit' => '9999999']],
            ['kind' => 'order_fields', 'order_id' => 10, 'fields' => ['smile_ship_to_code' => '0001']],
        ]]);
        $this->assertSame(403, $refused['status']);
        $this->assertStringContainsString('edit_order, manage_users', $refused['data']['message']);
        $this->assertSame(3, FakeDb::$rows['products'][7]['amount']);  // nothing of the batch was applied
        $this->assertNotSame('9999999', FakeDb::$rows['users'][1]['smile_credit_limit'] ?? null);

        $allowed = $entity->create(['items' => [['kind' => 'stock', 'product_id' => 7, 'amount' => 40]]]);
        $this->assertSame(200, $allowed['status']);
        $this->assertSame(40, FakeDb::$rows['products'][7]['amount']);
        $this->assertSame(['manage_catalog', 'update_settings'], \SmileBridge\BatchValidator::requiredPrivileges([
            ['kind' => 'settings'], ['kind' => 'prices'], ['kind' => 'nonsense'], 'x',
        ]));
    }

    public function testTheDirectShipRecipientIsEscapedOnTheAdminOrderPage(): void
    {
        $template = (string) file_get_contents(__DIR__ . '/../design/backend/templates/addons/smile_bridge/hooks/orders/customer_info.post.tpl');
        $this->assertMatchesRegularExpression('/\{\$order_info\.smile_direct_ship_recipient\|escape\}/', $template);
        $this->assertDoesNotMatchRegularExpression('/\{\$order_info\.[a-z_]+\}/', $template);  // no unescaped value
    }

    public function testListHooksAddTheColumnsAndFilters(): void
    {
        $this->install();
        $fields = ['?:users.user_id'];
        $sortings = [];
        $condition = ['type' => " AND ?:users.user_type = 'C'"];
        $join = '';
        $group = '';
        fn_smile_bridge_get_users(['smile_customer_code' => '000123'], $fields, $sortings, $condition, $join, [], $group);
        $this->assertContains('?:users.smile_credit_limit', $fields);
        $this->assertCount(8, $fields);
        $this->assertSame(" AND ?:users.smile_customer_code = '000123'", $condition['smile_customer_code']);
        $fields = [];
        $condition = '';
        fn_smile_bridge_get_orders(['smile_direct_ship' => 'Y'], $fields, $sortings, $condition, $join, $group);
        $this->assertSame(['?:orders.smile_direct_ship', '?:orders.smile_direct_ship_recipient',
            '?:orders.smile_direct_ship_surcharge', '?:orders.smile_ship_to_code', '?:orders.smile_delivery_date',
            '?:orders.smile_delivery_slot'], $fields);
        $this->assertSame(" AND ?:orders.smile_direct_ship = 'Y'", $condition);
        $condition = '';
        fn_smile_bridge_get_orders(['smile_direct_ship' => "Y' OR 1"], $fields, $sortings, $condition, $join, $group);
        $this->assertSame('', $condition);  // only Y or N filter
        FakeDb::$params['delivery_source'] = 'cscart_jp';  // CS-Cart.jp's お届け日時 under the add-on's names
        $fields = [];
        fn_smile_bridge_get_orders([], $fields, $sortings, $condition, $join, $group);
        $this->assertStringContainsString('SELECT j.delivery_date FROM ?:jp_order_delivery_info', $fields[4]);
        $this->assertStringEndsWith('AS smile_delivery_date', $fields[4]);
        $this->assertStringEndsWith('AS smile_delivery_slot', $fields[5]);
    }

    public function testTheDeliveryChoiceIsCheckedAndStoredOnThePlacedOrder(): void
    {
        $this->install();
        FakeDb::$params['delivery_methods'] = json_encode(['1' => [
            'carrier' => 'yamato', 'lead_business_days' => 0, 'transit_days' => 1, 'cutoff' => '', 'range_days' => 400,
            'closed_weekdays' => [], 'holidays' => [], 'slots' => ['指定なし', '14時～16時']]]);
        $cart = ['chosen_shipping' => [0 => 1]];
        $options = fn_smile_bridge_delivery_options($cart);
        $this->assertCount(400, $options['dates']);
        $this->assertSame(['指定なし', '14時～16時'], $options['slots']);
        fn_smile_bridge_delivery_from_request($cart, ['smile_delivery_date' => $options['dates'][3], 'smile_delivery_slot' => '14時～16時']);
        $this->assertSame('', fn_smile_bridge_delivery_message($cart));
        fn_smile_bridge_store_order_fields(10, $cart);
        $this->assertSame($options['dates'][3], FakeDb::$rows['orders'][10]['smile_delivery_date']);
        $this->assertSame('14時～16時', FakeDb::$rows['orders'][10]['smile_delivery_slot']);
        $late = $cart;
        $late['smile_delivery_slot'] = '20時～21時';
        $this->assertSame('This delivery time is not offered for the chosen shipping method.', fn_smile_bridge_delivery_message($late));
        $early = $cart;
        $early['smile_delivery_date'] = '2000-01-01';
        $this->assertStringStartsWith('The requested delivery date is earlier than we can deliver.', fn_smile_bridge_delivery_message($early));
    }

    public function testAChoiceTheCheckoutNoLongerOffersIsDroppedNotRefused(): void
    {
        // Offer and check agree (seen on the real store): the customer chose a date and time for a method that offers
        // them, then the cart's method became one the rules offer nothing for (another method chosen, or a shipping
        // recalculation that left the cart without one). The checkout shows no fields, so the customer can neither
        // see nor clear the choice: the order is placed without it instead of refused with a message about it.
        $this->install();
        FakeDb::$params['delivery_methods'] = json_encode(['1' => [
            'carrier' => 'yamato', 'lead_business_days' => 0, 'transit_days' => 1, 'cutoff' => '', 'range_days' => 30,
            'closed_weekdays' => [], 'holidays' => [], 'slots' => ['指定なし', '午前中']]]);
        $cart = ['chosen_shipping' => [0 => 1]];
        $dates = fn_smile_bridge_delivery_options($cart)['dates'];
        fn_smile_bridge_delivery_from_request($cart, ['smile_delivery_date' => $dates[1], 'smile_delivery_slot' => '午前中']);
        foreach ([[0 => 9], []] as $chosen) {  // a method without settings; a cart without a chosen method
            $other = ['chosen_shipping' => $chosen] + $cart;
            $this->assertSame([], fn_smile_bridge_delivery_options($other));  // nothing offered
            $this->assertSame('', fn_smile_bridge_delivery_message($other));  // so nothing refused
            $allow = true;
            fn_smile_bridge_pre_place_order($other, $allow, []);
            $this->assertTrue($allow);
            FakeDb::$rows['orders'][11] = ['order_id' => 11, 'smile_delivery_date' => '', 'smile_delivery_slot' => ''];
            fn_smile_bridge_store_order_fields(11, $other);
            $this->assertSame(['', ''], [FakeDb::$rows['orders'][11]['smile_delivery_date'],
                FakeDb::$rows['orders'][11]['smile_delivery_slot']]);  // and nothing stored
        }
        // back on the method that offers them, the same choice is checked and kept
        $this->assertSame('', fn_smile_bridge_delivery_message($cart));
        FakeDb::$rows['orders'][12] = ['order_id' => 12, 'smile_delivery_date' => '', 'smile_delivery_slot' => ''];
        fn_smile_bridge_store_order_fields(12, $cart);
        $this->assertSame([$dates[1], '午前中'], [FakeDb::$rows['orders'][12]['smile_delivery_date'],
            FakeDb::$rows['orders'][12]['smile_delivery_slot']]);
    }

    public function testTheCheckoutChoiceReachesTheCartAndThePlacedOrder(): void
    {
        $this->install();
        \Tygh::$app['session']['cart'] = ['products' => []];
        $_SERVER['REQUEST_METHOD'] = 'POST';
        $_REQUEST = ['smile_direct_ship' => 'Y', 'smile_direct_ship_recipient' => " 𠮷田商店\t 様 "];
        include __DIR__ . '/../app/addons/smile_bridge/controllers/frontend/checkout.pre.php';
        $cart = \Tygh::$app['session']['cart'];
        $this->assertSame('Y', $cart['smile_direct_ship']);
        $this->assertSame('田商店 様', $cart['smile_direct_ship_recipient']);  // no ? stored in place of 𠮷
        $cart['smile_direct_ship_surcharge'] = '1234';
        fn_smile_bridge_place_order_post($cart + ['total' => 13579], ['user_id' => 1], 'save', 0, 0, 10, 'O', [], []);
        $order = FakeDb::$rows['orders'][10];
        $this->assertSame(['Y', '田商店 様', '1234'], [$order['smile_direct_ship'], $order['smile_direct_ship_recipient'],
            $order['smile_direct_ship_surcharge']]);
        $_REQUEST = [];
    }

    public function testTheLiteCheckoutRecalculationCarriesTheChoiceToo(): void
    {
        $this->install();
        \Tygh::$app['session']['cart'] = ['products' => []];
        // checkout.js fn_calculate_total_shipping_cost: GET checkout.checkout with the data-ca-shipping-field inputs
        $_SERVER['REQUEST_METHOD'] = 'GET';
        $mode = 'checkout';
        $_REQUEST = ['smile_direct_ship' => 'Y', 'smile_direct_ship_recipient' => '山田商店',
            'smile_delivery_date' => '2026-12-10', 'smile_delivery_slot' => '午前中'];
        include __DIR__ . '/../app/addons/smile_bridge/controllers/frontend/checkout.pre.php';
        $cart = \Tygh::$app['session']['cart'];
        $this->assertSame(['Y', '山田商店', '2026-12-10', '午前中'], [$cart['smile_direct_ship'],
            $cart['smile_direct_ship_recipient'], $cart['smile_delivery_date'], $cart['smile_delivery_slot']]);
        // any other storefront GET leaves the cart alone
        $mode = 'cart';
        $_REQUEST = ['smile_direct_ship' => 'N'];
        include __DIR__ . '/../app/addons/smile_bridge/controllers/frontend/checkout.pre.php';
        $this->assertSame('Y', \Tygh::$app['session']['cart']['smile_direct_ship']);
        $_REQUEST = [];
        $_SERVER['REQUEST_METHOD'] = 'POST';
    }
}
