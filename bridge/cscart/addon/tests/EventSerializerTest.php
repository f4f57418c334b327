<?php

use PHPUnit\Framework\TestCase;
use SmileBridge\EventSerializer;

final class EventSerializerTest extends TestCase
{
    public function testRowKeepsOnlyTheSchemaKeysAndRoundTrips(): void
    {
        $row = EventSerializer::row('order.placed', 96, ['status' => 'O', 'user_id' => 4, 'total' => 1234.5, 'extra' => 'x'], 1767225600);
        $this->assertSame('order', $row['entity']);
        $this->assertSame('{"status":"O","user_id":4,"total":"1234.5"}', $row['payload']);
        $event = EventSerializer::fromRow(['event_id' => '17'] + array_map('strval', $row));
        $this->assertSame(17, $event['id']);
        $this->assertSame(96, $event['entity_id']);
        $this->assertSame(1767225600, $event['occurred_at']);
        $this->assertSame(
            '{"id":17,"type":"order.placed","entity":"order","entity_id":96,"occurred_at":1767225600,"data":{"status":"O","user_id":4,"total":"1234.5"}}',
            EventSerializer::json($event)
        );
    }

    public function testDeletedEventHasAnEmptyObject(): void
    {
        $row = EventSerializer::row('order.deleted', 5, [], 1);
        $this->assertSame('{}', $row['payload']);
        $this->assertSame('{}', EventSerializer::json(EventSerializer::fromRow(['event_id' => 1] + $row)['data']));
    }

    public function testUnknownTypeAndMissingKeysAreRefused(): void
    {
        try {
            EventSerializer::row('order.exploded', 1, [], 1);
            $this->fail('unknown type accepted');
        } catch (InvalidArgumentException $exc) {
            $this->assertStringContainsString('order.exploded', $exc->getMessage());
        }
        $this->expectExceptionMessage('status_to');
        EventSerializer::row('order.status_changed', 1, ['status_from' => 'O'], 1);
    }

    public function testFeedPagesAndReportsHasMore(): void
    {
        $rows = [];
        for ($id = 11; $id <= 14; $id++) {
            $rows[] = ['event_id' => (string) $id] + EventSerializer::row('order.updated', $id, ['status' => 'P'], 100);
        }
        $page = EventSerializer::feed($rows, 10, 3, 8);
        $this->assertSame([11, 12, 13], array_column($page['events'], 'id'));
        $this->assertSame(['after_id' => 10, 'limit' => 3, 'next_after_id' => 13, 'has_more' => true, 'acknowledged_id' => 8],
            array_slice($page['params'], 0, 5));
        $this->assertSame('{}', EventSerializer::json($page['params']['statuses']));
        $letters = EventSerializer::feed([], 0, 3, 0, ['hold' => 'H', 'shipped' => 'S'])['params']['statuses'];
        $this->assertSame(['hold' => 'H', 'shipped' => 'S'], $letters);
        $empty = EventSerializer::feed([], 20, 3, 8);
        $this->assertSame([20, false], [$empty['params']['next_after_id'], $empty['params']['has_more']]);
    }

    public function testFeedParamsDefaultToTheAcknowledgedPosition(): void
    {
        $this->assertSame(['after_id' => 8, 'limit' => 100], EventSerializer::feedParams([], 8));
        $this->assertSame(['after_id' => 0, 'limit' => 1000], EventSerializer::feedParams(['after_id' => '0', 'limit' => '5000'], 8));
        $this->expectException(InvalidArgumentException::class);
        EventSerializer::feedParams(['after_id' => '-1'], 0);
    }

    public function testWakeUpBody(): void
    {
        $this->assertSame('{"source":"smile_bridge","last_event_id":42,"sent_at":7}', EventSerializer::wakeUpBody(42, 7));
    }
}
