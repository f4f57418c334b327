<?php

namespace SmileBridge;

/**
 * The promotions entity's logic (docs/addon.md §10): list the promotions the bridge manages with their usages and
 * whether they were edited by hand since the bridge wrote them; create or update one by campaign id (dry run:
 * answer what would be stored, write nothing). Never deletes: orders refer to their promotions.
 */
final class PromotionService
{
    /** @var PromotionStore */
    private $store;

    public function __construct(PromotionStore $store)
    {
        $this->store = $store;
    }

    /** @return array<string, mixed> */
    public function listing(): array
    {
        $rows = [];
        foreach ($this->store->managed() as $campaignId => $link) {
            $row = $this->row((string) $campaignId, $link);
            if ($row !== null) {
                $rows[] = $row;
            }
        }
        return ['promotions' => $rows, 'capabilities' => ['reward_points' => $this->store->rewardPoints()]];
    }

    /** @return array<string, mixed>|null */
    public function one(string $campaignId)
    {
        $managed = $this->store->managed();
        return isset($managed[$campaignId]) ? $this->row($campaignId, $managed[$campaignId]) : null;
    }

    /**
     * @param array{promotion_id:int, fingerprint:string} $link
     * @return array<string, mixed>|null
     */
    private function row(string $campaignId, array $link)
    {
        $promotion = $this->store->promotion((int) $link['promotion_id']);
        if ($promotion === null) {
            return null; // deleted in the admin: the bridge creates it again
        }
        return [
            'campaign_id' => $campaignId,
            'promotion_id' => (int) $link['promotion_id'],
            'name' => isset($promotion['name']) ? (string) $promotion['name'] : '',
            'status' => (string) $promotion['status'],
            'from_date' => (int) $promotion['from_date'],
            'to_date' => (int) $promotion['to_date'],
            'priority' => (int) $promotion['priority'],
            'number_of_usages' => (int) $promotion['number_of_usages'],
            'edited' => PromotionFingerprint::of($promotion) !== $link['fingerprint'],
        ];
    }

    /**
     * @param array<string, mixed> $body
     * @return array{status:int, data:array<string, mixed>}
     */
    public function put(string $campaignId, array $body): array
    {
        if (!preg_match('/^[a-z0-9][a-z0-9_\-]{0,63}$/', $campaignId)) {
            return ['status' => 400, 'data' => ['message' => "campaign id '$campaignId' must be lower case letters, digits, - and _ (at most 64)"]];
        }
        if (!$this->store->lock()) {
            return ['status' => 503, 'data' => ['message' => "campaign $campaignId: another promotion write is still running, try again"]];
        }
        try {
            return $this->putLocked($campaignId, $body);
        } finally {
            $this->store->unlock();
        }
    }

    /**
     * @param array<string, mixed> $body
     * @return array{status:int, data:array<string, mixed>}
     */
    private function putLocked(string $campaignId, array $body): array
    {
        $dryRun = !empty($body['dry_run']);
        unset($body['dry_run']);
        $managed = $this->store->managed();
        $promotionId = isset($managed[$campaignId]) ? (int) $managed[$campaignId]['promotion_id'] : 0;
        if ($promotionId && $this->store->promotion($promotionId) === null) {
            $promotionId = 0; // deleted in the admin: create it again
        }
        try {
            $data = PromotionBuilder::build($body, $promotionId === 0, $this->store->rewardPoints());
        } catch (InvalidPromotion $exc) {
            return ['status' => 400, 'data' => ['message' => "campaign $campaignId: " . $exc->getMessage()]];
        }
        if ($dryRun) {
            return ['status' => 200, 'data' => ['campaign_id' => $campaignId, 'promotion_id' => $promotionId,
                'dry_run' => true, 'created' => $promotionId === 0, 'promotion' => $data]];
        }
        $created = $promotionId === 0;
        $promotionId = $this->store->write($data, $promotionId);
        if (!$promotionId) {
            return ['status' => 500, 'data' => ['message' => "campaign $campaignId: fn_update_promotion() stored nothing"]];
        }
        $stored = $this->store->promotion($promotionId);
        $this->store->remember($campaignId, $promotionId, PromotionFingerprint::of($stored === null ? [] : $stored));
        return ['status' => $created ? 201 : 200, 'data' => ['campaign_id' => $campaignId, 'promotion_id' => $promotionId,
            'created' => $created, 'promotion' => $data]];
    }
}
