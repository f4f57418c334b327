<?php
/**
 * Test helper: runs the add-on's pure PHP classes on a JSON request from stdin and prints JSON, so the Python
 * side can be checked against the real PHP implementation. Request: {"sign": [...], "verify": [...], ...}.
 */

require __DIR__ . '/../../bridge/cscart/addon/app/addons/smile_bridge/lib/autoload.php';

use SmileBridge\BatchResult;
use SmileBridge\BatchValidator;
use SmileBridge\Decimal;
use SmileBridge\EventSerializer;
use SmileBridge\HmacSigner;
use SmileBridge\InvalidBatchItem;
use SmileBridge\MailContext;
use SmileBridge\MailRequest;
use SmileBridge\ReturnSerializer;
use SmileBridge\PriceSelector;
use SmileBridge\BatchRejected;
use SmileBridge\StatusLetterPicker;

$request = json_decode(stream_get_contents(STDIN), true);
$out = [];

foreach ($request['sign'] ?? [] as $case) {
    $out['sign'][] = HmacSigner::sign($case['secret'], base64_decode($case['body']), $case['t']);
}
foreach ($request['verify'] ?? [] as $case) {
    $out['verify'][] = HmacSigner::verify($case['secret'], $case['header'], base64_decode($case['body']), $case['now']);
}
foreach ($request['price'] ?? [] as $case) {
    $profile = ['rate' => Decimal::of($case['rate']), 'rounding' => $case['mode'], 'unit' => Decimal::of($case['unit']), 'base' => 'price'];
    $out['price'][] = PriceSelector::select(4, Decimal::of($case['base']), null, 1, [], $profile, '2026-04-01')['price']->toString();
}
if (isset($request['wake_up'])) {
    $out['wake_up'] = EventSerializer::wakeUpBody($request['wake_up']['last_event_id'], $request['wake_up']['sent_at']);
}
if (isset($request['events'])) {
    $rows = [];
    foreach ($request['events']['rows'] as $i => $event) {
        $rows[] = ['event_id' => (string) ($i + 1 + $request['events']['after_id'])]
            + array_map('strval', EventSerializer::row($event['type'], $event['entity_id'], $event['data'], $event['t']));
    }
    $feed = EventSerializer::feed(
        $rows,
        $request['events']['after_id'],
        $request['events']['limit'],
        0,
        $request['events']['statuses'] ?? []
    );
    $out['events'] = EventSerializer::json($feed);
}
if (isset($request['batch'])) {
    $results = [];
    foreach (BatchValidator::items($request['batch']) as $index => $item) {
        try {
            $normal = BatchValidator::item($index, $item);
            $results[] = BatchResult::make($index, $normal['id'], BatchResult::OK);
        } catch (InvalidBatchItem $exc) {
            $results[] = BatchResult::make($index, BatchValidator::clientId($item), BatchResult::INVALID, $exc->getMessage());
        }
    }
    $out['batch'] = EventSerializer::json(BatchResult::response($results));
}
foreach ($request['letters'] ?? [] as $case) {
    try {
        $out['letters'][] = StatusLetterPicker::pick($case['taken'], $case['keys'], $case['preferred']);
    } catch (\RuntimeException $exc) {
        $out['letters'][] = $exc->getMessage();
    }
}
foreach ($request['feed_params'] ?? [] as $case) {
    try {
        $out['feed_params'][] = EventSerializer::feedParams($case['params'], $case['acknowledged']);
    } catch (\InvalidArgumentException $exc) {
        $out['feed_params'][] = $exc->getMessage();
    }
}
foreach ($request['batch_bodies'] ?? [] as $body) {
    try {
        $out['batch_bodies'][] = count(BatchValidator::items($body));
    } catch (BatchRejected $exc) {
        $out['batch_bodies'][] = $exc->getMessage();
    }
}
if (isset($request['batch_items'])) {
    // Validation only, item by item, for any number of items (the 500 limit is checked by items()).
    foreach ($request['batch_items'] as $index => $item) {
        try {
            $normal = BatchValidator::item($index, $item);
            $out['batch_items'][] = ['code' => 'ok', 'id' => $normal['id'], 'item' => $normal];
        } catch (InvalidBatchItem $exc) {
            $out['batch_items'][] = ['code' => 'invalid', 'id' => BatchValidator::clientId($item), 'message' => $exc->getMessage()];
        }
    }
}
foreach ($request['mail_context'] ?? [] as $case) {
    try {
        $out['mail_context'][] = MailContext::build($case['kind'], $case['order'], $case['shipments'], $case['carriers'],
            $case['method'], $case['values'], new \DateTimeImmutable('@' . $case['now']));
    } catch (\InvalidArgumentException $exc) {
        $out['mail_context'][] = ['error' => $exc->getMessage()];
    }
}
foreach ($request['mail_request'] ?? [] as $body) {
    try {
        $parsed = MailRequest::parse($body);
        $out['mail_request'][] = [$parsed->orderId, $parsed->kind, $parsed->key, $parsed->values];
    } catch (\InvalidArgumentException $exc) {
        $out['mail_request'][] = ['error' => $exc->getMessage()];
    }
}
foreach ($request['return_params'] ?? [] as $params) {
    try {
        $out['return_params'][] = ReturnSerializer::listParams($params);
    } catch (\InvalidArgumentException $exc) {
        $out['return_params'][] = ['error' => $exc->getMessage()];
    }
}
foreach ($request['return_json'] ?? [] as $case) {
    $out['return_json'][] = ReturnSerializer::toJson($case['row'], $case['products'], $case['codes'], $case['reasons']);
}
echo json_encode($out, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES);
