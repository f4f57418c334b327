<?php
/**
 * Where a stock-only batch item's time goes on a real CS-Cart (issue 14): run from the store root as the web user,
 *
 *     cd /opt/cscart && runuser -u www-data -- php /path/to/bench/addon_item_profile.php [N]
 *
 * It bootstraps the store as admin.php does and, on N existing products (default 200), times a stock write through
 * fn_update_product() (what the batch did), then each piece fn_update_product runs for such a write, then the
 * add-on's lean stock path. Every product's amount is put back afterwards. Prints one JSON object.
 */

define('AREA', 'A');
define('ACCOUNT_TYPE', 'admin');
require getcwd() . '/init.php';

$n = isset($argv[1]) ? max(1, (int) $argv[1]) : 200;
$ids = db_get_fields('SELECT product_id FROM ?:products ORDER BY product_id LIMIT ?i', $n);
$before = db_get_hash_single_array('SELECT product_id, amount FROM ?:products WHERE product_id IN (?n)', ['product_id', 'amount'], $ids);

function smile_profile_ms(callable $fn, array $ids): float
{
    $started = microtime(true);
    foreach ($ids as $i => $id) {
        $fn((int) $id, $i);
    }
    return round((microtime(true) - $started) * 1000 / count($ids), 3);
}

$empty = ['product_features' => [], 'add_new_variant' => []];
$out = ['products' => count($ids), 'ms_per_item' => []];
$out['ms_per_item']['fn_update_product (amount only)'] = smile_profile_ms(static function ($id, $i) {
    fn_update_product(['amount' => 100 + $i % 7], $id, DESCR_SL);
}, $ids);
$out['ms_per_item']['  fn_update_product_categories'] = smile_profile_ms(static function ($id) use ($empty) {
    fn_update_product_categories($id, $empty, false);
}, $ids);
$out['ms_per_item']['  fn_update_product_features_value'] = smile_profile_ms(static function ($id) {
    fn_update_product_features_value($id, [], [], DESCR_SL);
}, $ids);
$out['ms_per_item']['  fn_check_and_update_product_sharing'] = smile_profile_ms(static function ($id) {
    fn_check_and_update_product_sharing($id);
}, $ids);
$out['ms_per_item']['  hook update_product_post (add-ons: seo, searchanise, bestsellers, …)'] = smile_profile_ms(static function ($id) {
    $data = ['amount' => 5];
    $create = false;
    $lang = DESCR_SL;
    fn_set_hook('update_product_post', $data, $id, $lang, $create);
}, $ids);
$out['ms_per_item']['  fn_log_event'] = smile_profile_ms(static function ($id) {
    fn_log_event('products', 'update', ['product_id' => $id]);
}, $ids);
if (function_exists('fn_smile_bridge_batch_set_stock')) {
    $out['ms_per_item']['smile_bridge lean stock path'] = smile_profile_ms(static function ($id, $i) {
        fn_smile_bridge_batch_set_stock($id, 200 + $i % 7);
    }, $ids);
}
foreach ($before as $id => $amount) {
    db_query('UPDATE ?:products SET amount = ?i WHERE product_id = ?i', $amount, $id);
}
echo json_encode($out, JSON_PRETTY_PRINT | JSON_UNESCAPED_UNICODE), "\n";
