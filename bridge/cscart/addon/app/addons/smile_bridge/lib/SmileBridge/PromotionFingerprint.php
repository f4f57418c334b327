<?php

namespace SmileBridge;

/**
 * A hash of a stored promotion's managed columns, kept beside the campaign id when the bridge writes it. When the
 * promotion read back later hashes differently, someone changed it in the admin: the bridge reports it and writes
 * campaigns.yaml's version again.
 */
final class PromotionFingerprint
{
    const COLUMNS = ['name', 'status', 'from_date', 'to_date', 'priority', 'stop_other_rules', 'zone', 'conditions', 'bonuses'];

    /** @param array<string, mixed> $row a cscart_promotions row joined with its description's name */
    public static function of(array $row): string
    {
        $parts = [];
        foreach (self::COLUMNS as $column) {
            $value = array_key_exists($column, $row) ? $row[$column] : '';
            if (is_array($value)) {
                $value = serialize($value);
            }
            $parts[] = $column . '=' . (string) $value;
        }
        return sha1(implode("\n", $parts));
    }
}
