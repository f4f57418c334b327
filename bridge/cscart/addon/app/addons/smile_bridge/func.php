<?php
/**
 * CS-Cart glue of the smile_bridge add-on. The rules themselves live in lib/SmileBridge (no CS-Cart dependency,
 * unit-tested); the files below only read and write CS-Cart data and call those classes.
 */

if (!defined('BOOTSTRAP')) {
    die('Access denied');
}

// CS-Cart's installer loads func.php but not init.php: the classes install.php uses must be loadable here too.
require_once __DIR__ . '/lib/autoload.php';
require_once __DIR__ . '/includes/params.php';
require_once __DIR__ . '/includes/install.php';
require_once __DIR__ . '/includes/outbox.php';
require_once __DIR__ . '/includes/fields.php';
require_once __DIR__ . '/includes/checkout.php';
require_once __DIR__ . '/includes/batch.php';
require_once __DIR__ . '/includes/promotions.php';
require_once __DIR__ . '/includes/delivery.php';
require_once __DIR__ . '/includes/mails.php';
require_once __DIR__ . '/includes/returns.php';
