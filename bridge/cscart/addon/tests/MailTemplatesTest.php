<?php

use PHPUnit\Framework\TestCase;
use SmileBridge\MailContext;
use SmileBridge\MailRequest;

require_once '/usr/share/php/Twig/autoload.php';  // Debian's php-twig (CS-Cart renders mail templates with Twig 3)

/**
 * The add-on's customer mail templates (resources/email_templates.xml) rendered with Twig the way CS-Cart does
 * (string templates, autoescape off; snippet() and __() stand in for CS-Cart's functions), fed by MailContext.
 */
final class MailTemplatesTest extends TestCase
{
    private const TEMPLATES = __DIR__ . '/../app/addons/smile_bridge/resources/email_templates.xml';

    /** @return array<string, array{subject: string, body: string}> */
    private static function templates(): array
    {
        $xml = simplexml_load_file(self::TEMPLATES);
        $out = [];
        foreach ($xml->templates->item as $item) {
            $out[(string) $item->code] = ['subject' => (string) $item->default_subject, 'body' => (string) $item->default_template,
                'area' => (string) $item->area, 'addon' => (string) $item->addon];
        }
        return $out;
    }

    private static function render(string $template, array $variables): string
    {
        $twig = new \Twig\Environment(new \Twig\Loader\ArrayLoader([]), ['autoescape' => false, 'strict_variables' => true]);
        $twig->addFunction(new \Twig\TwigFunction('snippet', static function (string $code) {
            return '<!-- snippet ' . $code . ' -->';
        }));
        $twig->addFunction(new \Twig\TwigFunction('__', static function (string $name) {
            return $name;
        }));
        return $twig->createTemplate($template)->render($variables);
    }

    private static function order(): array
    {
        return [
            'order_id' => 1234, 'timestamp' => 1796000000, 'firstname' => '太郎', 'lastname' => '山田',
            'company' => '株式会社サンプル', 'email' => 'taro@example.jp', 'total' => '2118.00',
            'smile_delivery_date' => '2026-12-10', 'smile_delivery_slot' => '14時～16時',
            'products' => [
                '11' => ['product_code' => 'A-100', 'product' => '緑茶 <特選>', 'amount' => '2', 'price' => '900.00'],
                '12' => ['product_code' => 'B-200', 'product' => '急須', 'amount' => 1, 'price' => '318'],
            ],
        ];
    }

    private static function shipments(): array
    {
        return [
            ['shipment_id' => 7, 'carrier' => 'yamato', 'tracking_number' => '4000-1234-5678', 'shipment_timestamp' => 1796083200,
                'comments' => "ヤマト運輸 お問い合わせ番号 4000-1234-5678\n担当営業所 品川センター（031234） TEL 03-0000-0000"],
        ];
    }

    private static function method(): array
    {
        return ['carrier' => 'yamato', 'lead_business_days' => 1, 'transit_days' => 1, 'cutoff' => '12:00',
            'closed_weekdays' => [6, 7], 'holidays' => []];
    }

    private static function mail(string $kind, array $values = [], ?array $shipments = null): array
    {
        $context = MailContext::build($kind, self::order(), $shipments ?? self::shipments(), [], self::method(), $values,
            new \DateTimeImmutable('2026-12-03T10:00:00+09:00'));
        $template = self::templates()['smile_bridge_' . $kind];
        $variables = ['smile' => $context, 'company_name' => 'サンプル商事'];
        return [self::render($template['subject'], $variables), self::render($template['body'], $variables)];
    }

    public function testEveryKindHasOneCustomerTemplateOfTheAddon(): void
    {
        $templates = self::templates();
        $codes = array_map(static function ($kind) {
            return 'smile_bridge_' . $kind;
        }, array_keys(MailContext::KINDS));
        $this->assertSame($codes, array_keys($templates));
        foreach ($templates as $code => $template) {
            $this->assertSame('C', $template['area'], $code);
            $this->assertSame('smile_bridge', $template['addon'], $code);
            [$subject, $body] = self::mail(substr($code, strlen('smile_bridge_')));
            $this->assertStringContainsString('サンプル商事', $subject);
            $this->assertStringContainsString('1234', $subject);
            $this->assertStringContainsString('山田 太郎 様', $body);
            $this->assertStringContainsString('株式会社サンプル', $body);
            $this->assertStringContainsString('<!-- snippet header -->', $body);
            $this->assertStringContainsString('<!-- snippet footer -->', $body);
        }
    }

    public function testShippingNoticePrintsCarrierNumberUrlDatesAndShopMemo(): void
    {
        [$subject, $body] = self::mail(MailContext::SHIPPING_NOTICE);
        $this->assertStringContainsString('出荷のお知らせ', $subject);
        $this->assertStringContainsString('配送業者：ヤマト運輸', $body);
        $this->assertStringContainsString('お問い合わせ伝票番号：4000-1234-5678', $body);
        $this->assertStringContainsString(
            'href="https://jizen.kuronekoyamato.co.jp/jizen/servlet/crjz.b.NQ0010?id=400012345678"', $body);
        $this->assertStringContainsString('発送日：2026-12-01', $body);
        $this->assertStringContainsString('配達予定日：2026-12-10（14時～16時）', $body);  // the requested date wins
        $this->assertStringContainsString('担当営業所 品川センター（031234） TEL 03-0000-0000', $body);
        $this->assertStringContainsString('緑茶 &lt;特選&gt;', $body);  // order text is escaped
        $this->assertStringContainsString('1,800円', $body);
        $this->assertStringContainsString('ご注文金額：2,118円', $body);
    }

    public function testShippingNoticeWithoutRequestedDateGivesShipDayPlusTransit(): void
    {
        $order = self::order();
        $order['smile_delivery_date'] = '';
        $context = MailContext::build(MailContext::SHIPPING_NOTICE, $order, self::shipments(), [], self::method(), [],
            new \DateTimeImmutable('2026-12-03T10:00:00+09:00'));
        $this->assertSame('2026-12-02', $context['arrival_date']);
    }

    public function testPushedCarriersReplaceTheDefaults(): void
    {
        $carriers = ['yamato' => ['name' => 'クロネコヤマト', 'url' => 'https://track.example/{no}']];
        $context = MailContext::build(MailContext::SHIPPING_NOTICE, self::order(), self::shipments(), $carriers, null, [],
            new \DateTimeImmutable('2026-12-03T10:00:00+09:00'));
        $this->assertSame('クロネコヤマト', $context['shipments'][0]['carrier_name']);
        $this->assertSame('https://track.example/400012345678', $context['shipments'][0]['tracking_url']);
        $unknown = MailContext::build(MailContext::SHIPPING_NOTICE, self::order(),
            [['shipment_id' => 1, 'carrier' => 'seino', 'tracking_number' => '123', 'shipment_timestamp' => 0]], [], null, [],
            new \DateTimeImmutable('2026-12-03T10:00:00+09:00'));
        $this->assertSame(['carrier' => 'seino', 'carrier_name' => 'seino', 'tracking_number' => '123', 'tracking_url' => '',
            'shipped_on' => '', 'memo' => ''], $unknown['shipments'][0]);
    }

    public function testOrderConfirmedPrintsTheShipDateAndTheRequestedDelivery(): void
    {
        [$subject, $body] = self::mail(MailContext::ORDER_CONFIRMED);
        $this->assertStringContainsString('ご注文確定', $subject);
        // 10:00 before the 12:00 cut-off on Thursday 3 Dec, one business day of lead time → Friday 4 Dec.
        $this->assertStringContainsString('発送予定日：2026-12-04', $body);
        $this->assertStringContainsString('お届け希望日：2026-12-10　時間帯：14時～16時', $body);
        [, $given] = self::mail(MailContext::ORDER_CONFIRMED, ['ship_date' => '2026-12-07']);
        $this->assertStringContainsString('発送予定日：2026-12-07', $given);
    }

    public function testPaymentDelayCancelAndReturnPrintTheirValues(): void
    {
        [$subject, $body] = self::mail(MailContext::PAYMENT_RECEIVED);
        $this->assertStringContainsString('ご入金確認', $subject);
        $this->assertStringContainsString('ご入金を確認いたしました', $body);
        [$subject, $body] = self::mail(MailContext::DELAY, ['reason' => '入荷待ち', 'new_date' => '2026-12-12']);
        $this->assertStringContainsString('遅延のお知らせ', $subject);
        $this->assertStringContainsString('理由：入荷待ち', $body);
        $this->assertStringContainsString('新しい発送予定日：2026-12-12', $body);
        [$subject, $body] = self::mail(MailContext::CANCELLED, ['reason' => 'お客様のご依頼']);
        $this->assertStringContainsString('キャンセル', $subject);
        $this->assertStringContainsString('キャンセルを承りました', $body);
        $this->assertStringContainsString('理由：お客様のご依頼', $body);
        [$subject, $body] = self::mail(MailContext::RETURNED, ['return' => ['return_id' => 55, 'amount' => '900',
            'items' => [['code' => 'A-100', 'name' => '緑茶', 'quantity' => 1]]]]);
        $this->assertStringContainsString('返品受付', $subject);
        $this->assertStringContainsString('返品番号：55', $body);
        $this->assertStringContainsString('返品金額：900円', $body);
        $this->assertStringContainsString('<td>A-100</td><td>緑茶</td><td align="right">1</td>', $body);
    }

    public function testUnknownKindIsRefused(): void
    {
        $this->expectException(\InvalidArgumentException::class);
        MailContext::build('invoice', self::order(), [], [], null, [], new \DateTimeImmutable());
    }

    public function testMailRequestNamesTheBadField(): void
    {
        $ok = MailRequest::parse(['order_id' => '12', 'kind' => 'delay', 'key' => 'orders/mail/12/delay', 'values' => ['reason' => 'x']]);
        $this->assertSame(12, $ok->orderId);
        foreach ([
            [['kind' => 'delay', 'key' => 'k'], 'order_id:'],
            [['order_id' => 1, 'kind' => 'invoice', 'key' => 'k'], 'kind:'],
            [['order_id' => 1, 'kind' => 'delay', 'key' => 'has space'], 'key:'],
            [['order_id' => 1, 'kind' => 'delay', 'key' => 'k', 'values' => ['colour' => 1]], 'values.colour'],
            ['text', 'JSON object'],
        ] as [$body, $named]) {
            try {
                MailRequest::parse($body);
                $this->fail('accepted ' . json_encode($body));
            } catch (\InvalidArgumentException $exc) {
                $this->assertStringContainsString($named, $exc->getMessage());
            }
        }
    }
}
