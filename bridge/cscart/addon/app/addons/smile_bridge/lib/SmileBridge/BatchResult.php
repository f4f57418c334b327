<?php

namespace SmileBridge;

/**
 * Per-item result codes of POST /api/smile_bridge_batch, in request order.
 *
 *   ok         applied
 *   invalid    malformed item; message names the field; nothing of this item was applied
 *   not_found  the product or user id does not exist on this store
 *   failed     CS-Cart refused or failed while applying; message carries its reason; safe to retry
 */
final class BatchResult
{
    const OK = 'ok';
    const INVALID = 'invalid';
    const NOT_FOUND = 'not_found';
    const FAILED = 'failed';

    /**
     * @param string|int|null $id the client's item id, echoed back
     * @return array{index:int, id:string|int|null, code:string, message:string}
     */
    public static function make(int $index, $id, string $code, string $message = ''): array
    {
        return ['index' => $index, 'id' => $id, 'code' => $code, 'message' => $message];
    }

    /**
     * @param array<int, array{code:string}> $results
     * @return array{results:array, counts:array<string,int>}
     */
    public static function response(array $results): array
    {
        $counts = [self::OK => 0, self::INVALID => 0, self::NOT_FOUND => 0, self::FAILED => 0];
        foreach ($results as $result) {
            $counts[$result['code']]++;
        }
        return ['results' => array_values($results), 'counts' => $counts];
    }
}
