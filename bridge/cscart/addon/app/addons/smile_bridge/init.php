<?php
/**
 * Registers the add-on's hooks (handlers are fn_smile_bridge_<hook> in func.php).
 */

if (!defined('BOOTSTRAP')) {
    die('Access denied');
}

require_once __DIR__ . '/lib/autoload.php';

fn_register_hooks(
    // Event outbox (cscart.md §10.3, §10.6).
    'place_order_post',
    'change_order_status_post',
    'update_order',
    'delete_order',
    'update_profile',
    // The add-on's columns in REST list rows (§4.1, §5.2).
    'get_users',
    'get_orders',
    // Checkout: customer prices, the direct-ship surcharge line, the credit and direct-ship checks.
    'get_cart_product_data',
    'calculate_cart_post',
    'pre_place_order',
    // Campaigns: each applied promotion's amounts on the order (includes/promotions.php); お届け希望日 / 時間帯 from
    // CS-Cart.jp's fields when delivery_source is cscart_jp (includes/delivery.php).
    'get_order_info',
    // The Japanese customer mails: the add-on's templates for its statuses and the {{ smile.* }} values.
    'mailer_create_message_before',
    // Returns (返品) through CS-Cart's rma add-on: the event of a return request's status change.
    'rma_update_details_post'
);
