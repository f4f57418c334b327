<?php
/**
 * Test helper: runs the add-on's real wake-up code (fn_smile_bridge_wake_up, includes/outbox.php) with the given
 * daemon URL and secret, under the FakeCsCart runtime. Usage: php wake_up_cli.php URL SECRET LAST_EVENT_ID [TIMES]
 * With TIMES, the add-on is installed (its params table exists) and TIMES wake-ups follow each other in the same
 * process; the pause the daemon asked for (429) is printed as paused_until.
 */

$addon = __DIR__ . '/../../bridge/cscart/addon';
require $addon . '/app/addons/smile_bridge/lib/autoload.php';
require $addon . '/tests/glue/FakeCsCart.php';
require $addon . '/app/addons/smile_bridge/init.php';
require $addon . '/app/addons/smile_bridge/func.php';

FakeDb::reset();
Tygh\Registry::$values['addons.smile_bridge.daemon_url'] = $argv[1];
Tygh\Registry::$values['addons.smile_bridge.hmac_secret'] = $argv[2];
$times = isset($argv[4]) ? (int) $argv[4] : 1;
if (isset($argv[4])) {
    FakeDb::$tables['smile_bridge_params'] = true;
}
$started = microtime(true);
for ($n = 0; $n < $times; $n++) {
    fn_smile_bridge_wake_up((int) $argv[3] + $n);
}
echo json_encode(['seconds' => microtime(true) - $started,
    'paused_until' => (int) (FakeDb::$params['wake_up.paused_until'] ?? 0), 'now' => time()]);
