<?php
/**
 * Stores the customer's direct-ship choice (直送 + end recipient) in the cart before core checkout handles the
 * request; the surcharge and the checks run in the cart hooks (func.php).
 */

if (!defined('BOOTSTRAP')) {
    die('Access denied');
}

if ($_SERVER['REQUEST_METHOD'] === 'POST') {
    fn_smile_bridge_delivery_from_request(Tygh::$app['session']['cart'], $_REQUEST);  // お届け希望日 / 時間帯
}

if ($_SERVER['REQUEST_METHOD'] === 'POST' && isset($_REQUEST['smile_direct_ship'])) {
    $cart = &Tygh::$app['session']['cart'];
    $cart['smile_direct_ship'] = $_REQUEST['smile_direct_ship'] === 'Y' ? 'Y' : 'N';
    $recipient = isset($_REQUEST['smile_direct_ship_recipient']) ? (string) $_REQUEST['smile_direct_ship_recipient'] : '';
    // CS-Cart's utf8 tables store characters outside the BMP as "?" (cscart.md §4.1): drop them here, visibly.
    $recipient = preg_replace('/[\x{10000}-\x{10FFFF}\x00-\x1F]/u', '', $recipient);
    $cart['smile_direct_ship_recipient'] = mb_substr(trim((string) $recipient), 0, 255, 'UTF-8');
    unset($cart);
}
