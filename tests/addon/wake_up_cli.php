<?php
/**
 * Test helper: runs the add-on's real wake-up code (fn_smile_bridge_wake_up, includes/outbox.php) with the given
 * daemon URL and secret, under the FakeCsCart runtime. Usage: php wake_up_cli.php URL SECRET LAST_EVENT_ID
 */

$addon = __DIR__ . '/../../bridge/cscart/addon';
require $addon . '/app/addons/smile_bridge/lib/autoload.php';
require $addon . '/tests/glue/FakeCsCart.php';
require $addon . '/app/addons/smile_bridge/init.php';
require $addon . '/app/addons/smile_bridge/func.php';

FakeDb::reset();
Tygh\Registry::$values['addons.smile_bridge.daemon_url'] = $argv[1];
Tygh\Registry::$values['addons.smile_bridge.hmac_secret'] = $argv[2];
$started = microtime(true);
fn_smile_bridge_wake_up((int) $argv[3]);
echo json_encode(['seconds' => microtime(true) - $started]);
