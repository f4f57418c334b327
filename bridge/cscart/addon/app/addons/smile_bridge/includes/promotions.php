<?php
/**
 * Campaigns → promotions (docs/addon.md §10): the CS-Cart side of SmileBridge\PromotionService (tables, languages,
 * fn_update_promotion), the smile_bridge_weekdays promotion condition, and each order's per-promotion amounts in
 * fn_get_order_info() (GET /orders/:id and get_orders_data=1 rows) as "smile_bridge_promotions".
 */

use SmileBridge\PromotionAmounts;
use SmileBridge\PromotionService;
use SmileBridge\PromotionStore;
use SmileBridge\WeekdayCondition;
use Tygh\Languages\Languages;
use Tygh\Registry;

if (!defined('BOOTSTRAP')) {
    die('Access denied');
}

final class SmileBridgeCsCartPromotionStore implements PromotionStore
{
    private const LOCK = 'smile_bridge_promotions_write';

    public function __construct()
    {
        // An add-on upgraded in place (files replaced, not reinstalled) has not run addon.xml's install queries.
        db_query(
            'CREATE TABLE IF NOT EXISTS ?:smile_bridge_promotions ('
            . ' campaign_id varchar(64) NOT NULL, promotion_id int(11) unsigned NOT NULL,'
            . " fingerprint char(40) NOT NULL DEFAULT '', updated_at int(11) unsigned NOT NULL DEFAULT 0,"
            . ' PRIMARY KEY (campaign_id), UNIQUE KEY promotion_id (promotion_id)) ENGINE=InnoDB DEFAULT CHARSET=utf8'
        );
    }

    public function managed(): array
    {
        $rows = db_get_array('SELECT campaign_id, promotion_id, fingerprint FROM ?:smile_bridge_promotions');
        $out = [];
        foreach ($rows as $row) {
            $out[(string) $row['campaign_id']] = ['promotion_id' => (int) $row['promotion_id'], 'fingerprint' => (string) $row['fingerprint']];
        }
        return $out;
    }

    public function promotion(int $promotionId)
    {
        $row = db_get_row(
            'SELECT p.*, d.name FROM ?:promotions AS p LEFT JOIN ?:promotion_descriptions AS d'
            . ' ON d.promotion_id = p.promotion_id AND d.lang_code = ?s WHERE p.promotion_id = ?i',
            DESCR_SL,
            $promotionId
        );
        return empty($row) ? null : $row;
    }

    public function write(array $data, int $promotionId): int
    {
        if ($promotionId && array_keys($data) === ['status']) {
            // fn_update_promotion() would empty the conditions and dates of a partial write
            db_query('UPDATE ?:promotions SET status = ?s WHERE promotion_id = ?i', $data['status'], $promotionId);
            return $promotionId;
        }
        if (!$promotionId && fn_allowed_for('ULTIMATE')) {
            $data['company_id'] = (int) (Registry::get('runtime.company_id') ?: db_get_field('SELECT MIN(company_id) FROM ?:companies'));
        }
        $id = (int) fn_update_promotion($data, $promotionId, DESCR_SL);
        if ($id && $promotionId) {
            // an update writes one language only; campaigns.yaml's name is the name in every language
            foreach (array_keys(Languages::getAll()) as $lang) {
                db_query('UPDATE ?:promotion_descriptions SET name = ?s WHERE promotion_id = ?i AND lang_code = ?s', $data['name'], $id, $lang);
            }
        }
        return $id;
    }

    public function remember(string $campaignId, int $promotionId, string $fingerprint): void
    {
        db_query('REPLACE INTO ?:smile_bridge_promotions ?e', [
            'campaign_id' => $campaignId, 'promotion_id' => $promotionId, 'fingerprint' => $fingerprint, 'updated_at' => TIME,
        ]);
    }

    public function lock(): bool
    {
        return (int) db_get_field('SELECT GET_LOCK(?s, ?i)', self::LOCK, 30) === 1;
    }

    public function unlock(): void
    {
        db_get_field('SELECT RELEASE_LOCK(?s)', self::LOCK);
    }

    public function rewardPoints(): bool
    {
        return Registry::get('addons.reward_points.status') === 'A';
    }
}

function fn_smile_bridge_promotions(): PromotionService
{
    return new PromotionService(new SmileBridgeCsCartPromotionStore());
}

/** The smile_bridge_weekdays condition's value (schemas/promotions/schema.post.php): today in Japan, mon … sun. */
function fn_smile_bridge_promotion_weekday(): string
{
    return WeekdayCondition::today(TIME);
}

/**
 * Hook get_order_info: what each applied promotion gave the order, with the campaign id of the managed ones.
 *
 * @param array<string, mixed> $order
 */
function fn_smile_bridge_get_order_info(&$order, $additional_data): void
{
    if (empty($order) || !is_array($order) || empty($order['order_id'])) {
        return;  // no such order: anything added here would turn CS-Cart's 404 into a 200 with our fields
    }
    fn_smile_bridge_delivery_order_info($order);  // お届け希望日 / 時間帯 (includes/delivery.php)
    if (empty($order['promotions']) || !is_array($order['promotions'])) {
        $order['smile_bridge_promotions'] = [];
        return;
    }
    $campaigns = db_get_hash_single_array(
        'SELECT promotion_id, campaign_id FROM ?:smile_bridge_promotions WHERE promotion_id IN (?n)',
        ['promotion_id', 'campaign_id'],
        array_map('intval', array_keys($order['promotions']))
    );
    $order['smile_bridge_promotions'] = PromotionAmounts::of($order, $campaigns);
}
