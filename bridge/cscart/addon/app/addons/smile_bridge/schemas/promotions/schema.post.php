<?php
/**
 * The add-on's promotion condition: smile_bridge_weekdays ("in" a list of mon … sun, today in Japan). Core has no
 * weekday condition; campaigns.yaml's conditions.weekdays compiles to this one.
 */

if (!defined('BOOTSTRAP')) {
    die('Access denied');
}

$schema['conditions']['smile_bridge_weekdays'] = [
    'operators' => ['in'],
    'type' => 'input',
    'field_function' => ['fn_smile_bridge_promotion_weekday'],
    'zones' => ['cart'],
];

return $schema;
