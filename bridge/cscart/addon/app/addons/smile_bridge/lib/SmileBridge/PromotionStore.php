<?php

namespace SmileBridge;

/** Where PromotionService reads and writes: CS-Cart's tables in the add-on (includes/promotions.php), memory in tests. */
interface PromotionStore
{
    /** @return array<string, array{promotion_id:int, fingerprint:string}> campaign id => the add-on's row */
    public function managed(): array;

    /** @return array<string, mixed>|null the cscart_promotions row with its name in the default language */
    public function promotion(int $promotionId);

    /**
     * fn_update_promotion($data, $promotionId) (0 = create, every language gets the name), then the name written to
     * every language on update too.
     *
     * @param array<string, mixed> $data
     */
    public function write(array $data, int $promotionId): int;

    public function remember(string $campaignId, int $promotionId, string $fingerprint): void;

    /**
     * Take the add-on's promotion-writing lock (MySQL GET_LOCK, released at unlock() or when the request ends):
     * false when it was not free within the wait. Writes run one at a time: CS-Cart's fn_update_promotion() of a
     * new promotion rewrites the storefront links of every promotion, and two at once fail with a duplicate key
     * after the promotion row exists, which the bridge's retry would then create a second time (an orphan no
     * campaign id reaches, left active).
     */
    public function lock(): bool;

    public function unlock(): void;

    public function rewardPoints(): bool;
}
