<?php

namespace SmileBridge;

/**
 * Signs the wake-up POST to the daemon.
 *
 * Header:  X-Smile-Bridge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>
 * The daemon recomputes the HMAC over the exact bytes it received, compares in constant time and rejects
 * timestamps more than the tolerance (300 s) away from its clock, which stops replays.
 * bridge/cscart/addon_protocol.py implements the same scheme.
 */
final class HmacSigner
{
    const HEADER = 'X-Smile-Bridge-Signature';
    const DEFAULT_TOLERANCE = 300;

    public static function sign(string $secret, string $body, int $timestamp): string
    {
        if ($secret === '') {
            throw new \InvalidArgumentException('the HMAC secret is empty; set it in the add-on settings');
        }
        return 't=' . $timestamp . ',v1=' . hash_hmac('sha256', $timestamp . '.' . $body, $secret);
    }

    public static function verify(string $secret, string $header, string $body, int $now, int $tolerance = self::DEFAULT_TOLERANCE): bool
    {
        if ($secret === '') {
            return false;
        }
        $timestamp = null;
        $signatures = [];
        foreach (explode(',', $header) as $part) {
            $pair = explode('=', trim($part), 2);
            if (count($pair) !== 2) {
                continue;
            }
            if ($pair[0] === 't' && ctype_digit($pair[1])) {
                $timestamp = (int) $pair[1];
            } elseif ($pair[0] === 'v1') {
                $signatures[] = $pair[1];
            }
        }
        if ($timestamp === null || !$signatures || abs($now - $timestamp) > $tolerance) {
            return false;
        }
        $expected = hash_hmac('sha256', $timestamp . '.' . $body, $secret);
        foreach ($signatures as $signature) {
            if (hash_equals($expected, strtolower($signature))) {
                return true;
            }
        }
        return false;
    }
}
