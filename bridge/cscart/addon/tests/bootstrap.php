<?php
// The pure classes need nothing from CS-Cart: load them with the add-on's own autoloader.
require __DIR__ . '/../app/addons/smile_bridge/lib/autoload.php';
