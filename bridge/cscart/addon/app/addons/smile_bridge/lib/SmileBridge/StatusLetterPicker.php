<?php

namespace SmileBridge;

/**
 * Picks letters for the add-on's order statuses. CS-Cart has 26 letters per store; N (incomplete) and
 * T (parent order) are reserved and any letter already in use belongs to someone else.
 */
final class StatusLetterPicker
{
    const RESERVED = ['N', 'T'];

    /**
     * @param string[] $taken letters already used by order statuses on this store
     * @param string[] $keys one key per status to create (e.g. shipping_instructed)
     * @param array<string, string> $preferred key => preferred letter, used when free
     * @return array<string, string> key => letter
     */
    public static function pick(array $taken, array $keys, array $preferred = []): array
    {
        $used = array_fill_keys(array_map('strtoupper', $taken), true);
        foreach (self::RESERVED as $letter) {
            $used[$letter] = true;
        }
        $chosen = [];
        foreach ($keys as $key) {
            $letter = isset($preferred[$key]) ? strtoupper($preferred[$key]) : '';
            if ($letter === '' || isset($used[$letter]) || !preg_match('/^[A-Z]$/', $letter)) {
                $letter = self::firstFree($used);
            }
            if ($letter === null) {
                throw new \RuntimeException(
                    'no free order status letter left for "' . $key . '" (26 letters, N and T reserved); '
                    . 'delete an unused custom status in Administration → Order statuses and install again'
                );
            }
            $used[$letter] = true;
            $chosen[$key] = $letter;
        }
        return $chosen;
    }

    /** @param array<string, bool> $used */
    private static function firstFree(array $used)
    {
        foreach (range('A', 'Z') as $letter) {
            if (!isset($used[$letter])) {
                return $letter;
            }
        }
        return null;
    }
}
