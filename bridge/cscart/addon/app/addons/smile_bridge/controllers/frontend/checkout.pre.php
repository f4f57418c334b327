<?php
/**
 * Stores the customer's checkout choices in the cart before core checkout handles the request: お届け希望日 / 時間帯
 * and 直送 + end recipient. They come with the place_order POST and, while the customer is still choosing, with the
 * lite checkout's shipping recalculation (GET checkout.checkout with the fields marked data-ca-shipping-field).
 * The surcharge and the checks run in the cart hooks (func.php).
 */

if (!defined('BOOTSTRAP')) {
    die('Access denied');
}

if ($_SERVER['REQUEST_METHOD'] === 'POST' || (isset($mode) && $mode === 'checkout')) {
    $cart = &Tygh::$app['session']['cart'];
    fn_smile_bridge_delivery_from_request($cart, $_REQUEST);  // お届け希望日 / 時間帯
    fn_smile_bridge_direct_ship_from_request($cart, $_REQUEST);
    unset($cart);
}
