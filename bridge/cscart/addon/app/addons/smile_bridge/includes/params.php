<?php
/**
 * Settings (admin, addon.xml) and params (the add-on's own key/value table: status letters, the events
 * acknowledgement position, and checkout values pushed by the daemon, which win over the admin defaults).
 */

use SmileBridge\CreditCheck;
use SmileBridge\Decimal;
use SmileBridge\Rounding;
use Tygh\Registry;

if (!defined('BOOTSTRAP')) {
    die('Access denied');
}

/** @return mixed */
function fn_smile_bridge_setting(string $name, $default = '')
{
    $value = Registry::get('addons.smile_bridge.' . $name);
    return $value === null ? $default : $value;
}

function fn_smile_bridge_get_param(string $name, string $default = ''): string
{
    $value = db_get_field('SELECT value FROM ?:smile_bridge_params WHERE name = ?s', $name);
    return ($value === null || $value === false) ? $default : (string) $value;
}

function fn_smile_bridge_set_param(string $name, string $value): void
{
    db_query('REPLACE INTO ?:smile_bridge_params ?e', ['name' => $name, 'value' => $value]);
}

/**
 * Direct-ship surcharge parameters: the daemon's pushed values (batch kind "settings"), else the admin setting.
 *
 * @return array{rate:Decimal, rounding:string, unit:Decimal, payment_ids:int[]}
 */
function fn_smile_bridge_direct_ship_params(): array
{
    $rate = fn_smile_bridge_get_param('direct_ship_rate', (string) fn_smile_bridge_setting('direct_ship_rate', '10'));
    $rounding = fn_smile_bridge_get_param('direct_ship_rounding', Rounding::DOWN);
    $unit = fn_smile_bridge_get_param('direct_ship_unit', '1');
    try {
        $rate = Decimal::of(trim(str_replace('%', '', $rate)));
    } catch (\InvalidArgumentException $exc) {
        $rate = Decimal::of(10);
    }
    try {
        $unit = Decimal::of($unit);
    } catch (\InvalidArgumentException $exc) {
        $unit = Decimal::of(1);
    }
    return [
        'rate' => $rate,
        'rounding' => Rounding::isValid($rounding) ? $rounding : Rounding::DOWN,
        'unit' => $unit->sign() > 0 ? $unit : Decimal::of(1),
        'payment_ids' => CreditCheck::parseIds((string) fn_smile_bridge_setting('direct_ship_payment_ids', '')),
    ];
}
