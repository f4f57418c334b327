<?php
/**
 * Autoloader for the add-on's pure classes (namespace SmileBridge\, files in lib/SmileBridge/).
 * They have no CS-Cart dependency, so PHPUnit loads them with this file alone.
 */

spl_autoload_register(static function ($class) {
    $prefix = 'SmileBridge\\';
    if (strncmp($class, $prefix, strlen($prefix)) !== 0) {
        return;
    }
    $relative = str_replace('\\', '/', substr($class, strlen($prefix)));
    $file = __DIR__ . '/SmileBridge/' . $relative . '.php';
    if (is_file($file)) {
        require $file;
    }
});
