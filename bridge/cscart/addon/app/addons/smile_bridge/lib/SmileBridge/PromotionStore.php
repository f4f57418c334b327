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

    public function rewardPoints(): bool;
}
